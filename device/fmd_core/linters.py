"""Every linter of GS1's Barcode Syntax Dictionary, in portable Python (CPython and MicroPython).

The dictionary (``third_party/gs1/gs1-syntax-dictionary.txt``, grammar in its header) names, per AI
component, the "Linter" routines of the GS1 Barcode Syntax Resource that check its content; the
Barcode Syntax Tests describe what each one accepts. ``LINTERS`` maps every linter name the
dictionary uses to a function ``lint(part, current_year)`` that returns ``None`` when ``part`` passes,
else ``(reason, detail)`` with one of the decoder's reason codes and an English sentence.
``tools/generate_ai_table.py`` refuses a dictionary naming a linter that is not in ``LINTERS``.

The code lists (ISO 3166-1, ISO 4217, GS1 PackageTypeCode) are generated literals in
``linter_data``. The component's character set (``N``, ``X``, ``Y``, ``Z``) is checked before its
linters (``gs1.check_value``), so a linter sees only characters of that set.

Reasons: check characters -> ``bad_check_digit``; dates and times -> ``invalid_date``; a value
outside its code list or format -> ``invalid_value``.
"""

from fmd_core import result as R
from fmd_core.check_digits import gs1_check_digit, gs1_check_digit_ok
from fmd_core.dates import date_problem, yyyymmdd_problem
from fmd_core.linter_data import ISO3166_ALPHA2, ISO3166_NUMERIC, ISO4217_NUMERIC, PACKAGE_TYPES
from fmd_core.quoting import quote

_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"
# GenSpecs "Check character calculation (for alphanumeric keys)": set 82 in weight order, then the 32 check characters.
_CSET82_ORDER = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CSET82_VALUE = {}
for _index in range(len(_CSET82_ORDER)):
    _CSET82_VALUE[_CSET82_ORDER[_index]] = _index


def _primes(count):
    found = []
    candidate = 2
    while len(found) < count:
        for prime in found:
            if prime * prime > candidate:
                found.append(candidate)
                break
            if candidate % prime == 0:
                break
        else:
            found.append(candidate)
        candidate += 1
    return tuple(found)


_PRIMES = _primes(97)
_IMPORTER_INDEX = frozenset("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_IBAN_VALUE = {}
for _index in range(36):
    _IBAN_VALUE["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[_index]] = _index
_GCP_MIN_LENGTH = 4  # GenSpecs "GS1 Company Prefix": the shortest has four digits


def _bad(text):
    return R.INVALID_VALUE, text


def _all_digits(part):
    for char in part:
        if char not in _DIGITS:
            return False
    return True


def csum(part, _year):
    """GenSpecs 7.9.1: GS1 mod-10 check digit over the whole component."""
    if not gs1_check_digit_ok(part):
        return R.BAD_CHECK_DIGIT, "check digit is %s, expected %d" % (part[-1], gs1_check_digit(part[:-1]))
    return None


def csumalpha(part, _year):
    """GenSpecs "Check character calculation (for alphanumeric keys)": the last two characters are
    the check character pair of the others.

    Data characters weigh their place in set 82 times the primes 2, 3, 5, ... from the right; the sum
    mod 1021 split into two 5-bit values picks the pair from the 32 check characters.
    """
    if len(part) < 2:
        return _bad("%s is too short for a check character pair" % quote(part))
    if len(part) - 2 > len(_PRIMES):
        return _bad("%s is too long for a check character pair" % quote(part))
    data = part[:-2]
    total = 0
    weight = len(data) - 1
    for char in data:
        total += _CSET82_VALUE[char] * _PRIMES[weight]
        weight -= 1
    total %= 1021
    expected = _CSET32[total >> 5] + _CSET32[total & 31]
    if part[-2:] != expected:
        return R.BAD_CHECK_DIGIT, "check character pair is %s, expected %s" % (quote(part[-2:]), quote(expected))
    return None


def gcppos1(part, _year):
    """GenSpecs "GS1 Company Prefix": the value starts with one (at least four digits).

    Without GS1's registry the check is the one the Syntax Tests make offline: four digits.
    """
    if len(part) < _GCP_MIN_LENGTH:
        return _bad("%s is too short to start with a GS1 Company Prefix" % quote(part))
    if not _all_digits(part[:_GCP_MIN_LENGTH]):
        return _bad("%s does not start with a GS1 Company Prefix (four digits)" % quote(part))
    return None


def gcppos2(part, year):
    """As ``gcppos1`` from the second character (after an indicator or extension digit)."""
    if len(part) < 2:
        return _bad("%s is too short to hold a GS1 Company Prefix" % quote(part))
    return gcppos1(part[1:], year)


def yymmd0(part, year):
    """GenSpecs 7.12: YYMMDD, day 00 meaning the month's last day."""
    problem = date_problem(part, year, True)
    return None if problem is None else (R.INVALID_DATE, "date %s: %s" % (quote(part), problem))


def yymmdd(part, year):
    """GenSpecs 7.12: YYMMDD, day 01 to the month's last."""
    problem = date_problem(part, year, False)
    return None if problem is None else (R.INVALID_DATE, "date %s: %s" % (quote(part), problem))


def yyyymmdd(part, _year):
    problem = yyyymmdd_problem(part)
    return None if problem is None else (R.INVALID_DATE, "date %s: %s" % (quote(part), problem))


def _below(limits, what):
    def lint(part, _year):
        for index in range(len(limits)):
            if int(part[2 * index : 2 * index + 2]) >= limits[index]:
                return R.INVALID_DATE, "%s %s is out of range" % (what, quote(part))
        return None

    return lint


def _in_list(values, what):
    def lint(part, _year):
        if part not in values:
            return _bad("%s is not %s" % (quote(part), what))
        return None

    return lint


def iso3166999(part, _year):
    """ISO 3166-1 numeric country code, or 999 (GenSpecs, AIs 7030-7039: country not given)."""
    if part == "999" or part in ISO3166_NUMERIC:
        return None
    return _bad("%s is neither an ISO 3166-1 numeric country code nor 999" % quote(part))


def iban(part, _year):
    """ISO 13616-1: country code (ISO 3166-1 alpha-2), check digits, mod 97 = 1, at most 34."""
    if len(part) < 4:
        return _bad("%s is too short for an IBAN" % quote(part))
    if part[:2] not in ISO3166_ALPHA2:
        return _bad("IBAN %s does not start with an ISO 3166-1 country code" % quote(part))
    if len(part) > 34:
        return _bad("IBAN %s is longer than 34 characters" % quote(part))
    if len(part) <= 10:
        return _bad("%s is too short for an IBAN" % quote(part))
    remainder = 0
    rotated = part[4:] + part[:4]
    for char in rotated:
        value = _IBAN_VALUE.get(char)
        if value is None:
            return _bad("IBAN %s contains %s, expected digits and capital letters" % (quote(part), quote(char)))
        remainder = (remainder * (10 if value < 10 else 100) + value) % 97
    if remainder != 1:
        return R.BAD_CHECK_DIGIT, "IBAN %s check digits %s are wrong" % (quote(part), part[2:4])
    return None


def pcenc(part, _year):
    """RFC 3986 section 2.1: each ``%`` starts two hexadecimal digits."""
    at = part.find("%")
    while at >= 0:
        if len(part) - at < 3:
            return _bad("%s ends inside a percent-escape" % quote(part))
        if part[at + 1] not in _HEX or part[at + 2] not in _HEX:
            return _bad("%s holds %s, not a percent-escape" % (quote(part), quote(part[at : at + 3])))
        at = part.find("%", at + 3)
    return None


def pieceoftotal(part, _year):
    """Piece number then total, equal widths, neither zero, piece not above total (AI 8006, 8026)."""
    half = len(part) // 2
    if not part or len(part) % 2:
        return _bad("%s does not split into piece and total of equal width" % quote(part))
    piece, total = part[:half], part[half:]
    if int(piece) == 0 or int(total) == 0:
        return _bad("piece of total %s has a zero %s" % (quote(part), "piece" if int(piece) == 0 else "total"))
    if int(piece) > int(total):
        return _bad("piece %s is above the total %s" % (piece, total))
    return None


def posinseqslash(part, _year):
    """Position in a sequence ``<pos>/<end>``: digits, no zero prefix, position not above the end."""
    slash = part.find("/")
    pos, end = part[:slash], part[slash + 1 :]
    if slash <= 0 or not end or not _all_digits(pos) or not _all_digits(end):
        return _bad("%s is not <position>/<end>" % quote(part))
    if pos[0] == "0" or end[0] == "0":
        return _bad("%s has a zero or a leading zero" % quote(part))
    if int(pos) > int(end):
        return _bad("position %s is after the end %s" % (pos, end))
    return None


def hyphen(part, _year):
    if part.strip("-"):
        return _bad("%s holds something other than '-'" % quote(part))
    return None


def importeridx(part, _year):
    """Importer index of AI (7040), EU Regulation 2018/574 (GenSpecs, AI 7040): - 0-9 A-Z _ a-z."""
    if len(part) != 1 or part not in _IMPORTER_INDEX:
        return _bad("%s is not an importer index (- 0-9 A-Z _ a-z)" % quote(part))
    return None


def _coordinate(limit, what):
    def lint(part, _year):
        if len(part) != 10:
            return _bad("%s %s is not 10 digits" % (what, quote(part)))
        if int(part) > limit:
            return _bad("%s %s is above %d" % (what, quote(part), limit))
        return None

    return lint


def nonzero(part, _year):
    if int(part) == 0:
        return _bad("%s may not be zero" % quote(part))
    return None


def zero(part, _year):
    if part != "0":
        return _bad("%s must be 0" % quote(part))
    return None


def nozeroprefix(part, _year):
    if len(part) > 1 and part[0] == "0":
        return _bad("%s may not start with 0" % quote(part))
    return None


def hasnondigit(part, _year):
    if _all_digits(part):
        return _bad("%s must hold a character that is not a digit" % quote(part))
    return None


class _Reader:
    """Walks a coupon code: fixed fields and fields led by a variable length indicator (VLI)."""

    __slots__ = ("text", "pos", "year")

    def __init__(self, text, year):
        self.text = text
        self.pos = 0
        self.year = year

    def more(self):
        return self.pos < len(self.text)

    def peek(self):
        return self.text[self.pos : self.pos + 1]

    def digit(self, allowed, what):
        char = self.text[self.pos : self.pos + 1]
        if not char:
            raise R.Rejection(R.INVALID_VALUE, "coupon code ends before its %s" % what)
        if char not in allowed:
            raise R.Rejection(R.INVALID_VALUE, "coupon %s %s is not one of %s" % (what, char, allowed))
        self.pos += 1
        return int(char)

    def take(self, count, what):
        if len(self.text) - self.pos < count:
            raise R.Rejection(R.INVALID_VALUE, "coupon %s is cut short" % what)
        self.pos += count
        return self.text[self.pos - count : self.pos]

    def gcp(self, count, what):
        problem = gcppos1(self.take(count, what), 0)
        if problem:
            raise R.Rejection(problem[0], "coupon " + what + ": " + problem[1])

    def date(self, what):
        value = self.take(6, what)
        problem = date_problem(value, self.year, False)
        if problem:
            raise R.Rejection(R.INVALID_VALUE, "coupon %s %s: %s" % (what, quote(value), problem))
        return value


def _coupon(check):
    def lint(part, year):
        if not _all_digits(part):
            return _bad("coupon code %s holds a character that is not a digit" % quote(part))
        reader = _Reader(part, year)
        problem = None
        try:
            check(reader)
            if reader.more():
                problem = _bad("coupon code %s has data after its last field" % quote(part))
        except R.Rejection as rejection:
            problem = rejection.reason, rejection.detail
        return problem

    return lint


def _purchase(reader, which):
    reader.take(reader.digit("12345", which + " purchase requirement length"), which + " purchase requirement")
    reader.digit("012349", which + " purchase requirement code")
    reader.take(3, which + " purchase family code")


def _optional_gcp(reader, which):
    vli = reader.digit("01234569", which + " purchase GS1 Company Prefix length")
    if vli != 9:
        reader.gcp(vli + 6, which + " purchase GS1 Company Prefix")


def _north_american_coupon(reader):
    """AI (8110): GS1 US "North American Coupon Application Guideline Using GS1 DataBar Expanded"."""
    reader.gcp(reader.digit("0123456", "GS1 Company Prefix length") + 6, "GS1 Company Prefix")
    reader.take(6, "offer code")
    reader.take(reader.digit("12345", "save value length"), "save value")
    _purchase(reader, "first")
    if reader.peek() == "1":
        reader.pos += 1
        reader.digit("0123", "additional purchase rules code")
        _purchase(reader, "second")
        _optional_gcp(reader, "second")
    if reader.peek() == "2":
        reader.pos += 1
        _purchase(reader, "third")
        _optional_gcp(reader, "third")
    expiry = None
    if reader.peek() == "3":
        reader.pos += 1
        expiry = reader.date("expiration date")
    if reader.peek() == "4":
        reader.pos += 1
        start = reader.date("start date")
        if expiry is not None and start > expiry:
            raise R.Rejection(R.INVALID_VALUE, "coupon start date %s is after its expiration date %s" % (start, expiry))
    if reader.peek() == "5":
        reader.pos += 1
        reader.take(reader.digit(_DIGITS, "serial number length") + 6, "serial number")
    if reader.peek() == "6":
        reader.pos += 1
        reader.gcp(reader.digit("1234567", "retailer GS1 Company Prefix length") + 6, "retailer GS1 Company Prefix")
    if reader.peek() == "9":
        reader.pos += 1
        reader.digit("01256", "save value code")
        reader.digit("012", "save value applies to item")
        reader.digit(_DIGITS, "store coupon flag")
        reader.digit("01", "don't multiply flag")


def _positive_offer_coupon(reader):
    """AI (8112): GS1 US "AI (8112) Coupon Data Specification" (positive offer file)."""
    reader.digit("01", "format code")
    reader.take(reader.digit("0123456", "funder ID length") + 6, "funder ID")
    reader.take(6, "offer code")
    reader.take(reader.digit(_DIGITS, "serial number length") + 6, "serial number")


LINTERS = {
    "csum": csum,
    "csumalpha": csumalpha,
    "gcppos1": gcppos1,
    "gcppos2": gcppos2,
    "yymmd0": yymmd0,
    "yymmdd": yymmdd,
    "yyyymmdd": yyyymmdd,
    "hhmi": _below((24, 60), "time"),
    "hh": _below((24,), "hour"),
    "mi": _below((60,), "minutes"),
    "ss": _below((60,), "seconds"),
    "iso3166": _in_list(ISO3166_NUMERIC, "an ISO 3166-1 numeric country code"),
    "iso3166999": iso3166999,
    "iso3166alpha2": _in_list(ISO3166_ALPHA2, "an ISO 3166-1 alpha-2 country code"),
    "iso4217": _in_list(ISO4217_NUMERIC, "an ISO 4217 numeric currency code"),
    "iso5218": _in_list(("0", "1", "2", "9"), "an ISO/IEC 5218 sex code (0, 1, 2 or 9)"),
    "iban": iban,
    "pcenc": pcenc,
    "pieceoftotal": pieceoftotal,
    "posinseqslash": posinseqslash,
    "yesno": _in_list(("0", "1"), "0 (no) or 1 (yes)"),
    "winding": _in_list(("0", "1", "9"), "a winding direction (0, 1 or 9)"),
    "mediatype": _in_list(
        tuple("%02d" % n for n in range(1, 11)) + tuple(str(n) for n in range(80, 100)),
        "an AIDC media type (01-10, 80-99)",
    ),
    "packagetype": _in_list(PACKAGE_TYPES, "a GS1 package type code"),
    "hyphen": hyphen,
    "importeridx": importeridx,
    "latitude": _coordinate(1800000000, "latitude"),
    "longitude": _coordinate(3600000000, "longitude"),
    "nonzero": nonzero,
    "zero": zero,
    "nozeroprefix": nozeroprefix,
    "hasnondigit": hasnondigit,
    "couponcode": _coupon(_north_american_coupon),
    "couponposoffer": _coupon(_positive_offer_coupon),
}

# Linters that check a date or time: a component that carries one reads a non-digit as a bad date.
DATE_LINTERS = ("yymmd0", "yymmdd", "yyyymmdd", "hhmi", "hh", "mi", "ss")
