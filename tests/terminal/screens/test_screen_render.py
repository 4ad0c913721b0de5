"""``render`` beyond the golden images: never raises, keeps what matters, maps missing glyphs."""

from __future__ import annotations

import pytest

from fmd_core.screen import ScreenModel
from fmd_terminal.screens.render import printable, render, wrap


def ink_rows(image, top=0, bottom=64):
    """The rows between ``top`` and ``bottom`` that have at least one lit pixel."""
    width = image.size[0]
    return [y for y in range(top, bottom) if any(image.getpixel((x, y)) for x in range(width))]


@pytest.mark.parametrize(
    "model",
    [
        ScreenModel(),
        ScreenModel("red", "", (), "", ""),
        ScreenModel(None, "x" * 500, ["y" * 500] * 10, "z" * 200, "w" * 200),
        ScreenModel("amber", "日本語 🙂 \u0000\u200b", ("Ω≈ç√∫", "\t\n"), "ÉTÉ", "🙂"),
        ScreenModel("green", "   ", ("", "", ""), " ", " "),
    ],
)
def test_render_never_raises_and_always_gives_a_128x64_mode_1_image(model):
    image = render(model)
    assert image.mode == "1" and image.size == (128, 64)


def test_other_sizes_are_honoured():
    assert render(ScreenModel(None, "Prêt"), 128, 32).size == (128, 32)


def test_the_empty_model_is_a_black_screen():
    assert ink_rows(render(ScreenModel())) == []


def test_red_headline_is_drawn_in_inverse_video():
    red = render(ScreenModel("red", "Boîte périmée", (), "", ""))
    green = render(ScreenModel("green", "Boîte périmée", (), "", ""))
    lit = lambda image: image.convert("L").histogram()[255]  # noqa: E731
    assert lit(red) > 3 * lit(green)
    assert red.getpixel((0, 32)) == 1 and green.getpixel((0, 32)) == 0


def test_three_detail_lines_keep_their_rows_under_a_long_headline():
    headline = "Alerte – ne pas délivrer " * 3
    first = render(ScreenModel("red", headline, ("A24", "ID 42", "Lot 7"), "DÉLIVRER", ""))
    other = render(ScreenModel("red", headline, ("A24", "ID 42", "Lot 8"), "DÉLIVRER", ""))
    # Only the bottom text row depends on the third line: the headline did not push it off.
    changed = [
        y
        for y in range(64)
        if first.crop((0, y, 128, y + 1)).tobytes() != other.crop((0, y, 128, y + 1)).tobytes()
    ]
    assert changed and min(changed) >= 64 - 16
    assert ink_rows(first, 12, 16)  # the headline's inverse-video row is still there


def test_the_accents_are_drawn_above_the_letters():
    plain = render(ScreenModel(None, "E", (), "", ""))
    accented = render(ScreenModel(None, "É", (), "", ""))
    assert min(ink_rows(accented)) < min(ink_rows(plain))


def test_printable_maps_characters_outside_the_font():
    assert printable("Alerte – ne pas délivrer") == "Alerte - ne pas délivrer"
    assert printable("l’œuf coûte 3 €") == "l'oeuf coûte 3 EUR"
    assert printable("Größe ÄÖÜ ß éèàçôêÉ") == "Größe ÄÖÜ ß éèàçôêÉ"
    assert printable("Łódź ő") == "?ódz o"
    assert printable("e\u0301") == "é"  # decomposed accents are composed first
    assert printable("a\u200bb") == "ab"
    assert printable("Série …4F2A") == "Série …4F2A"  # one cell, drawn as dots in the 6x12 font


def test_wrap_breaks_at_spaces_and_splits_words_longer_than_a_row():
    assert wrap("Boîte authentique", 16) == ["Boîte", "authentique"]
    assert wrap("ID-0123456789ABCDEFGHIJ", 10) == ["ID-0123456", "789ABCDEFG", "HIJ"]
    assert wrap("", 10) == []
