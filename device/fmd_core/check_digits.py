"""Check digits of pack codes: GS1 mod-10, IFA PPN mod-97, PZN mod-11.

- GS1 General Specifications section 7.9.1: weights 3, 1, 3, ... from the right of the digits
  before the check digit; the check digit brings the sum to a multiple of 10.
- IFA "Spezifikation PPN" (PACK-CODES.md, "IFA / PPN"): sum over the characters before the two
  check digits of (ASCII code x weight), weights 2, 3, 4, ..., taken mod 97.
- PZN8 (IFA): sum of digit_i x i for i = 1..7, mod 11; a result of 10 is never issued.

Every function takes a string already known to hold only ASCII digits where digits are needed.
"""

# "ab" -> a + 3*b: two digits of a weight-1/weight-3 pair in one dict look-up (no per-digit loop).
_PAIR_13 = {}
for _a in range(10):
    for _b in range(10):
        _PAIR_13[str(_a) + str(_b)] = _a + 3 * _b
_DIGIT = {str(_d): _d for _d in range(10)}


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for ``digits`` (the data digits, without the check digit).

    The rightmost data digit has weight 3, so from the left the digits pair up as (1, 3); an odd
    count leaves the first digit alone with weight 3.
    """
    n = len(digits)
    total = 0
    start = n % 2
    if start:
        total = 3 * _DIGIT[digits[0]]
    for i in range(start, n, 2):
        total += _PAIR_13[digits[i : i + 2]]
    return -total % 10


def gs1_check_digit_ok(value: str) -> bool:
    """True when the last digit of ``value`` is the GS1 mod-10 check digit of the others."""
    return gs1_check_digit(value[:-1]) == _DIGIT[value[-1]]


def ppn_check_digits(data: str) -> str:
    """The two PPN check digits (mod 97, weights 2, 3, ... over ASCII codes) for ``data``."""
    total = 0
    weight = 2
    for char in data:
        total += ord(char) * weight
        weight += 1
    result = total % 97
    return ("0" + str(result)) if result < 10 else str(result)


def ppn_check_digits_ok(ppn: str) -> bool:
    return len(ppn) > 2 and ppn_check_digits(ppn[:-2]) == ppn[-2:]


def pzn_check_digit(first7: str):
    """The PZN8 check digit for seven digits, or None when the sum mod 11 is 10 (never issued)."""
    total = 0
    weight = 1
    for char in first7:
        total += _DIGIT[char] * weight
        weight += 1
    result = total % 11
    return None if result == 10 else result


def pzn_check_digit_ok(pzn8: str) -> bool:
    expected = pzn_check_digit(pzn8[:7])
    return expected is not None and expected == _DIGIT[pzn8[7]]
