"""``decode_scan``: exactly what a scanner delivered -> a pack identifier or a precise reason.

PACK-CODES.md is the specification ("Inputs it must recognise", "Result contract"):

1. Strip one trailing CR, LF or CRLF (scanner suffix).
2. Route on the AIM symbology identifier (ISO/IEC 15424) when present: ``]d2`` GS1 Data Matrix,
   ``]Q3`` GS1 QR, ``]C1`` GS1-128, ``]J1`` GS1 DotCode (warning ``not_data_matrix``: Reg. 2016/161
   Art. 5(1) requires a Data Matrix), ``]d1``/``]Q1`` (ISO/IEC 15434 envelope or Digital Link URI),
   ``]E0``/``]E4`` (EAN-13/EAN-8). Without one, sniff in this order: ``[)>``, ``http(s)://``, all
   digits of a GTIN length (8, 12, 13, 14), GS1 element string.
3. Replace the keyboard-wedge stand-ins for GS (not inside a URI), then decode and check.

``decode_scan`` never raises: every problem is a ``DecodeFailure`` with a reason code.
"""

from fmd_core import result as R
from fmd_core.dates import DEFAULT_CURRENT_YEAR, iso_date
from fmd_core.digital_link import is_digital_link, parse_digital_link
from fmd_core.errors import ConfigurationError
from fmd_core.gs1 import (
    AI_BATCH,
    AI_EXPIRY,
    AI_GTIN,
    AI_SERIAL,
    DIGITS,
    GS,
    NHRN_AIS,
    check_combinations,
    check_value,
    find_ai,
    parse_element_string,
)
from fmd_core.ifa import (
    DI_BATCH,
    DI_EXPIRY,
    DI_PPN,
    DI_SERIAL,
    ENVELOPE_HEADER,
    open_envelope,
    parse_format_06,
)
from fmd_core.quoting import quote
from fmd_core.substitutes import _DEFAULT, prepare, replace_stand_ins

# AIM symbology identifiers (ISO/IEC 15424) -> (route, warnings).
_GS1 = "gs1"
_NON_GS1 = "non-gs1"  # envelope or URI
_LINEAR = "linear"
_SYMBOLOGIES = {
    "]d2": (_GS1, ()),
    "]Q3": (_GS1, (R.NOT_DATA_MATRIX,)),
    "]C1": (_GS1, (R.NOT_DATA_MATRIX,)),
    "]J1": (_GS1, (R.NOT_DATA_MATRIX,)),
    "]e0": (_GS1, (R.NOT_DATA_MATRIX,)),
    "]d1": (_NON_GS1, ()),
    "]Q1": (_NON_GS1, (R.NOT_DATA_MATRIX,)),
    "]E0": (_LINEAR, (R.NOT_DATA_MATRIX,)),
    "]E4": (_LINEAR, (R.NOT_DATA_MATRIX,)),
}
# ISO/IEC 15424 symbology identifiers of EAN/UPC (ISO/IEC 15420), as the GS1 General
# Specifications' table of symbology identifiers lists them: ]E0 carries the 13 digits of an EAN-13 (a UPC-A as 0 + 12 digits), ]E4 the 8 of an
# EAN-8. Without an identifier a bare GTIN may have 8, 12, 13 or 14 digits (GenSpecs 2.1).
_LINEAR_LENGTHS = {"]E0": (13,), "]E4": (8,), None: (8, 12, 13, 14)}
_GTIN_LENGTHS = (8, 12, 13, 14)
_PADDING = "00000000000000"
_CORE_AIS = (AI_GTIN, AI_SERIAL, AI_BATCH, AI_EXPIRY)
# AIs a swallowed element could start with (PACK-CODES.md: "ambiguous without the separator").
_SWALLOW_CANDIDATES = ("10", "17", "21") + NHRN_AIS


def decode_scan(raw, *, substitutes=None, current_year=None):
    """Decode one scan. Never raises: returns a ``PackCode`` (``.ok`` True) or a ``DecodeFailure``.

    ``substitutes``: the keyboard-wedge stand-ins for GS (None: ``DEFAULT_SUBSTITUTES``).
    ``current_year``: for the GS1 sliding century window (GenSpecs 7.12); the core has no clock.

    Whatever ``raw`` holds, the answer is a result. Only a programming mistake in the settings
    (``substitutes`` not a list of strings, ``current_year`` not a year) raises ``ConfigurationError``.
    """
    if not isinstance(raw, str):
        return R.DecodeFailure(R.NOT_A_PACK_CODE, "Scan %s is not text: expected a string." % quote(raw))
    year = DEFAULT_CURRENT_YEAR if current_year is None else current_year
    if not isinstance(year, int) or year < 100:
        raise ConfigurationError("current_year must be a four-digit year, got %r" % (current_year,))
    stand_ins = _DEFAULT if substitutes is None else prepare(substitutes)
    try:
        return _decode(raw, stand_ins, year)
    except R.Rejection as rejection:
        return R.DecodeFailure(rejection.reason, "Scan %s rejected: %s." % (quote(raw), rejection.detail), rejection.element)


def _decode(raw: str, stand_ins, year: int):
    text = raw
    if text[-1:] == "\n":
        text = text[:-1]
    if text[-1:] == "\r":
        text = text[:-1]
    symbology = None
    warnings: list = []
    if text[:1] == "]" and len(text) >= 3:
        symbology = text[:3]
        known = _SYMBOLOGIES.get(symbology)
        if known is None:
            raise R.Rejection(R.NOT_A_PACK_CODE, "symbology %s carries no pack code" % quote(symbology))
        route = known[0]
        warnings.extend(known[1])
        text = text[3:]
        if not text:
            raise R.Rejection(R.TRUNCATED, "there is no data after the symbology identifier %s" % quote(symbology))
    elif text.startswith("[)>"):
        route = _NON_GS1
    elif is_digital_link(text):
        route = _NON_GS1
    elif len(text) in _GTIN_LENGTHS and DIGITS.issuperset(text):
        route = _LINEAR
    elif not text:
        raise R.Rejection(R.NOT_A_PACK_CODE, "it is empty")
    else:
        route = _GS1

    if route == _NON_GS1:
        if is_digital_link(text):
            elements = parse_digital_link(text, year)
            return _gs1_result(R.DIGITAL_LINK, elements, symbology, warnings, "", year)
        text, replaced = replace_stand_ins(text, stand_ins)
        if not text.startswith(ENVELOPE_HEADER):
            raise R.Rejection(
                R.NOT_A_PACK_CODE, "expected an ISO/IEC 15434 envelope or a GS1 Digital Link URI"
            )
        if replaced:
            warnings.append(R.SEPARATOR_STAND_IN)
        form, body = open_envelope(text)
        if form == "06":
            return _ifa_result(parse_format_06(body, year), symbology, warnings, year)
        if form == "05":
            elements, last_ai = parse_element_string(body, year)
            return _gs1_result(R.GS1, elements, symbology, warnings, last_ai, year)
        raise R.Rejection(R.NOT_A_PACK_CODE, "envelope format %s is not 05 (GS1) or 06 (IFA)" % quote(form))
    if route == _LINEAR:
        return _linear_result(text, symbology, warnings)
    raw_text = text
    text, replaced = replace_stand_ins(text, stand_ins)
    if text[:1] not in DIGITS and text[:1] != GS and symbology is None:
        raise R.Rejection(
            R.NOT_A_PACK_CODE, "expected a GS1 element string, an IFA envelope or a GS1 Digital Link URI"
        )
    if replaced:
        warnings.append(R.SEPARATOR_STAND_IN)
        elements, last_ai = _parse_with_stand_ins(text, raw_text, year)
    else:
        elements, last_ai = parse_element_string(text, year)
    return _gs1_result(R.GS1, elements, symbology, warnings, last_ai, year)


def _parse_with_stand_ins(text: str, raw_text: str, year: int):
    """Parse ``text`` (stand-ins read as GS); when that leaves no AI where one must start, the
    stand-in was more likely a character a wrong keyboard layout typed inside a serial or batch
    (``21CS@X01``): then say ``bad_charset`` for that element, as reading ``raw_text`` as it came
    shows, instead of ``unknown_ai`` or ``truncated``.
    """
    failure = None
    try:
        return parse_element_string(text, year)
    except R.Rejection as rejection:
        failure = rejection
    if failure.reason == R.UNKNOWN_AI or failure.reason == R.TRUNCATED:
        as_typed = None
        try:
            parse_element_string(raw_text, year)
        except R.Rejection as rejection:
            as_typed = rejection
        if as_typed is not None and as_typed.reason == R.BAD_CHARSET:
            failure = as_typed
    raise failure


def _gs1_result(scheme: str, elements, symbology, warnings, last_ai: str, year: int):
    check_combinations(elements)
    nhrn = None
    for ai in NHRN_AIS:
        # Several NHRNs: the lowest AI is the NHRN, the others stay in extra (dicts are unordered
        # on MicroPython, so "first in the scan" would not be portable).
        if ai in elements:
            nhrn = {"ai": ai, "value": elements[ai]}
            break
    extra = {}
    for ai in elements:
        if ai not in _CORE_AIS and (nhrn is None or ai != nhrn["ai"]):
            extra[ai] = elements[ai]
    if last_ai and _may_hold_an_element(elements[last_ai], elements, year):
        warnings.append(R.POSSIBLE_MISSING_SEPARATOR)
    expiry_raw = elements[AI_EXPIRY]
    return R.PackCode(
        scheme,
        elements[AI_GTIN],
        R.GTIN,
        elements[AI_SERIAL],
        elements[AI_BATCH],
        iso_date(expiry_raw, year),
        expiry_raw,
        nhrn,
        symbology,
        extra,
        warnings,
    )


def _may_hold_an_element(value: str, elements, year: int) -> bool:
    """Whether ``value`` (which ran to the end of the data) could hide a missing FMD element.

    True when it contains, after its first character, an FMD AI not already present followed by a
    value that AI would accept: the scan is valid, but a dropped separator cannot be ruled out.
    """
    for ai in _SWALLOW_CANDIDATES:
        if ai in elements:
            continue
        at = value.find(ai, 1)
        while at > 0:
            if find_ai(value, at) == ai:
                try:
                    check_value(ai, value[at + len(ai) :], year)
                    return True
                except R.Rejection:
                    pass
            at = value.find(ai, at + 1)
    return False


def _ifa_result(fields, symbology, warnings, year: int):
    extra = {}
    for identifier in fields:
        if identifier not in (DI_PPN, DI_SERIAL, DI_BATCH, DI_EXPIRY):
            extra[identifier] = fields[identifier]
    expiry_raw = fields[DI_EXPIRY]
    return R.PackCode(
        R.IFA,
        fields[DI_PPN],
        R.PPN,
        fields[DI_SERIAL],
        fields[DI_BATCH],
        iso_date(expiry_raw, year),
        expiry_raw,
        None,
        symbology,
        extra,
        warnings,
    )


def _linear_result(digits: str, symbology, warnings):
    """EAN-8/UPC-A/EAN-13/GTIN-14 (GenSpecs 2.1): a product code without serial, not a pack identifier.

    The payload's shape follows the symbology identifier (``_LINEAR_LENGTHS``).
    """
    lengths = _LINEAR_LENGTHS[symbology]
    if len(digits) not in lengths:
        raise R.Rejection(
            R.BAD_LENGTH,
            "%s carries %s digits, got %d (%s)"
            % (
                "a linear GTIN" if symbology is None else "symbology " + symbology,
                " or ".join(str(n) for n in lengths),
                len(digits),
                quote(digits),
            ),
        )
    if not DIGITS.issuperset(digits):
        raise R.Rejection(R.BAD_CHARSET, "a linear GTIN holds digits only, got %s" % quote(digits))
    gtin = _PADDING[len(digits) :] + digits
    check_value(AI_GTIN, gtin, DEFAULT_CURRENT_YEAR)
    return R.PackCode(R.LINEAR, gtin, R.GTIN, None, None, None, None, None, symbology, {}, warnings)
