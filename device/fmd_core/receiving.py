"""Receiving a delivery: each pack against the delivery note, and the note's tally (issue 17).

Pure and portable (CPython and MicroPython). The shell (``fmd_terminal.receiving``) reads the note and
hands its lines here as ``NoteEntry`` (product code as digits, quantity, batch or None, expiry as ISO
``YYYY-MM-DD`` or None); ``Receipt.check`` then decides, for each scanned pack, which line it belongs
to and what differs from the note:

  WRONG_PRODUCT      no line of the note has this product code (an unexpected product: amber)
  QUANTITY_EXCEEDED  every line of the product already has its quantity (the pack is extra)
  BATCH_DIFFERS      the note names a batch and the pack carries another
  EXPIRY_DIFFERS     the note names an expiry and the pack carries another
  SHORT_EXPIRY       the pack expires in fewer than ``short_expiry_days`` days (the site's threshold)
  ALREADY_SCANNED    this pack (product code and serial) was scanned earlier in the session: not
                     counted again, nothing sent again

A pack is counted on its line unless it is extra or already scanned. Where the site decommissions on
receipt (Art. 25(2) of Regulation (EU) 2016/161 lets a hospital pharmacy do so), only a pack that
matches its line without any difference is decommissioned (``Check.decommission``): an unexpected,
extra, different or short-dated pack is verified only, since a decommissioned pack can no longer be
sent back to the wholesaler.

Product codes compare as GTIN-14: a CIP13 on the note is the GTIN ``0`` + CIP13 the pack carries.
A pack's expiry with day ``00`` (GS1 General Specifications 3.4.5: the month's end) is decoded to the
month's last day, which is also what a note's ``MM/AAAA`` means.

``summarise`` turns the session's packs and their final answers into the note's tally, line by line:
received (the service accepted), pending (no answer yet), refused (scanned on the line, not accepted:
red or doubtful answer, local refusal), missing (never scanned), extra (beyond the quantity), the
differences seen, and the alert codes; then one row per unexpected product.
"""

WRONG_PRODUCT = "wrong_product"
QUANTITY_EXCEEDED = "quantity_exceeded"
BATCH_DIFFERS = "batch_differs"
EXPIRY_DIFFERS = "expiry_differs"
SHORT_EXPIRY = "short_expiry"
ALREADY_SCANNED = "already_scanned"

PROBLEMS = (WRONG_PRODUCT, QUANTITY_EXCEEDED, ALREADY_SCANNED, BATCH_DIFFERS, EXPIRY_DIFFERS, SHORT_EXPIRY)

# A pack's state in the tally, from its final answer
ACCEPTED = "accepted"  # green: the service accepted it
REFUSED = "refused"  # red, or an answer that is not an acceptance (amber), or a local refusal
PENDING = "pending"  # recorded, no answer yet (offline, awaiting)


def gtin14(code):
    """A product code as GTIN-14 digits: a CIP13 / EAN-13 gets its leading ``0``."""
    return "0" + code if len(code) == 13 else code


def day_number(iso):
    """Days since 0000-03-01 of an ISO date (a proleptic Gregorian count; H. Hinnant's days_from_civil)."""
    year, month, day = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
    if month <= 2:
        year -= 1
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy


class NoteEntry:
    """One line of the note as the checks need it. Treated as immutable."""

    __slots__ = ("product_code", "quantity", "batch", "expiry", "label")

    def __init__(self, product_code, quantity, batch=None, expiry=None, label=""):
        self.label = label  # the note's designation, for the screen ("Doliprane 1000 : 38/40")
        self.product_code = gtin14(product_code)
        self.quantity = quantity
        self.batch = batch
        self.expiry = expiry

    def __repr__(self):
        return "NoteEntry(%r, %r, %r, %r)" % (self.product_code, self.quantity, self.batch, self.expiry)


class Check:
    """A pack against the note: ``line`` (index in the note, None for an unexpected product),
    ``problems`` (a tuple of the constants above), ``counted`` packs now on that line of ``quantity``,
    ``decommission`` (whether a site that decommissions on receipt may decommission this one), ``label``
    (the line's designation, "" for an unexpected product)."""

    __slots__ = ("line", "problems", "counted", "quantity", "decommission", "label")

    def __init__(self, line, problems, counted, quantity, decommission, label=""):
        self.label = label
        self.line = line
        self.problems = tuple(problems)
        self.counted = counted
        self.quantity = quantity
        self.decommission = decommission

    @property
    def sent(self):
        """Whether the pack is recorded and sent at all (not when it was already scanned)."""
        return ALREADY_SCANNED not in self.problems

    def __repr__(self):
        return "Check(line=%r, %r, %r/%r)" % (self.line, self.problems, self.counted, self.quantity)


class Receipt:
    """The session's tally: packs counted per note line, the packs already scanned."""

    def __init__(self, entries, short_expiry_days=0):
        self.entries = tuple(entries)
        self.short_expiry_days = short_expiry_days
        self.counted = [0] * len(self.entries)
        self._seen = {}  # pack key -> its Check

    def remaining(self, line):
        return self.entries[line].quantity - self.counted[line]

    def check(self, product_code, pack_key, batch, expiry, today=None):
        """Where the pack goes and what differs. ``expiry`` and ``today`` are ISO dates (None: unknown
        or untrusted clock: no short-expiry check)."""
        earlier = self._seen.get(pack_key)
        if earlier is not None:
            counted = self.counted[earlier.line] if earlier.line is not None else 0
            return Check(earlier.line, (ALREADY_SCANNED,), counted, earlier.quantity, False, earlier.label)
        code = gtin14(product_code)
        candidates = [i for i, e in enumerate(self.entries) if e.product_code == code]
        problems = []
        if not candidates:
            line = None
            problems.append(WRONG_PRODUCT)
        else:
            line = self._line(candidates, batch, expiry)
            entry = self.entries[line]
            if self.counted[line] >= entry.quantity:
                problems.append(QUANTITY_EXCEEDED)
            if entry.batch is not None and batch != entry.batch:
                problems.append(BATCH_DIFFERS)
            if entry.expiry is not None and expiry != entry.expiry:
                problems.append(EXPIRY_DIFFERS)
        if self._short(expiry, today):
            problems.append(SHORT_EXPIRY)
        return self._note(pack_key, line, problems)

    def restore(self, pack_key, line, problems):
        """A pack checked before a restart (its ``line`` and ``problems`` as that check found them), put
        back as ``check`` left it: counted on its line unless it was extra, and known, so scanning it
        again is ALREADY_SCANNED, never a second count. Returns its Check."""
        if line is not None and not 0 <= line < len(self.entries):
            raise ValueError("line %r not in the note" % (line,))
        return self._note(pack_key, line, problems)

    def _note(self, pack_key, line, problems):
        """The pack counted on its ``line`` (unless it exceeds it or is extra) and remembered, so that
        scanning it again is ALREADY_SCANNED; its Check."""
        if line is not None and QUANTITY_EXCEEDED not in problems:
            self.counted[line] += 1
        entry = self.entries[line] if line is not None else NoteEntry("", 0)
        result = Check(line, problems, self.counted[line] if line is not None else 0, entry.quantity,
                       not problems, entry.label)
        self._seen[pack_key] = result
        return result

    def _line(self, candidates, batch, expiry):
        """The first line of the product with room that matches batch and expiry, else the first with
        room, else the first (which the pack exceeds)."""
        room = [i for i in candidates if self.counted[i] < self.entries[i].quantity]
        for i in room:
            entry = self.entries[i]
            if entry.batch in (None, batch) and entry.expiry in (None, expiry):
                return i
        return room[0] if room else candidates[0]

    def _short(self, expiry, today):
        if not self.short_expiry_days or not expiry or not today:
            return False
        return day_number(expiry) - day_number(today) < self.short_expiry_days


def state_of(light, answered):
    """A pack's state in the tally from its last verdict: green is accepted; no answer yet is pending;
    anything else (red, or an amber answer such as a local refusal) is refused."""
    if light == "green":
        return ACCEPTED
    if not answered:
        return PENDING
    return REFUSED


def summarise(entries, packs):
    """The note's tally. ``packs``: (line, problems, product_code, state, alert_code) per pack sent in
    the session. Returns one dict per note line (keys ``line``, ``product_code``, ``ordered``,
    ``received``, ``pending``, ``refused``, ``missing``, ``extra``, ``batch_differs``,
    ``expiry_differs``, ``short_expiry``, ``alerts``), then one per unexpected product (``line`` None,
    ``ordered`` 0, every pack ``extra``)."""
    rows = []
    for i, entry in enumerate(entries):
        rows.append(_row(i, entry.product_code, entry.quantity))
    unexpected = {}
    for line, problems, product_code, state, alert_code in packs:
        if line is None:
            code = gtin14(product_code)
            row = unexpected.get(code)
            if row is None:
                row = unexpected[code] = _row(None, code, 0)
        else:
            row = rows[line]
        extra = line is None or QUANTITY_EXCEEDED in problems
        if extra:
            row["extra"] += 1
        else:
            row[state] += 1
        for problem in (BATCH_DIFFERS, EXPIRY_DIFFERS, SHORT_EXPIRY):
            if problem in problems:
                row[problem] += 1
        if alert_code and alert_code not in row["alerts"]:
            row["alerts"].append(alert_code)
    for row in rows:
        row["missing"] = max(0, row["ordered"] - row[ACCEPTED] - row[PENDING] - row[REFUSED])
    return rows + [unexpected[code] for code in sorted(unexpected)]


def _row(line, product_code, ordered):
    return {"line": line, "product_code": product_code, "ordered": ordered, ACCEPTED: 0, PENDING: 0,
            REFUSED: 0, "missing": 0, "extra": 0, BATCH_DIFFERS: 0, EXPIRY_DIFFERS: 0, SHORT_EXPIRY: 0,
            "alerts": []}
