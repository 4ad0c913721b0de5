"""Every linter of GS1's Barcode Syntax Dictionary on values it must accept and refuse.

A case: ``{"id", "linter", "value", "reason"}`` where ``reason`` is None for a value the linter
accepts, else the reason code it must give. The values were written from the rule each linter
implements (GS1 General Specifications sections cited in ``fmd_core.linters``, ISO 3166-1,
ISO 4217, ISO 13616-1, RFC 3986), several from the GS1 Barcode Syntax Tests' own examples.
``check`` also fails when the dictionary names a linter that no case covers.
"""

from fmd_core.ai_table import AI_TABLE
from fmd_core.linters import LINTERS

OK = None
BAD = "invalid_value"
CHECK = "bad_check_digit"
DATE = "invalid_date"

_VECTORS = (
    ("csum", "03400930012345", OK),
    ("csum", "03400930012346", CHECK),
    ("csumalpha", "1987654Ad4X4bL5ttr2310c2K", OK),
    ("csumalpha", "1987654Ad4X4bL5ttr2310cXK", CHECK),
    ("csumalpha", "12345678901234MS", OK),
    ("csumalpha", "2", BAD),
    ("gcppos1", "0123", OK),
    ("gcppos1", "012A45", BAD),
    ("gcppos1", "012", BAD),
    ("gcppos2", "10123", OK),
    ("gcppos2", "1A123", BAD),
    ("yymmd0", "270200", OK),
    ("yymmd0", "271301", DATE),
    ("yymmdd", "270101", OK),
    ("yymmdd", "270100", DATE),
    ("yyyymmdd", "20280229", OK),
    ("yyyymmdd", "20270229", DATE),
    ("hhmi", "2359", OK),
    ("hhmi", "2400", DATE),
    ("hh", "23", OK),
    ("hh", "24", DATE),
    ("mi", "59", OK),
    ("mi", "60", DATE),
    ("ss", "59", OK),
    ("ss", "60", DATE),
    ("iso3166", "250", OK),
    ("iso3166", "276", OK),
    ("iso3166", "999", BAD),
    ("iso3166", "000", BAD),
    ("iso3166999", "999", OK),
    ("iso3166999", "380", OK),
    ("iso3166999", "998", BAD),
    ("iso3166alpha2", "FR", OK),
    ("iso3166alpha2", "XX", BAD),
    ("iso3166alpha2", "fr", BAD),
    ("iso4217", "978", OK),
    ("iso4217", "756", OK),
    ("iso4217", "000", BAD),
    ("iso5218", "9", OK),
    ("iso5218", "3", BAD),
    ("iban", "FR7630006000011234567890189", OK),
    ("iban", "DE91100000000123456789", OK),
    ("iban", "MT90MALT011000012345MTLCAST001SABC", OK),
    ("iban", "BE71096123456760", CHECK),
    ("iban", "XX361234567890", BAD),
    ("iban", "BE71", BAD),
    ("iban", "LC14BOSLxx3456789012345678901230", BAD),
    ("iban", "MTXXMALT011000012345MTLCAST001SABCD", BAD),
    ("pcenc", "ABC%20XYZ", OK),
    ("pcenc", "ABC%gX", BAD),
    ("pcenc", "ABC%2", BAD),
    ("pieceoftotal", "0103", OK),
    ("pieceoftotal", "0303", OK),
    ("pieceoftotal", "0001", BAD),
    ("pieceoftotal", "0100", BAD),
    ("pieceoftotal", "0908", BAD),
    ("posinseqslash", "9/10", OK),
    ("posinseqslash", "10/9", BAD),
    ("posinseqslash", "01/2", BAD),
    ("posinseqslash", "1//2", BAD),
    ("yesno", "1", OK),
    ("yesno", "2", BAD),
    ("winding", "9", OK),
    ("winding", "2", BAD),
    ("mediatype", "01", OK),
    ("mediatype", "80", OK),
    ("mediatype", "11", BAD),
    ("mediatype", "00", BAD),
    ("packagetype", "BX", OK),
    ("packagetype", "RB1", OK),
    ("packagetype", "8", OK),
    ("packagetype", "QQQ", BAD),
    ("hyphen", "-", OK),
    ("hyphen", "A", BAD),
    ("importeridx", "_", OK),
    ("importeridx", "!", BAD),
    ("latitude", "1800000000", OK),
    ("latitude", "1800000001", BAD),
    ("longitude", "3600000000", OK),
    ("longitude", "3600000001", BAD),
    ("nonzero", "0001", OK),
    ("nonzero", "0000", BAD),
    ("zero", "0", OK),
    ("zero", "1", BAD),
    ("nozeroprefix", "0", OK),
    ("nozeroprefix", "10", OK),
    ("nozeroprefix", "01", BAD),
    ("hasnondigit", "12A", OK),
    ("hasnondigit", "123", BAD),
    ("couponcode", "012345612345611110123", OK),
    ("couponcode", "012345612345611110123" + "3" + "270630" + "4" + "270101", OK),
    ("couponcode", "012345612345611110123" + "3" + "270101" + "4" + "270630", BAD),
    ("couponcode", "71234567890123", BAD),
    ("couponcode", "0123456123456", BAD),
    ("couponcode", "012345612345611110123" + "9" + "3", BAD),
    ("couponposoffer", "001234561234560123456", OK),
    ("couponposoffer", "0012345612345601234567", BAD),
    ("couponposoffer", "201234561234560123456", BAD),
)

CASES = []
for _index in range(len(_VECTORS)):
    _name, _value, _reason = _VECTORS[_index]
    CASES.append({"id": "%s-%d" % (_name, _index), "linter": _name, "value": _value, "reason": _reason})


def _dictionary_linters():
    names = {}
    for ai in AI_TABLE:
        for component in AI_TABLE[ai][2]:
            for name in component[4]:
                names[name] = ai
    return names


CASES.append({"id": "every-dictionary-linter-covered", "linter": None, "value": None, "reason": None})


def check(case):
    """None when the linter answers as the case says (see tables/__init__)."""
    if case["linter"] is None:
        covered = {}
        for other in CASES:
            if other["linter"] is not None:
                covered[other["linter"]] = covered.get(other["linter"], 0) + (1 if other["reason"] else 0)
        for name in _dictionary_linters():
            if name not in LINTERS:
                return "the dictionary names linter %s, not implemented" % name
            if not covered.get(name):
                return "no case shows linter %s refusing a value" % name
        return None
    problem = LINTERS[case["linter"]](case["value"], 2026)
    got = None if problem is None else problem[0]
    if got != case["reason"]:
        return "expected %s, got %s" % (case["reason"], problem)
    if problem is not None and (not isinstance(problem[1], str) or not problem[1]):
        return "no explanation given"
    return None


def outcome(case):
    """The linter's whole answer (reason and message), compared between CPython and MicroPython."""
    if case["linter"] is None:
        return None
    problem = LINTERS[case["linter"]](case["value"], 2026)
    return None if problem is None else list(problem)
