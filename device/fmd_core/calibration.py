"""Scanner calibration and scan protection (issue 8; SCANNERS-AND-HARDWARE.md 3.2, 1.5, 1.6).

Most false "falsified medicine" alerts come from scanners: a keyboard country that does not match,
a dropped group separator, Caps Lock flipping case, a missing AIM prefix. This module:

1. defines the two **calibration codes**: ``C1``, a GS1 Data Matrix (``]d2``) with a restricted-
   circulation GTIN (prefix 040-049, never a real pack), a serial ended by GS and AI 91 carrying all
   82 characters of GS1 character set 82; ``C2``, an ISO/IEC 15434 format 06 envelope (``]d1``)
   with RS and EOT. Neither decodes as a pack identifier (both lack a batch);
2. **infers** from the keystrokes (``infer_keys``) or bytes (``infer_text``) of a calibration scan
   the scanner's keyboard country, how GS/RS/EOT arrive (Ctrl combination, Alt code, function key,
   substitute character, real byte, or dropped), whether case is inverted or forced, whether the
   AIM prefix is on, and the suffix: a ``ScannerProfile``;
3. says what to change, in French, English or German (``advice``), naming the set-up sheet code;
   a keyboard country with ``blind_partners`` (countries it can drift to unseen, one scan typing
   the AIM prefix and every digit alike, then garbling set-82 data: UK, German, Spanish, Italian)
   is "Scanner OK" with the advice to set the scanner's keyboard to US (US itself has none);
4. **guards** every later scan (``guard``): a scan that is not valid under the stored profile but
   decodes cleanly under another plausible configuration is held ("scanner settings changed"), and
   while the profile says GS is dropped no GS1 code with a variable-length element before another
   is sent (its split would be a guess). Calibration codes themselves are recognised and never sent.

Portable core: no I/O; the terminal stores the profile (``as_dict``/``from_dict``) and shows texts.
"""

from fmd_core.check_digits import gs1_check_digit
from fmd_core.decoder import decode_scan
from fmd_core.gs1 import RULES
from fmd_core.keyboard import (
    CONTROL_NAMES,
    CR,
    CSET82,
    EOT,
    GS,
    RS,
    KeyboardError,
    KeyDecoder,
    codes,
    decode_keys,
    get_layout,
    type_text,
)
from fmd_core.keyboard.layouts import LAYOUTS
from fmd_core.result import GS1, POSSIBLE_MISSING_SEPARATOR

# --- the calibration codes (SCANNERS-AND-HARDWARE.md 3.2) ------------------------------------------

# the letters whose keys move between layouts first (A Q W Z Y M), then digits, punctuation, the rest
_FIRST = "AaQqWwZzYyMm"
ORDER82 = (
    _FIRST
    + "0123456789"
    + "".join(ch for ch in CSET82 if not ch.isalpha() and not ch.isdigit())
    + "".join(ch for ch in CSET82 if ch.isalpha() and ch not in _FIRST)
)
# GTIN-14 = "0" + a GTIN-13 with the restricted-circulation prefix 049 (GS1 GenSpecs 1.4.4)
_GTIN_BODY = "0" + "049999990001"
CALIBRATION_GTIN = _GTIN_BODY + str(gs1_check_digit(_GTIN_BODY))
CALIBRATION_SERIAL = "FMDCAL1"
CALIBRATION_PPN = "111234567842"
C1 = "]d2" + "01" + CALIBRATION_GTIN + "21" + CALIBRATION_SERIAL + GS + "91" + ORDER82
# No batch (IFA "1T") in C2: with a valid PPN it would otherwise be a complete pack identifier, and
# neither code may ever decode as one (a terminal without a stored profile must not send it).
C2 = "]d1" + "[)>" + RS + "06" + GS + "9N" + CALIBRATION_PPN + GS + "SFMDCAL2" + GS + "D991231" + RS + EOT
CODES = {"C1": C1, "C2": C2}

# --- a scanner profile ---------------------------------------------------------------------------------

KEYBOARD = "keyboard"
SERIAL = "serial"
NORMAL = "normal"
INVERTED = "inverted"
UPPER = "upper"
LOWER = "lower"
DROPPED = "dropped"
BYTE = "byte"
SUBSTITUTE = "substitute:"  # + the character
UNKNOWN = "unknown"
LAYOUT_ORDER = ("us", "gb", "fr", "be", "de", "es", "it")


class ScannerProfile:
    """What calibration found out about one scanner; ``controls`` maps "GS"/"RS"/"EOT" to a method."""

    __slots__ = ("interface", "layout", "aim", "case", "controls", "suffix", "equivalent")

    def __init__(self, interface, layout, aim, case, controls, suffix, equivalent=()):
        self.interface = interface
        self.layout = layout
        self.aim = aim
        self.case = case
        self.controls = controls
        self.suffix = suffix
        self.equivalent = tuple(equivalent)

    def control(self, name):
        return self.controls.get(name, UNKNOWN)

    def as_dict(self):
        return {
            "interface": self.interface,
            "layout": self.layout,
            "aim": self.aim,
            "case": self.case,
            "controls": dict(self.controls),
            "suffix": self.suffix,
            "equivalent": list(self.equivalent),
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            data["interface"],
            data.get("layout", ""),
            bool(data["aim"]),
            data["case"],
            dict(data["controls"]),
            data.get("suffix", "none"),
            data.get("equivalent", ()),
        )

    def merged(self, other):
        """This profile with the control methods another calibration scan found (C1 then C2)."""
        controls = dict(self.controls)
        controls.update(other.controls)
        return ScannerProfile(
            self.interface, self.layout, self.aim, self.case, controls, self.suffix, self.equivalent
        )

    def __eq__(self, other):
        return isinstance(other, ScannerProfile) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return "ScannerProfile(%r)" % (self.as_dict(),)

    def substitutes(self):
        """Stand-ins for GS this scanner uses, for ``decode_scan`` (None: the decoder's defaults)."""
        method = self.control("GS")
        if method.startswith(SUBSTITUTE):
            return [GS, method[len(SUBSTITUTE) :]]
        return None

    def function_keys(self):
        keys = {}
        for name in self.controls:
            method = self.controls[name]
            if method.startswith("function:"):
                keys[int(method[9:])] = _CONTROL_BY_NAME[name]
        return keys


_CONTROL_BY_NAME = {"GS": GS, "RS": RS, "EOT": EOT}


class Calibration:
    """One recognised calibration scan: which code (``"C1"``/``"C2"``) and the profile it shows."""

    __slots__ = ("code", "profile")

    def __init__(self, code, profile):
        self.code = code
        self.profile = profile

    def __repr__(self):
        return "Calibration(%r, %r)" % (self.code, self.profile)


# --- reading a scan ------------------------------------------------------------------------------------

_NOT_FUNCTION = (
    set(codes.KEYPAD)
    | set(codes.KEYPAD_DIGITS)
    | {
        codes.KEY_KPDOT,
        codes.KEY_ENTER,
        codes.KEY_KPENTER,
        codes.KEY_TAB,
        codes.KEY_CAPSLOCK,
        codes.KEY_LEFTSHIFT,
        codes.KEY_RIGHTSHIFT,
        codes.KEY_LEFTCTRL,
        codes.KEY_RIGHTCTRL,
        codes.KEY_LEFTALT,
        codes.KEY_RIGHTALT,
        codes.KEY_LEFTMETA,
        codes.KEY_RIGHTMETA,
    }
)
_MARK = 0xE000  # private-use characters stand for function keys while matching


def _function_marks(events, function_keys=None):
    """``function_keys`` plus a private-use mark for every other key that types nothing anywhere.

    Every layout table holds the same keys, so the marks hold for all layouts.
    """
    keys = dict(function_keys or {})
    table = LAYOUTS["us"]
    for code, value in events:
        if value == codes.DOWN and code not in table and code not in _NOT_FUNCTION and code not in keys:
            keys[code] = chr(_MARK + code)
    return keys


def _read_keys(events, layout, marks):
    """``[(character, method)]`` for key events under ``layout``, or None when they do not decode.

    Keys that type nothing on any layout (arrows, F-keys) read as the private-use ``marks`` with
    method ``"function:<code>"``: calibration finds out whether one stands where GS, RS or EOT belongs.
    """
    decoder = KeyDecoder(layout, marks)
    key = decoder.key
    out = []
    for code, value in events:
        ch = key(code, value)
        if not ch:
            if ch is None:
                return None
            continue
        if ch in CONTROL_NAMES:
            method = decoder.control_method
            if method == "function":
                method = "function:%d" % code
            out.append((ch, method))
        elif ord(ch) >= _MARK:
            out.append((ch, "function:%d" % (ord(ch) - _MARK)))
        else:
            out.append((ch, ""))
    return out


def _split_suffix(received):
    """``(received without its suffix, suffix name)``."""
    if received and received[-1][0] == "\n":
        if len(received) > 1 and received[-2][0] == CR:
            return received[:-2], "CRLF"
        return received[:-1], "LF"
    if received and received[-1][0] == CR:
        return received[:-1], "CR"
    if received and received[-1][0] == "\t":
        return received[:-1], "TAB"
    return received, "none"


def _case(text, case):
    if case == INVERTED:
        return "".join(ch.lower() if ch.isupper() else ch.upper() for ch in text)
    if case == UPPER:
        return text.upper()
    if case == LOWER:
        return text.lower()
    return text


def _align(received, expected):
    """Control methods if ``received`` is ``expected`` with each control character sent some way."""
    methods = {}
    i = 0
    j = 0
    n = len(received)
    while i < len(expected):
        e = expected[i]
        if e in CONTROL_NAMES:
            name = CONTROL_NAMES[e]
            r = received[j] if j < n else None
            following = expected[i + 1] if i + 1 < len(expected) else None
            if r is not None and r[0] == e:
                method = r[1] or BYTE
                j += 1
            elif r is not None and r[1].startswith("function:"):
                method = r[1]
                j += 1
            elif r is not None and r[0] != following and r[0] not in CONTROL_NAMES:
                method = SUBSTITUTE + r[0]
                j += 1
            else:
                method = DROPPED
            if methods.get(name, method) != method:
                return None
            methods[name] = method
            i += 1
            continue
        if j >= n or received[j][0] != e or received[j][1]:
            return None
        i += 1
        j += 1
    if j != n:
        return None
    return methods


def _match(received, interface, layout):
    """Calibrations that ``received`` (suffix included) is, as ``[(code name, profile)]``."""
    body, suffix = _split_suffix(received)
    found = []
    for name in CODES:
        code = CODES[name]
        prefix, content = code[:3], code[3:]
        for case in (NORMAL, INVERTED, UPPER, LOWER):
            for aim in (True, False):
                expected = _case(prefix + content if aim else content, case)
                methods = _align(body, expected)
                if methods is not None:
                    found.append((name, ScannerProfile(interface, layout, aim, case, methods, suffix)))
                    break
            if found and found[-1][0] == name:
                break
    return found


def _plausible_length(count):
    return min(len(C1), len(C2)) - 16 <= count <= max(len(C1), len(C2)) + 16


# Both codes carry "FMDCAL": F, D, C and L sit on the same keys in every supported layout, so the
# key-down sequence F ? D C ? L is a cheap test before trying every layout.
_MARKER_KEYS = (codes.KEY_F, None, codes.KEY_D, codes.KEY_C, None, codes.KEY_L)
_MODIFIER_KEYS = (codes.KEY_LEFTSHIFT, codes.KEY_RIGHTSHIFT, codes.KEY_CAPSLOCK)


def _may_be_calibration(events):
    downs = []
    for code, value in events:
        if value == codes.DOWN and code not in _MODIFIER_KEYS:
            downs.append(code)
    if not _plausible_length(len(downs)):
        return False
    for start in range(len(downs) - len(_MARKER_KEYS) + 1):
        for offset in range(len(_MARKER_KEYS)):
            wanted = _MARKER_KEYS[offset]
            if wanted is not None and downs[start + offset] != wanted:
                break
        else:
            return True
    return False


def infer_keys(events, layouts=None):
    """The ``Calibration`` a keyboard scan's ``(code, value)`` events show, or None.

    Every supported layout is tried (``layouts`` first, when given); layouts that read the code the
    same way (Spanish and Italian type every CSET 82 character alike) are kept as ``equivalent``.
    """
    order = list(layouts or ()) + [name for name in LAYOUT_ORDER if name not in (layouts or ())]
    if not _may_be_calibration(events):
        return None
    found = []
    marks = _function_marks(events)
    for layout in order:
        if layout not in LAYOUTS:
            continue
        received = _read_keys(events, layout, marks)
        if received is None or not _plausible_length(len(received)):
            continue
        for name, profile in _match(received, KEYBOARD, layout):
            found.append((name, profile))
    if not found:
        return None
    # Layouts that read the code alike can still read a substitute character differently (a UK '|'
    # is a US '>'): the layout whose reading gives the most safe substitutes wins, then the order.
    best = found[0]
    for candidate in found[1:]:
        if candidate[0] == best[0] and _safe_substitutes(candidate[1]) > _safe_substitutes(best[1]):
            best = candidate
    name, profile = best
    for other_name, other in found:
        if other is not profile and other_name == name and other.case == profile.case:
            profile.equivalent = profile.equivalent + (other.layout,)
    return Calibration(name, profile)


_SAFE_SUBSTITUTES = "#$@[\\]^`{|}~"  # ASCII outside CSET 82 (SCANNERS-AND-HARDWARE.md 1.5)


def _safe_substitutes(profile):
    count = 0
    for name in profile.controls:
        method = profile.controls[name]
        if method.startswith(SUBSTITUTE) and method[len(SUBSTITUTE) :] in _SAFE_SUBSTITUTES:
            count += 1
    return count


def infer_text(text, suffix=None):
    """The ``Calibration`` a serial (exact bytes) scan shows, or None.

    ``text`` keeps its suffix; when framing already removed it, pass the ``suffix`` seen (or
    ``"unknown"``) instead.
    """
    if not _plausible_length(len(text)) or "FMDCAL" not in text.upper():
        return None
    received = [(ch, "") for ch in text]
    found = _match(received, SERIAL, "")
    if not found:
        return None
    profile = found[0][1]
    if suffix is not None:
        profile.suffix = suffix
    return Calibration(found[0][0], profile)


# --- keyboard countries one scan cannot tell apart (SCANNERS-AND-HARDWARE.md 1.3, 3.2) -------------------

# what every scan begins with: the AIM prefixes the guard knows, and the digits of the GTIN
_CANARY = "]d2]d1]Q3]C1]E00123456789"


def _reads(text, typed_by, read_as):
    """What a scanner set to ``typed_by`` types for ``text`` reads as under ``read_as`` (None: the
    scanner cannot type it, or the keys do not decode)."""
    try:
        events = type_text(text, typed_by, suffix="")
    except KeyboardError:
        return None
    return decode_keys(events, read_as)[0]


def blind(stored, other):
    """Whether a scanner that drifted from the ``stored`` keyboard country to ``other`` types the AIM
    prefixes and every digit exactly as before. Then one scan cannot show the change (both read as
    clean codes): only a new calibration scan can."""
    return _reads(_CANARY, other, stored) == _CANARY


def garbles(stored, other):
    """``[(character, read)]``: the GS1 character set 82 characters (GenSpecs 7.11, figure 7.11-1) a
    scanner set to ``other`` types and the ``stored`` country reads as other set-82 text. A code
    holding one is read as a different, equally valid code; a character read as one outside set 82
    (a UK '"' is a US '@') is not listed: the decoder rejects it and the guard holds the scan."""
    found = []
    for ch in CSET82:
        read = _reads(ch, other, stored)
        if read is not None and read != ch and read and all(c in CSET82 for c in read):
            found.append((ch, read))
    return found


_PARTNERS: dict = {}  # stored country -> its blind, garbling partners (computed once)


def blind_partners(stored):
    """The keyboard countries (``LAYOUT_ORDER``) a scanner set to ``stored`` can drift to unseen and
    then garble set-82 data silently: ``blind`` to it, and ``garbles`` not empty. Computed from the
    layout tables, once per country. US has none: a UK scanner types every digit and AIM prefix as
    US does, but the only set-82 character it types differently ('"') reads as '@', outside set 82."""
    if stored not in _PARTNERS:
        _PARTNERS[stored] = tuple(
            other
            for other in LAYOUT_ORDER
            if other != stored and blind(stored, other) and garbles(stored, other)
        )
    return _PARTNERS[stored]


# --- what to change (shown in French, English or German) ----------------------------------------------

BLOCKING = "blocking"  # scans are not sent until it is fixed
PARTIAL = "partial"  # some codes are held
ADVICE = "advice"  # works, but not the recommended setting

# problem -> (severity, set-up sheet code to scan or "")
PROBLEMS = {
    "case_inverted": (BLOCKING, "CAPS_LOCK_OVERRIDE"),
    "case_upper": (BLOCKING, "CASE_CONVERSION_OFF"),
    "case_lower": (BLOCKING, "CASE_CONVERSION_OFF"),
    "aim_off": (BLOCKING, "AIM_ID_ON"),
    "gs_unsafe_substitute": (BLOCKING, "CONTROL_CHARACTERS_CTRL"),
    "gs_dropped": (PARTIAL, "CONTROL_CHARACTERS_CTRL"),
    "rs_eot_dropped": (PARTIAL, "CONTROL_CHARACTERS_CTRL"),
    "layout_not_us": (ADVICE, "KEYBOARD_US"),
    "layout_blind": (ADVICE, "KEYBOARD_US"),  # works; its set-up code is named (a silent risk)
    # C2 alone: keyboard countries it cannot tell apart (German, Spanish, Italian type its digits and
    # capitals alike, not set 82): no country is known until C1, which holds every set-82 character.
    "layout_undetermined": (BLOCKING, ""),
    "suffix_missing": (ADVICE, "SUFFIX_CR"),
}

MESSAGES = {
    "en": {
        "ok": "Scanner OK",
        "case_inverted": "Scanner inverts upper and lower case (Caps Lock): turn on 'Caps Lock override'",
        "case_upper": "Scanner converts letters to upper case: turn case conversion off",
        "case_lower": "Scanner converts letters to lower case: turn case conversion off",
        "aim_off": "Scanner sends no AIM prefix: turn on 'AIM ID prefix'",
        "gs_unsafe_substitute": "Scanner replaces the group separator by {char!r}, a GS1 data character: send it as Ctrl+]",
        "gs_dropped": "Scanner drops the group separator: turn on control characters (Ctrl+])",
        "rs_eot_dropped": "Scanner drops RS/EOT (German IFA codes): turn on control characters",
        "layout_not_us": "Scanner keyboard is {layout}: it works; US is recommended",
        "layout_undetermined": "Scanner keyboard may be {layouts}: this code cannot tell them apart, scan calibration code C1",
        "typed_alike": "{layouts} (typed alike)",
        "or": " or ",
        "layout_blind": "Scanner keyboard is {layout}: it works, but a change to {partners} would go unnoticed (same digits; letters such as Y/Z or signs would be misread): set the scanner's keyboard to US",
        "suffix_missing": "Scanner sends no Enter after a code: add the CR suffix",
        "setup": "scan '{code}' on the set-up sheet",
        "settings_changed": "Scanner settings changed: scan the calibration code",
        "not_calibrated": "Scanner not calibrated: scan the calibration code",
    },
    "fr": {
        "ok": "Scanner OK",
        "case_inverted": "Le scanner inverse majuscules et minuscules (Verr. Maj) : activer « ignorer Verr. Maj »",
        "case_upper": "Le scanner met les lettres en majuscules : désactiver la conversion de casse",
        "case_lower": "Le scanner met les lettres en minuscules : désactiver la conversion de casse",
        "aim_off": "Le scanner n'envoie pas le préfixe AIM : activer « préfixe AIM ID »",
        "gs_unsafe_substitute": "Le scanner remplace le séparateur GS par {char!r}, un caractère GS1 : l'envoyer en Ctrl+]",
        "gs_dropped": "Le scanner supprime le séparateur GS : activer les caractères de contrôle (Ctrl+])",
        "rs_eot_dropped": "Le scanner supprime RS/EOT (codes IFA allemands) : activer les caractères de contrôle",
        "layout_not_us": "Clavier du scanner : {layout}. Cela fonctionne ; US est recommandé",
        "layout_undetermined": "Clavier du scanner : {layouts} possibles, ce code ne les distingue pas : scanner le code de calibrage C1",
        "typed_alike": "{layouts} (saisis à l'identique)",
        "or": " ou ",
        "layout_blind": "Clavier du scanner : {layout}. Cela fonctionne, mais un passage en {partners} passerait inaperçu (mêmes chiffres ; des lettres comme Y/Z ou des signes seraient mal lus) : régler le clavier du scanner en US",
        "suffix_missing": "Le scanner n'envoie pas Entrée après un code : ajouter le suffixe CR",
        "setup": "scanner « {code} » sur la feuille de configuration",
        "settings_changed": "Réglages du scanner modifiés : scanner le code de calibrage",
        "not_calibrated": "Scanner non calibré : scanner le code de calibrage",
    },
    "de": {
        "ok": "Scanner OK",
        "case_inverted": "Scanner vertauscht Groß- und Kleinschreibung (Feststelltaste): 'Caps Lock ignorieren' einschalten",
        "case_upper": "Scanner wandelt Buchstaben in Großbuchstaben: Umwandlung ausschalten",
        "case_lower": "Scanner wandelt Buchstaben in Kleinbuchstaben: Umwandlung ausschalten",
        "aim_off": "Scanner sendet kein AIM-Präfix: 'AIM-ID-Präfix' einschalten",
        "gs_unsafe_substitute": "Scanner ersetzt das Trennzeichen GS durch {char!r}, ein GS1-Datenzeichen: als Strg+] senden",
        "gs_dropped": "Scanner lässt das Trennzeichen GS weg: Steuerzeichen (Strg+]) einschalten",
        "rs_eot_dropped": "Scanner lässt RS/EOT weg (IFA-Codes): Steuerzeichen einschalten",
        "layout_not_us": "Scanner-Tastatur ist {layout}: funktioniert; US wird empfohlen",
        "layout_undetermined": "Scanner-Tastatur könnte {layouts} sein: dieser Code unterscheidet sie nicht, Kalibriercode C1 scannen",
        "typed_alike": "{layouts} (gleich getippt)",
        "or": " oder ",
        "layout_blind": "Scanner-Tastatur ist {layout}: funktioniert, aber ein Wechsel auf {partners} bliebe unbemerkt (gleiche Ziffern; Buchstaben wie Y/Z oder Zeichen würden falsch gelesen): Scanner-Tastatur auf US stellen",
        "suffix_missing": "Scanner sendet kein Enter nach dem Code: Suffix CR hinzufügen",
        "setup": "'{code}' auf dem Einrichtungsblatt scannen",
        "settings_changed": "Scanner-Einstellungen geändert: Kalibriercode scannen",
        "not_calibrated": "Scanner nicht kalibriert: Kalibriercode scannen",
    },
}
LANGUAGES = ("fr", "en", "de")

# Keyboard countries as a person reads them in each language (English: the layout tables' titles).
COUNTRY_NAMES = {
    "fr": {
        "us": "US",
        "fr": "français (AZERTY)",
        "de": "allemand (QWERTZ)",
        "gb": "britannique (UK)",
        "be": "belge (AZERTY)",
        "es": "espagnol",
        "it": "italien",
    },
    "de": {
        "us": "US",
        "fr": "Französisch (AZERTY)",
        "de": "Deutsch (QWERTZ)",
        "gb": "Britisch (UK)",
        "be": "Belgisch (AZERTY)",
        "es": "Spanisch",
        "it": "Italienisch",
    },
}


def country_name(layout, lang):
    """Keyboard country ``layout`` ("fr") as a person reads it in ``lang``: "français (AZERTY)"."""
    names = COUNTRY_NAMES.get(lang)
    return names[layout] if names and layout in names else get_layout(layout).title()


_SET82_TEXT = "".join(sorted(CSET82))
_ALIKE: dict = {}  # (layout, other) -> whether they type every set-82 character alike


def typed_alike(layout, other):
    """Whether two keyboard countries type every character of set 82 with the same keys (Spanish
    and Italian do): no code can tell them apart, and none needs to."""
    key = (layout, other) if layout < other else (other, layout)
    if key not in _ALIKE:
        _ALIKE[key] = _reads(_SET82_TEXT, other, layout) == _SET82_TEXT and (
            _reads(_SET82_TEXT, layout, other) == _SET82_TEXT
        )
    return _ALIKE[key]


def undetermined(profile):
    """The keyboard countries the calibration code read alike but that type set 82 differently (C2
    alone: German, Spanish, Italian), or ``()``: then the country is not known, only C1 tells."""
    others = tuple(other for other in profile.equivalent if not typed_alike(profile.layout, other))
    return (profile.layout,) + others if others else ()


def layout_name(profile, lang="en"):
    """The keyboard country as a person reads it in ``lang``: "Spanish or Italian (typed alike)"
    when the profile's equivalent countries type set 82 alike (naming one would be a guess)."""
    names = [country_name(profile.layout, lang)]
    for other in profile.equivalent:
        if typed_alike(profile.layout, other):
            names.append(country_name(other, lang))
    if len(names) == 1:
        return names[0]
    return message("typed_alike", lang, layouts=message("or", lang).join(names))


def problems(profile, lang="en"):
    """``[(problem, parameters)]`` of a profile, blocking ones first (``lang``: of the country names)."""
    found = []
    if profile.case != NORMAL:
        found.append(("case_" + profile.case, {}))
    if not profile.aim:
        found.append(("aim_off", {}))
    gs = profile.control("GS")
    if gs.startswith(SUBSTITUTE) and gs[len(SUBSTITUTE) :] in CSET82:
        found.append(("gs_unsafe_substitute", {"char": gs[len(SUBSTITUTE) :]}))
    if gs == DROPPED:
        found.append(("gs_dropped", {}))
    if profile.control("RS") == DROPPED or profile.control("EOT") == DROPPED:
        found.append(("rs_eot_dropped", {}))
    unknown = undetermined(profile) if profile.interface == KEYBOARD else ()
    if unknown:
        names = "/".join(other.upper() for other in unknown)
        found.append(("layout_undetermined", {"layouts": names}))
    elif profile.interface == KEYBOARD and profile.layout != "us":
        layout = layout_name(profile, lang)
        partners = blind_partners(profile.layout)
        if partners:
            names = "/".join(other.upper() for other in partners)
            found.append(("layout_blind", {"layout": layout, "partners": names}))
        else:
            found.append(("layout_not_us", {"layout": layout}))
    if profile.suffix == "none":
        found.append(("suffix_missing", {}))
    order = {BLOCKING: 0, PARTIAL: 1, ADVICE: 2}
    found.sort(key=lambda item: order[PROBLEMS[item[0]][0]])
    return found


def is_blocking(profile):
    for problem, _ in problems(profile):
        if PROBLEMS[problem][0] == BLOCKING:
            return True
    return False


def changed(profile, alternatives):
    """What a ``settings_changed`` hold's ``alternatives`` agree has changed, as ``problems`` items:
    ``("keyboard_changed", {"layout": "DE"})`` (no longer the stored keyboard country, "DE"),
    ``("case_inverted", {})``, ``("aim_off", {})``. Only what every alternative shares is named (the
    screen says nothing it cannot be sure of: US and UK, say, often read a code alike)."""
    found = []
    layouts = set(alternative[0] for alternative in alternatives)
    if layouts and profile.layout not in layouts:
        found.append(("keyboard_changed", {"layout": profile.layout.upper()}))
    cases = set(alternative[1] for alternative in alternatives)
    if cases == set((INVERTED,)):
        found.append(("case_inverted", {}))
    aims = set(alternative[2] for alternative in alternatives)
    if profile.aim and aims == set((False,)):
        found.append(("aim_off", {}))
    return found


def setup_code(problem):
    """The set-up sheet code to name for ``problem``, or "": every change that is not mere advice,
    and the keyboard advice of a country with ``blind_partners`` (a drift there goes unseen)."""
    severity, setup = PROBLEMS.get(problem, (ADVICE, ""))
    return setup if severity != ADVICE or problem == "layout_blind" else ""


def message(key, lang="fr", **parameters):
    catalogue = MESSAGES.get(lang, MESSAGES["fr"])
    text = catalogue[key]
    return text.format(**parameters) if parameters else text


def advice(profile, lang="fr"):
    """Lines to show: ``["Scanner OK"]`` or what to change, each with its set-up sheet code."""
    lines = []
    for problem, parameters in problems(profile, lang):
        line = message(problem, lang, **parameters)
        setup = setup_code(problem)
        if setup:
            line += " (" + message("setup", lang, code=setup) + ")"
        lines.append(line)
    if not lines or PROBLEMS[problems(profile)[0][0]][0] == ADVICE:
        lines.insert(0, message("ok", lang))
    return lines


# --- protection in normal use ------------------------------------------------------------------------------

PASS = "pass"  # hand the text to the flow (which decodes it and may still reject it)
HOLD = "hold"  # amber: do not send; ``reason`` says why
CALIBRATION = "calibration"  # a calibration code: store ``calibration.profile``; never sent

_SYMBOLOGY_PREFIXES = ("]d2", "]d1", "]Q3", "]Q1", "]C1", "]J1", "]e0", "]E0", "]E4")


class Verdict:
    __slots__ = ("action", "text", "reason", "alternatives", "calibration")

    def __init__(self, action, text=None, reason="", alternatives=(), calibration=None):
        self.action = action
        self.text = text
        self.reason = reason
        self.alternatives = tuple(alternatives)
        self.calibration = calibration

    def __repr__(self):
        return "Verdict(%r, %r, %r, %r)" % (self.action, self.text, self.reason, self.alternatives)


def _read(scan, layout, marks):
    """The text of a scan (keys or exact text) read under one keyboard country, suffix removed."""
    if isinstance(scan, str):
        text = scan
    else:
        decoder = KeyDecoder(layout, marks)
        key = decoder.key
        out = []
        for code, value in scan:
            ch = key(code, value)
            if ch is None:
                return None
            out.append(ch)
        text = "".join(out)
    while text[-1:] in ("\r", "\n", "\t") and text:
        text = text[:-1]
    return text


def _valid(text, aim, substitutes, current_year):
    """Whether ``text`` decodes cleanly as a scanner with (or without) the AIM prefix sends it."""
    if text is None or not text:
        return None
    if aim != (text[:3] in _SYMBOLOGY_PREFIXES):
        return None
    if not aim and text[:1] == "]":
        return None
    result = decode_scan(text, substitutes=substitutes, current_year=current_year)
    return result if result.ok else None


def _variable_length_count(result):
    ais = []
    if result.serial is not None:
        ais.append("21")
    if result.batch is not None:
        ais.append("10")
    if result.nhrn:
        ais.append(result.nhrn["ai"])
    for ai in result.extra:
        ais.append(ai)
    count = 0
    for ai in ais:
        rule = RULES.get(ai)
        if rule is None or rule[0] == 0:
            count += 1
    return count


def _looks_gs1(text, aim):
    """A GS1 element string, bare or in an ISO/IEC 15434 format 05 envelope."""
    if aim:
        if text[:3] in ("]d2", "]Q3", "]C1", "]J1", "]e0"):
            return True
        text = text[3:]
    # format 05 envelope; with control characters dropped its RS is gone too
    if text.startswith("[)>"):
        return text[3:5] == "05" or text[3:6] == RS + "05"
    return text[:1] in "0123456789"


def guard(scan, profile, current_year=None):
    """What to do with one scan under the stored ``profile`` (issue 8, "Protection in normal use").

    ``scan`` is the scan's ``(code, value)`` key events (keyboard) or its exact text (serial). A
    calibration code gives ``CALIBRATION``. A scan valid under the profile is ``PASS``ed, except
    that while GS is dropped a GS1 code with two variable-length elements is ``HOLD`` (its split
    would be a guess). A scan not valid under the profile that decodes cleanly under other plausible
    configurations (keyboard country, case, AIM) is ``HOLD`` with reason ``settings_changed``;
    otherwise it is ``PASS``ed so that the flow shows the decoder's reason (``text`` None when the
    keys themselves did not decode).
    """
    if isinstance(scan, str):
        calibration = infer_text(scan, None if scan[-1:] in ("\r", "\n") else "unknown")
    else:
        calibration = infer_keys(scan, (profile.layout,))
    if calibration is not None:
        return Verdict(CALIBRATION, calibration=calibration)
    if is_blocking(profile):
        return Verdict(HOLD, reason="calibration_failed")
    substitutes = profile.substitutes()
    marks = (
        profile.function_keys() if isinstance(scan, str) else _function_marks(scan, profile.function_keys())
    )
    text = _read(scan, profile.layout, marks)
    result = _valid(text, profile.aim, substitutes, current_year)
    dropped = profile.control("GS") == DROPPED
    if result is not None:
        if (
            dropped
            and result.scheme == GS1
            and (_variable_length_count(result) >= 2 or POSSIBLE_MISSING_SEPARATOR in result.warnings)
        ):
            return Verdict(HOLD, text, "gs_dropped")
        return Verdict(PASS, text)
    if dropped and text and _looks_gs1(text, profile.aim):
        return Verdict(HOLD, text, "gs_dropped")
    alternatives = []
    layouts = LAYOUT_ORDER if not isinstance(scan, str) else ("",)
    for layout in layouts:
        read = text if layout == profile.layout else _read(scan, layout, marks)
        if read is None:
            continue
        for case in (NORMAL, INVERTED):
            # a scanner that inverts case is read back by inverting again
            other = read if case == NORMAL else _case(read, INVERTED)
            for aim in (True, False):
                if (layout, case, aim) == (profile.layout, NORMAL, profile.aim):
                    continue
                if _valid(other, aim, substitutes, current_year) is not None:
                    alternatives.append((layout, case, aim))
        if len(alternatives) > 1:
            break  # more than one: which one does not change the verdict
    if alternatives:
        return Verdict(HOLD, text, "settings_changed", alternatives)
    return Verdict(PASS, text)
