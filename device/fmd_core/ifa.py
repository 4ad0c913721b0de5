"""ISO/IEC 15434 envelopes: format 06 (ASC MH10 data identifiers, IFA / securPharm) and format 05.

PACK-CODES.md, "IFA / PPN" and "Inputs it must recognise". An envelope is
``[)>`` RS ``06`` GS field GS field ... RS EOT (ISO/IEC 15434 section 6); a format 05 envelope holds
a GS1 element string instead of data identifier fields. The EOT after the final RS may be missing
(some scanners drop it); a missing final RS is ``truncated``.

Data identifiers (ANSI MH10.8.2; IFA "Codierregeln securPharm" 2.x):
``9N`` PPN (product code), ``1T`` batch, ``D`` expiry YYMMDD (day 00 allowed), ``S`` serial;
``16D`` production date YYYYMMDD, ``8P`` GTIN, ``Q`` quantity and any other identifier are kept as
extras. Serial and batch: 1 to 20 characters of GS1 character set 82.
PPN: ``11`` + PZN8 + two check digits (mod 97); the PZN8 carries its own check digit (mod 11).
"""

from fmd_core import result as R
from fmd_core.check_digits import ppn_check_digits, ppn_check_digits_ok, pzn_check_digit_ok
from fmd_core.dates import date_problem, yyyymmdd_problem
from fmd_core.gs1 import CSET82, DIGITS, GS
from fmd_core.quoting import quote

ENVELOPE_HEADER = "[)>\x1e"
RS = "\x1e"
EOT = "\x04"

DI_PPN = "9N"
DI_BATCH = "1T"
DI_EXPIRY = "D"
DI_SERIAL = "S"
DI_PRODUCTION_DATE = "16D"
DI_GTIN = "8P"

_NAMES = {DI_PPN: "PPN", DI_BATCH: "batch", DI_EXPIRY: "expiry", DI_SERIAL: "serial"}
_MISSING = (
    (DI_PPN, R.MISSING_PRODUCT_CODE),
    (DI_SERIAL, R.MISSING_SERIAL),
    (DI_BATCH, R.MISSING_BATCH),
    (DI_EXPIRY, R.MISSING_EXPIRY),
)
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALNUM = DIGITS | _UPPER


def open_envelope(text: str):
    """``(format, body)`` of an ISO/IEC 15434 envelope; the body has no trailing RS/EOT."""
    if text.endswith(EOT):
        text = text[:-1]
    if not text.endswith(RS) or len(text) < 8:
        raise R.Rejection(R.TRUNCATED, "the ISO/IEC 15434 envelope does not end with RS EOT")
    form = text[4:6]
    if text[6:7] != GS:
        raise R.Rejection(
            R.NOT_A_PACK_CODE, "expected format 05 or 06 then GS after '[)>' RS, got %s" % quote(text[4:7])
        )
    return form, text[7:-1]


def split_identifier(field: str):
    """A field's data identifier (0-3 digits then one capital letter) and its value."""
    pos = 0
    while pos < len(field) and pos < 3 and field[pos] in DIGITS:
        pos += 1
    if pos >= len(field) or field[pos] not in _UPPER:
        raise R.Rejection(R.UNKNOWN_AI, "field %s does not start with a data identifier" % quote(field))
    return field[: pos + 1], field[pos + 1 :]


def parse_format_06(body: str, current_year: int):
    """The data identifier fields of a format 06 body as a dict identifier -> value."""
    fields: dict = {}
    for field in body.split(GS):
        if not field:
            continue
        identifier, value = split_identifier(field)
        if not value:
            raise R.Rejection(R.EMPTY_VALUE, "data identifier %s has an empty value" % identifier, identifier)
        previous = fields.get(identifier)
        if previous is not None and previous != value:
            raise R.Rejection(
                R.DUPLICATE_AI,
                "data identifier %s appears twice, with %s and %s" % (identifier, quote(previous), quote(value)),
                identifier,
            )
        fields[identifier] = value
    for identifier, reason in _MISSING:
        if identifier not in fields:
            raise R.Rejection(reason, "data identifier %s (%s) is missing" % (identifier, _NAMES[identifier]), identifier)
    _check_ppn(fields[DI_PPN])
    for identifier in (DI_SERIAL, DI_BATCH):
        value = fields[identifier]
        if len(value) > 20:
            raise R.Rejection(
                R.TOO_LONG,
                "%s %s has %d characters, at most 20 allowed" % (_NAMES[identifier], quote(value), len(value)),
                identifier,
            )
        if not CSET82.issuperset(value):
            raise R.Rejection(
                R.BAD_CHARSET,
                "%s %s has characters outside GS1 character set 82" % (_NAMES[identifier], quote(value)),
                identifier,
            )
    _check_date(DI_EXPIRY, fields[DI_EXPIRY], 6, current_year)
    if DI_PRODUCTION_DATE in fields:
        _check_date(DI_PRODUCTION_DATE, fields[DI_PRODUCTION_DATE], 8, current_year)
    return fields


def _check_date(identifier: str, value: str, length: int, current_year: int) -> None:
    if len(value) != length:
        raise R.Rejection(
            R.BAD_LENGTH,
            "data identifier %s %s has %d characters, expected %d" % (identifier, quote(value), len(value), length),
            identifier,
        )
    if not DIGITS.issuperset(value):
        raise R.Rejection(
            R.INVALID_DATE, "data identifier %s date %s must be digits only" % (identifier, quote(value)), identifier
        )
    problem = date_problem(value, current_year, True) if length == 6 else yyyymmdd_problem(value)
    if problem:
        raise R.Rejection(
            R.INVALID_DATE, "data identifier %s date %s: %s" % (identifier, quote(value), problem), identifier
        )


def _check_ppn(ppn: str) -> None:
    """PPN: 4 to 22 alphanumerics, two mod-97 check digits; a PZN-based PPN (``11``) also mod 11."""
    if len(ppn) < 4 or len(ppn) > 22:
        raise R.Rejection(R.BAD_LENGTH, "PPN %s has %d characters, expected 4 to 22" % (quote(ppn), len(ppn)))
    if not _ALNUM.issuperset(ppn) or not DIGITS.issuperset(ppn[-2:]):
        raise R.Rejection(
            R.BAD_CHARSET, "PPN %s must be capitals and digits ending in two check digits" % quote(ppn)
        )
    if not ppn_check_digits_ok(ppn):
        raise R.Rejection(
            R.BAD_CHECK_DIGIT,
            "PPN %s check digits are %s, expected %s" % (quote(ppn), ppn[-2:], ppn_check_digits(ppn[:-2])),
        )
    if ppn[:2] == "11":
        if len(ppn) != 12 or not DIGITS.issuperset(ppn):
            raise R.Rejection(R.BAD_LENGTH, "PPN %s with prefix 11 must be 11 + PZN8 + 2 check digits" % quote(ppn))
        if not pzn_check_digit_ok(ppn[2:10]):
            raise R.Rejection(
                R.BAD_CHECK_DIGIT, "PZN %s inside PPN %s has a wrong check digit" % (quote(ppn[2:10]), quote(ppn))
            )
