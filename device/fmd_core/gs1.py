"""GS1 element strings: application identifiers, their values and the rules between them.

Rules implemented (GS1 General Specifications, GS1 Barcode Syntax Dictionary; PACK-CODES.md,
"GS1 rules"):

- An AI is found by its first 2, 3 or 4 digits in the generated table (``ai_table``); AIs are
  prefix-free, so the first hit is the AI (GenSpecs 3.2). No hit is ``unknown_ai``.
- Predefined-length AIs (flag ``*``, GenSpecs Figure 7.8.4-2) take exactly their length and need no
  separator; a GS after one is tolerated. Any other value ends at GS or at the end of the data
  (GenSpecs 7.8.4).
- Each value is checked component by component against the dictionary's specification: length,
  character set (``N`` digits, ``X`` set 82, ``Y`` set 39, ``Z`` base64url; GenSpecs 7.11), then
  every linter the dictionary names for the component (``fmd_core.linters``: check digits, dates,
  country and currency codes, IBAN, check character pairs, company prefix, percent-encoding,
  coupons, ...; GS1 Barcode Syntax Dictionary and Syntax Tests). A non-digit in a date or time
  component is ``invalid_date``.
- The same AI twice with the same value is accepted, with another value it is ``duplicate_ai``
  (GenSpecs 4.14.1); ``ex=`` pairs are ``invalid_ai_combination`` and ``req=`` companions missing are
  ``missing_*`` (Syntax Dictionary attributes; GenSpecs 4.14).
"""

from fmd_core import result as R
from fmd_core.ai_table import AI_TABLE
from fmd_core.linters import DATE_LINTERS, LINTERS
from fmd_core.quoting import quote

GS = "\x1d"

DIGITS = frozenset("0123456789")
# GenSpecs Figure 7.11-1, character set 82.
CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# GenSpecs Figure 7.11-2, character set 39.
CSET39 = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# RFC 4648 base64url (Syntax Dictionary type Z), with "=" padding.
CSET64 = frozenset("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz=")
_CHARSETS = {"N": DIGITS, "X": CSET82, "Y": CSET39, "Z": CSET64}
_CHARSET_NAMES = {"N": "digits", "X": "GS1 character set 82", "Y": "GS1 character set 39", "Z": "base64url"}

# FMD AIs (Reg. 2016/161 Art. 4; PACK-CODES.md): product code, serial, batch, expiry, NHRN.
AI_GTIN = "01"
AI_SERIAL = "21"
AI_BATCH = "10"
AI_EXPIRY = "17"
NHRN_AIS = ("710", "711", "712", "713", "714", "715", "716", "717")
FMD_AIS = (AI_GTIN, AI_SERIAL, AI_BATCH, AI_EXPIRY) + NHRN_AIS
_MISSING = {
    AI_GTIN: R.MISSING_PRODUCT_CODE,
    AI_SERIAL: R.MISSING_SERIAL,
    AI_BATCH: R.MISSING_BATCH,
    AI_EXPIRY: R.MISSING_EXPIRY,
}


def _build_rules():
    """Per AI, precomputed at import: (fixed length or 0, components, only_x_max or 0, req,
    exclusive AIs, exclusive patterns with ``n``); a component is (type, min, max, optional,
    linter functions, is a date or time)."""
    rules = {}
    for ai, entry in AI_TABLE.items():
        predefined, _dl, table_components, req, ex, _dlpkey, _title = entry
        components = []
        for kind, low, high, optional, names in table_components:
            dated = False
            for name in names:
                if name in DATE_LINTERS:
                    dated = True
            components.append((kind, low, high, optional, tuple(LINTERS[n] for n in names), dated))
        components = tuple(components)
        fixed = components[0][2] if predefined else 0
        simple_x = 0
        if len(components) == 1 and components[0][0] == "X" and not components[0][4]:
            simple_x = components[0][2]
        exact = tuple(pattern for pattern in ex if pattern[-1] != "n")
        wild = tuple(pattern for pattern in ex if pattern[-1] == "n")
        rules[ai] = (fixed, components, simple_x, req, exact, wild)
    return rules


RULES = _build_rules()


def find_ai(data: str, pos: int):
    """The AI at ``data[pos:]`` (2, 3 or 4 digits looked up in the table), or None."""
    ai = data[pos : pos + 2]
    if ai in RULES:
        return ai
    ai = data[pos : pos + 3]
    if ai in RULES:
        return ai
    ai = data[pos : pos + 4]
    if ai in RULES:
        return ai
    return None


def check_value(ai: str, value: str, current_year: int) -> None:
    """Check one AI's value against its specification; raise ``Rejection`` when it fails."""
    rule = RULES[ai]
    if not value:
        raise R.Rejection(R.EMPTY_VALUE, "AI (%s) has an empty value" % ai, ai)
    simple_x = rule[2]
    if simple_x:
        # Fast path: one X component without linter (batch, serial, NHRN, 240, 91-99, ...).
        if len(value) > simple_x:
            raise R.Rejection(
                R.TOO_LONG,
                "AI (%s) value %s has %d characters, at most %d allowed" % (ai, quote(value), len(value), simple_x),
                ai,
            )
        if not CSET82.issuperset(value):
            _raise_charset(ai, value, "X")
        return
    components = rule[1]
    pos = 0
    n = len(value)
    all_fixed = True
    for kind, low, high, optional, linters, dated in components:
        if low != high or optional:
            all_fixed = False
        if pos >= n:
            if optional:
                break
            raise R.Rejection(
                R.BAD_LENGTH,
                "AI (%s) value %s is %d characters, too short for its format" % (ai, quote(value), n),
                ai,
            )
        part = value[pos : pos + high]
        if len(part) < low:
            raise R.Rejection(
                R.BAD_LENGTH,
                "AI (%s) value %s has %d characters, expected %d" % (ai, quote(value), n, pos + low),
                ai,
            )
        pos += len(part)
        if not _CHARSETS[kind].issuperset(part):
            _raise_charset(ai, part, kind, dated)
        for linter in linters:
            problem = linter(part, current_year)
            if problem:
                raise R.Rejection(problem[0], "AI (%s) %s" % (ai, problem[1]), ai)
    if pos < n:
        if all_fixed:
            raise R.Rejection(
                R.MISSING_SEPARATOR,
                "AI (%s) takes %d characters but %s follows without a group separator"
                % (ai, pos, quote(value[pos:])),
                ai,
            )
        raise R.Rejection(
            R.TOO_LONG, "AI (%s) value %s has %d characters, at most %d allowed" % (ai, quote(value), n, pos), ai
        )


def _raise_charset(ai: str, value: str, kind: str, dated=False):
    """``bad_charset`` naming the AI and the first character outside the set; in a date or time
    component a non-digit is ``invalid_date`` (it cannot be read as a date)."""
    allowed = _CHARSETS[kind]
    bad = ""
    for char in value:
        if char not in allowed:
            bad = char
            break
    if dated:
        raise R.Rejection(
            R.INVALID_DATE, "AI (%s) date %s contains %s, expected only digits" % (ai, quote(value), quote(bad)), ai
        )
    raise R.Rejection(
        R.BAD_CHARSET,
        "AI (%s) value %s contains %s, expected only %s" % (ai, quote(value), quote(bad), _CHARSET_NAMES[kind]),
        ai,
    )


def parse_element_string(data: str, current_year: int):
    """Split and check a GS1 element string (without symbology identifier, GS as separator).

    Returns ``(elements, last_ai)``: a dict AI -> value and the AI whose value ran to the end of the
    data without a separator ("" if none). Raises ``Rejection``.
    """
    if data[:1] == GS:
        data = data[1:]  # a leading GS is the first-position FNC1
    terminated = data[-1:] == GS
    if terminated:
        data = data[:-1]  # a GS after the last element is ignored (but it did end that element)
    n = len(data)
    if not n:
        raise R.Rejection(R.NOT_A_PACK_CODE, "there is no element string after the symbology identifier")
    elements: dict = {}
    pos = 0
    last_ai = ""
    while pos < n:
        ai = find_ai(data, pos)
        if ai is None:
            if n - pos < 2 and data[pos] in DIGITS:
                raise R.Rejection(R.TRUNCATED, "the data ends with %s, an incomplete AI" % quote(data[pos:]))
            raise R.Rejection(
                R.UNKNOWN_AI, "%s at position %d does not start with a GS1 AI" % (quote(data[pos : pos + 4]), pos)
            )
        pos += len(ai)
        fixed = RULES[ai][0]
        if fixed:
            end = pos + fixed
            value = data[pos:end]
            if GS in value:
                value = value[: value.index(GS)]
                raise R.Rejection(
                    R.BAD_LENGTH,
                    "AI (%s) takes %d digits but has %d (%s) before a separator"
                    % (ai, fixed, len(value), quote(value)),
                    ai,
                )
            if len(value) < fixed:
                raise R.Rejection(
                    R.TRUNCATED,
                    "AI (%s) takes %d digits but the data ends after %d (%s)"
                    % (ai, fixed, len(value), quote(value)),
                    ai,
                )
            pos = end
            if pos < n and data[pos] == GS:
                pos += 1
        else:
            end = data.find(GS, pos)
            if end < 0:
                end = n
                if not terminated:
                    last_ai = ai
            value = data[pos:end]
            pos = end + 1
        check_value(ai, value, current_year)
        previous = elements.get(ai)
        if previous is None:
            elements[ai] = value
        elif previous != value:
            raise R.Rejection(
                R.DUPLICATE_AI, "AI (%s) appears twice, with %s and %s" % (ai, quote(previous), quote(value)), ai
            )
    return elements, last_ai


def _matches(pattern: str, ai: str) -> bool:
    """Syntax Dictionary pattern: an AI, or digits with trailing ``n`` for any digit (``310n``)."""
    if len(pattern) != len(ai):
        return False
    stem = pattern.rstrip("n")
    return ai[: len(stem)] == stem


def _present(pattern: str, elements) -> bool:
    if pattern in elements:
        return True
    if pattern[-1] != "n":
        return False
    for ai in elements:
        if _matches(pattern, ai):
            return True
    return False


def _raise_exclusive(ai: str, other: str):
    raise R.Rejection(R.INVALID_AI_COMBINATION, "AI (%s) may not appear with AI (%s)" % (ai, other), ai)


def check_combinations(elements) -> None:
    """``ex=`` (mutually exclusive AIs) then FMD completeness then ``req=`` (mandatory companions).

    FMD completeness (Reg. 2016/161 Art. 4(b); PACK-CODES.md): product code (01), serial (21),
    batch (10) and expiry (17) must all be present.
    """
    for ai in elements:
        rule = RULES[ai]
        for other in rule[4]:
            if other in elements and other != ai:
                _raise_exclusive(ai, other)
        for pattern in rule[5]:
            for other in elements:
                if other != ai and _matches(pattern, other):
                    _raise_exclusive(ai, other)
    for ai in (AI_GTIN, AI_SERIAL, AI_BATCH, AI_EXPIRY):
        if ai not in elements:
            raise R.Rejection(_MISSING[ai], "AI (%s) %s is missing" % (ai, AI_TABLE[ai][6]), ai)
    for ai in elements:
        req = RULES[ai][3]
        if not req or ai in FMD_AIS:
            continue  # the FMD AIs' requirements (01) were checked just above
        satisfied = False
        for group in req:
            for pattern in group:
                if not _present(pattern, elements):
                    break
            else:
                satisfied = True
                break
        if not satisfied:
            raise R.Rejection(
                R.INVALID_AI_COMBINATION,
                "AI (%s) requires %s"
                % (ai, " or ".join("+".join("(" + p + ")" for p in group) for group in req)),
                ai,
            )


def encode_element_string(product_code, serial, batch, expiry_raw, nhrn=None, symbology="]d2") -> str:
    """A pack identifier as a GS1 element string: fixed AIs first, GS after each variable one.

    Order 01, 17, 10, 21, then the NHRN ``(ai, value)`` if given (GenSpecs 7.8.5: predefined-length
    AIs first saves separators). No separator after the last element.
    """
    text = symbology + "01" + product_code + "17" + expiry_raw + "10" + batch + GS + "21" + serial
    if nhrn is not None:
        text += GS + nhrn[0] + nhrn[1]
    return text
