"""The gettext catalogues: complete in French, English and German, compiled .mo up to date, legible on 128x64."""

import gettext

import pytest

from fmd_core import calibration, flow, op_states, outcomes
from fmd_core.modes import MODES, OP_KIND
from fmd_terminal import i18n
from fmd_terminal.errors import ConfigError
from fmd_terminal.presenter import LINE_CHARS


def catalogue(lang):
    messages = i18n.parse_po(i18n.po_path(lang).read_text(encoding="utf-8"))
    messages.pop("")
    return messages


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_committed_mo_is_the_compiled_po(lang):
    committed = i18n.po_path(lang).with_suffix(".mo").read_bytes()
    assert committed == i18n.compile_language(lang), "run: python -m fmd_terminal.i18n compile"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_compiled_mo_reads_back_through_gettext(lang, tmp_path):
    target = tmp_path / "x.mo"
    target.write_bytes(i18n.compile_language(lang))
    with target.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    for message_id, text in catalogue(lang).items():
        assert translations.gettext(message_id) == text


def test_every_language_has_the_same_message_ids_and_no_empty_text():
    ids = {lang: set(catalogue(lang)) for lang in i18n.LANGUAGES}
    assert ids["en"] == ids["fr"], ids["en"] ^ ids["fr"]
    assert ids["de"] == ids["fr"], ids["de"] ^ ids["fr"]
    for lang in i18n.LANGUAGES:
        assert [k for k, v in catalogue(lang).items() if not v.strip()] == []


def test_every_message_id_the_core_can_give_is_translated():
    needed = set(outcomes.MESSAGE_IDS) | set(flow.NOTICE_IDS) | {"mode." + m for m in MODES} | {"fault"}
    # every scanner problem calibration can find, and what a changed scanner's held scan names (issue 8)
    needed |= {"line.scanner." + p for p in calibration.PROBLEMS} | {"line.scanner.keyboard_changed"}
    # the restart list names the op's kind and state in words (issue 12)
    needed |= {"kind." + k for k in set(OP_KIND.values())} | {"state." + s for s in op_states.STATES}
    for lang in i18n.LANGUAGES:
        assert needed - set(catalogue(lang)) == set(), lang


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_texts_fit_a_128x64_screen(lang):
    kinds = [text for message_id, text in catalogue(lang).items() if message_id.startswith("kind.")]
    for message_id, text in catalogue(lang).items():
        if message_id.startswith("text."):
            continue  # fmd-terminal decode --text prints to a terminal window, not to the OLED
        if message_id.startswith("mode."):
            assert len(text) <= 12, (message_id, text)
        elif message_id.startswith(("op.", "line.", "kind.", "state.")):  # one detail line each
            assert (
                len(
                    text.format(
                        code="A24",
                        tail="1234",
                        when="26/11 10:00",
                        age="59 min",
                        reason="bad_check_digit",
                        scheme="CIP",
                        layout="DE",  # a keyboard country's code (line.scanner.keyboard_changed)
                        kind=max(kinds, key=len),  # the restart list (line.restart_at, line.restart_on)
                        time="14:02",
                        date="02/12",
                        quarter="2026Q4",  # the quarter's figure on request (line.quarter_*)
                        n=99,  # late results on the idle screen (line.received), a site's counter (line.site)
                        last="2026-12-02",
                        role="Wareneingang", mode="RÉCEPTION",  # a mode outside the role (issue 17)
                        name="Doliprane 1", counted=38, quantity=40, reference="BL-000042",  # receiving
                        lines=60, packs=2000, ordered=2000, extra=99, alerts=99, line=999,
                    )
                )
                <= LINE_CHARS
            ), (message_id, text)
        else:
            assert len(text) <= 2 * LINE_CHARS, (message_id, text)


def test_french_is_the_default_and_headlines_follow_the_spec():
    t = i18n.Translator()
    assert t("authentic") == "Boîte authentique"
    assert t("alert") == "Ne pas délivrer"  # one row: the alert screen keeps its three detail lines
    assert i18n.Translator("en")("alert") == "Alert – do not supply"
    assert i18n.Translator("de")("badge.pending", n=4) == "4 offen"


def test_unknown_language_is_refused():
    with pytest.raises(ConfigError, match="'it'"):
        i18n.Translator("it")


def test_parse_po_joins_continued_strings_and_unescapes():
    text = 'msgid ""\nmsgstr ""\n"A: b\\n"\n\n# c\nmsgid "x"\nmsgstr "un \\"deux\\" "\n"trois"\n'
    assert i18n.parse_po(text) == {"": "A: b\n", "x": 'un "deux" trois'}


def test_parse_po_refuses_garbage():
    with pytest.raises(ConfigError, match="line 1"):
        i18n.parse_po("hello\n")
