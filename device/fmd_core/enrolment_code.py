"""The one-time enrolment code's token: alphabet, length and check letter (issue 14).

Shared by the issuer (the simulator's subscription site) and the terminal that scans it. The letters
are those typed alike on QWERTY, AZERTY and QWERTZ keyboards (no A, Q, W, Z, Y, M) without I and O,
and their count is prime (17), so the check letter (weighted sum mod 17, weights 1..n) catches every
single wrong letter and every swap of two neighbouring letters before anything is sent. Portable:
no I/O, MicroPython-compatible.
"""

CODE_PREFIX = "FMD-ENROL/1"
TOKEN_ALPHABET = "BCDEFGHJKLNPRSTUV"
TOKEN_LENGTH = 12


def check_letter(body):
    """The check letter of a token's ``TOKEN_LENGTH`` letters."""
    total = 0
    for i, ch in enumerate(body):
        total += (i + 1) * TOKEN_ALPHABET.index(ch)
    return TOKEN_ALPHABET[total % len(TOKEN_ALPHABET)]


def token_valid(token):
    """True for letters of the alphabet, the right length and a matching check letter."""
    if len(token) != TOKEN_LENGTH + 1:
        return False
    for ch in token:
        if ch not in TOKEN_ALPHABET:
            return False
    return check_letter(token[:-1]) == token[-1]
