"""GS1 dates YYMMDD: day 00, the sliding century window, ISO text (no ``datetime``: portable core).

- GS1 General Specifications section 7.12: a two-digit year is placed in the century that puts it
  closest to the current year: a difference (YY - current YY) from 51 to 99 means the previous
  century, from -99 to -50 the next one, anything else the current one.
- GS1 Barcode Syntax Dictionary linter ``yymmd0`` (AI 11, 13, 15, 16, 17, ...): the day may be
  ``00``, which means the last day of the month (GenSpecs section 3.4.2 to 3.4.7, note on DD=00);
  ``yymmdd`` (AI 4326, 7006, ...) does not allow day 00.

The core has no clock: the caller passes ``current_year``. ``DEFAULT_CURRENT_YEAR`` is used when it
does not (the window then places YY 00-76 in 20YY and 77-99 in 19YY).
"""

DEFAULT_CURRENT_YEAR = 2026

_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2 and is_leap_year(year):
        return 29
    return _DAYS[month - 1]


def full_year(yy: int, current_year: int) -> int:
    """The four-digit year of two-digit ``yy`` by the GS1 sliding window (GenSpecs 7.12)."""
    current_yy = current_year % 100
    century = current_year - current_yy
    difference = yy - current_yy
    if difference >= 51:
        return century - 100 + yy
    if difference <= -50:
        return century + 100 + yy
    return century + yy


def date_problem(raw: str, current_year: int, day_zero: bool):
    """Why six digits ``raw`` (YYMMDD) are not a valid date, or None when they are."""
    month = int(raw[2:4])
    if month < 1 or month > 12:
        return "month " + raw[2:4] + " is not 01 to 12"
    day = int(raw[4:6])
    last = days_in_month(full_year(int(raw[0:2]), current_year), month)
    first = 0 if day_zero else 1
    if day < first or day > last:
        return "day %s is not %02d to %d in %s %d" % (
            raw[4:6],
            first,
            last,
            _MONTH_NAMES[month - 1],
            full_year(int(raw[0:2]), current_year),
        )
    return None


def iso_date(raw: str, current_year: int) -> str:
    """ISO 8601 text of a valid YYMMDD; day 00 becomes the month's last day."""
    year = full_year(int(raw[0:2]), current_year)
    month = int(raw[2:4])
    day = int(raw[4:6]) or days_in_month(year, month)
    return "%04d-%02d-%02d" % (year, month, day)


def yyyymmdd_problem(raw: str):
    """Why eight digits ``raw`` (YYYYMMDD, linter ``yyyymmdd``) are not a valid date, or None."""
    year = int(raw[0:4])
    month = int(raw[4:6])
    if month < 1 or month > 12:
        return "month " + raw[4:6] + " is not 01 to 12"
    day = int(raw[6:8])
    if day < 1 or day > days_in_month(year, month):
        return "day %s is not 01 to %d in %s %d" % (
            raw[6:8],
            days_in_month(year, month),
            _MONTH_NAMES[month - 1],
            year,
        )
    return None
