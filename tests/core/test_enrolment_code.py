"""The enrolment code's check letter (issue 14): every single wrong letter and every swap of two
different neighbouring letters is refused, so a misread code is never sent."""

import random

from fmd_core.enrolment_code import TOKEN_ALPHABET, TOKEN_LENGTH, check_letter, token_valid


def _tokens(n=200, seed=14):
    rng = random.Random(seed)
    for _ in range(n):
        body = "".join(rng.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        yield body + check_letter(body)


def test_every_single_substitution_is_refused():
    for token in _tokens():
        assert token_valid(token)
        for i in range(len(token)):
            for letter in TOKEN_ALPHABET:
                if letter != token[i]:
                    assert not token_valid(token[:i] + letter + token[i + 1:]), (token, i, letter)


def test_every_neighbour_swap_is_refused():
    for token in _tokens():
        for i in range(len(token) - 1):
            if token[i] != token[i + 1]:
                assert not token_valid(token[:i] + token[i + 1] + token[i] + token[i + 2:]), (token, i)


def test_only_letters_typed_alike_on_qwerty_azerty_qwertz():
    assert not set(TOKEN_ALPHABET) & set("AQWZYMIO0123456789")
    assert not token_valid("B" * TOKEN_LENGTH) and not token_valid("a" * (TOKEN_LENGTH + 1))
