"""The simulator's own checks of pack identifier syntax (VERIFICATION-SERVICE.md, section 5, step 2).

Written independently of ``fmd_core`` on purpose (ARCHITECTURE.md: the service is an independent judge):
GTIN check digit (GS1 General Specifications 7.9.1), IFA PPN and PZN check digits, GS1 character set 82
(GenSpecs 7.11, figure 7.11-1) and YYMMDD dates with day ``00`` (GenSpecs 3.4.7).
"""

from __future__ import annotations

import calendar
import datetime as dt
import string

SET_82 = frozenset(string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_")
TRX_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-")
DIGITS = frozenset(string.digits)


def gs1_check_digit(body: str) -> int:
    """Mod-10 check digit of a GS1 key without its check digit (GenSpecs 7.9.1): weights 3,1,... from the right."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def pzn_check_digit(pzn7: str) -> int:
    """PZN8 check digit: sum of digit_i x i for i = 1..7, mod 11 (10 is never issued)."""
    return sum(int(c) * (i + 1) for i, c in enumerate(pzn7)) % 11


def ppn_check(body10: str) -> str:
    """PPN check characters: sum of ASCII code x weight (2, 3, ...) over the first ten characters, mod 97."""
    return f"{sum(ord(c) * (i + 2) for i, c in enumerate(body10)) % 97:02d}"


def product_code_error(scheme: str, product_code: str) -> str | None:
    """The return code for a malformed product code, or None when it is well formed.

    GTIN: 14 digits with a valid check digit (``NMVS_FE_GR_01`` otherwise). PPN: ``11`` + PZN8 + 2 check
    digits; a wrong PPN check is ``NMVS_FE_GR_01``, a wrong PZN check digit ``NMVS_FE_GR_02``.
    """
    if not product_code or not set(product_code) <= DIGITS:
        return "NMVS_FE_GR_01"
    if scheme == "GTIN":
        if len(product_code) != 14 or gs1_check_digit(product_code[:13]) != int(product_code[13]):
            return "NMVS_FE_GR_01"
        return None
    if len(product_code) != 12 or not product_code.startswith("11"):
        return "NMVS_FE_GR_01"
    if ppn_check(product_code[:10]) != product_code[10:]:
        return "NMVS_FE_GR_01"
    pzn = product_code[2:10]
    if pzn_check_digit(pzn[:7]) != int(pzn[7]):
        return "NMVS_FE_GR_02"
    return None


def is_set82(text: object, max_length: int = 20) -> bool:
    """True for 1..max_length characters of GS1 character set 82 (serial numbers and batches)."""
    return isinstance(text, str) and 0 < len(text) <= max_length and set(text) <= SET_82


def is_trx_id(text: object) -> bool:
    """A client transaction id: 1-32 characters of ``[A-Za-z0-9-]`` (section 6)."""
    return isinstance(text, str) and 0 < len(text) <= 32 and set(text) <= TRX_ID_CHARS


def is_nhrn(text: object) -> bool:
    """A national number (NHRN, AIs 710-717): 1-20 digits (PZN, CIP, ...). Project rule."""
    return isinstance(text, str) and 0 < len(text) <= 20 and set(text) <= DIGITS


def expiry_date(yymmdd: object) -> dt.date | None:
    """The last day the pack may be used, or None for an invalid YYMMDD.

    Day ``00`` means the whole month (GenSpecs 3.4.7), so it counts as the month's last day. Years are
    20YY (the century rule of GenSpecs 7.12 is moot for packs on sale).
    """
    if not isinstance(yymmdd, str) or len(yymmdd) != 6 or not set(yymmdd) <= DIGITS:
        return None
    year, month, day = 2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if not 1 <= month <= 12:
        return None
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        day = last
    if day > last:
        return None
    return dt.date(year, month, day)
