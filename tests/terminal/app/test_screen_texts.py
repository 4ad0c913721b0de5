"""Every screen in every language (issue 12): alert screens keep their reason line, no line is shown
twice, the restart list speaks in words, and no screen text is left in another language.

The verdicts come from the real flow (``fmd_core.flow``) settling a scanned pack with a service
answer, for every service code the catalogues translate, with and without an alert, in the two modes
that send (dispense, verify); the presenter then makes the screen in French, English and German.
"""

import re

import pytest

from fmd_core import flow as F
from fmd_core.service import ServiceAnswer
from fmd_terminal import i18n
from fmd_terminal.i18n import Translator
from fmd_terminal.presenter import LINE_CHARS, Presenter

GS = "\x1d"
PACK = "]d2010340093001234517270630" + "10B123" + GS + "21SER0001"
TODAY = "2026-11-26"
CODES = sorted(key[3:] for key in i18n.parse_po(i18n.po_path("fr").read_text(encoding="utf-8"))
               if key.startswith("op."))


def screen(lang, mode, state, answer):
    """The verdict screen of one scan in ``mode`` settled as ``state`` with ``answer``."""
    flow = F.Flow(mode=mode)
    (record,) = flow.scan(PACK, 0, TODAY)
    assert record.kind == F.RECORD
    flow.recorded(7, None, 1)
    (shown,) = [e for e in flow.settled(state, answer, 2) if e.kind == F.SHOW]
    return Presenter(Translator(lang)).verdict(shown.payload)


def answers():
    """(state, answer, alert) for every translated service code, with and without an alert."""
    for code in CODES:
        state = "done" if code == "NMVS_SUCCESS" else "rejected"
        yield state, ServiceAnswer(http_status=200, operation_code=code, state="Active"), False
        yield "rejected", ServiceAnswer(http_status=200, operation_code=code, state="Active",
                                        alert_id="FR-A24-7Q2K9XM4C1", alert_code="A24"), True


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("mode", ["dispense", "verify"])
def test_every_alert_screen_shows_its_reason_line(lang, mode):
    """A red screen names why: the service code's text is the headline or one of the lines, and an
    alert also keeps its code and alert id (the NMVO follow-up needs them); nothing is cut."""
    t = Translator(lang)
    red = 0
    for state, answer, alert in answers():
        model = screen(lang, mode, state, answer)
        if model.light != "red":
            continue
        red += 1
        shown = (model.headline,) + model.lines
        if answer.operation_code != "NMVS_SUCCESS":  # success is no reason: an alert id alone is
            assert t("op." + answer.operation_code) in shown, (lang, mode, answer.operation_code, model)
        if alert:
            assert model.lines[:2] == (t("line.alert", code="A24"), "FR-A24-7Q2K9XM4C1"), model
        assert all(len(line) <= LINE_CHARS for line in model.lines), model
    assert red >= len(CODES)  # at least every code with an alert


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_screen_shows_the_same_line_twice(lang):
    """"Lot rappelé" as headline and as the service code's text is shown once (issue 12)."""
    for mode in ("dispense", "verify"):
        for state, answer, _alert in answers():
            model = screen(lang, mode, state, answer)
            shown = [text.casefold() for text in (model.headline,) + model.lines]
            assert len(shown) == len(set(shown)), (lang, mode, answer.operation_code, model)
    recalled = screen(lang, "dispense", "rejected", ServiceAnswer(http_status=200, operation_code="NMVS_FE_LOT_01"))
    t = Translator(lang)
    assert recalled.headline == t("recalled") == t("op.NMVS_FE_LOT_01")
    assert t("recalled") not in recalled.lines and recalled.lines  # its row went to the pack


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_alert_headlines_fit_one_row_so_three_lines_remain(lang):
    """The renderer gives a headline longer than a row two rows and then only two detail lines: the
    alert screens' headlines fit one row in every language, so none loses its reason line."""
    t = Translator(lang)
    for message_id in ("alert", "inactive_elsewhere", "expired", "recalled", "withdrawn", "stolen", "destroyed"):
        assert len(t(message_id)) <= LINE_CHARS, (lang, message_id, t(message_id))


def test_the_restart_list_says_kind_time_product_serial_and_state_in_words():
    import time

    wall_ns = int(time.mktime((2020, 12, 3, 14, 2, 0, 0, 0, -1)) * 1e9)  # another day: its date
    item = ("dispense", "03400930012345", "7Q2K9XmEQy", "uncertain", wall_ns)
    fr = Presenter(Translator("fr")).notice(F.Notice("restart_list", "dispense", items=(item,)))
    assert fr.headline == "Avant redémarrage"
    assert fr.lines == ("Délivrance le 03/12", "3400930012345 …mEQy", "Réponse inconnue")
    en = Presenter(Translator("en")).restart_lines((("verify", "03400930012345", "X1", "queued", wall_ns),))
    assert en == ["Verification on 03/12", "3400930012345 …X1", "Not sent yet"]
    now = time.time_ns()
    today = Presenter(Translator("de")).restart_lines((("destroy", "04150123456782", "ABCDEFG", "done", now),))
    assert today == [f"Vernichtung um {time.strftime('%H:%M', time.localtime(now / 1e9))}",
                     "04150123456782 …DEFG", "Erledigt"]


# --- no text in the wrong language ----------------------------------------------------------------

# Words that belong to one language only: a text of another language that contains one of them was
# left untranslated or mixes languages ("suffixe unknown").
FOREIGN = {
    "fr": {"the", "is", "and", "not", "unknown", "yes", "no", "none", "pack", "settings", "missing", "wrong",
           "check", "sent", "answer", "inverted", "dropped", "substitute", "enter", "keyboard", "french",
           "german", "spanish", "italian", "belgian", "nicht", "und", "unbekannt"},
    "en": {"le", "la", "les", "des", "du", "est", "pas", "une", "inconnu", "inconnue", "boîte", "oui", "non",
           "clavier", "nicht", "und", "der", "die", "das", "unbekannt", "packung", "ja", "nein"},
    "de": {"the", "is", "unknown", "yes", "no", "none", "pack", "settings", "missing", "wrong", "le", "la",
           "les", "est", "pas", "une", "inconnu", "boîte", "oui", "non", "clavier", "inverted", "dropped",
           "substitute", "french", "spanish", "italian", "belgian"},
}


def foreign_words(lang, text):
    text = re.sub(r"\{[^}]*\}|\b[A-Z][A-Z0-9_]+\b", " ", text)  # fields, and codes such as KEYBOARD_US
    words = re.findall(r"[^\W\d_]+", text.casefold())
    return sorted(set(words) & FOREIGN[lang])


def screen_texts(lang):
    """Every text a person reads on the screen or from the terminal's commands, in ``lang``."""
    from fmd_core.calibration import MESSAGES
    from fmd_terminal.commands.calibrate import LABELS
    from fmd_terminal.demo import TEXTS
    from fmd_terminal.outbox.texts import _TABLES, _WORDS, PROCEDURES

    texts = dict(i18n.parse_po(i18n.po_path(lang).read_text(encoding="utf-8")))
    texts.pop("", None)  # the header
    from fmd_terminal.usage import ARGPARSE

    usage = {"fr": {k: v[0] for k, v in ARGPARSE.items()}, "en": {k: k for k in ARGPARSE},
             "de": {k: v[1] for k, v in ARGPARSE.items()}}  # argparse's texts (fmd-terminal's usage errors)
    for name, catalogue in (("calibration", MESSAGES), ("calibrate", LABELS), ("demo", TEXTS),
                            ("outbox", _TABLES), ("words", _WORDS), ("procedures", PROCEDURES), ("usage", usage)):
        texts.update({f"{name}.{key}": text for key, text in catalogue[lang].items()})
    return texts


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_text_is_left_in_another_language(lang):
    mixed = {key: foreign_words(lang, text) for key, text in screen_texts(lang).items()}
    assert {key: words for key, words in mixed.items() if words} == {}


def test_the_foreign_word_check_finds_a_mixed_text():
    assert foreign_words("fr", "suffixe unknown, GS {gs}") == ["unknown"]
    assert foreign_words("en", "Scan the pack") == []
    assert foreign_words("fr", "scanner « KEYBOARD_US » sur la feuille") == []


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_calibrate_says_everything_in_one_language(tmp_path, capsys, lang):
    """Issue 12: "suffixe unknown", "clavier French (AZERTY)", "casse normal", "GS ctrl" in French
    output. Every keyboard country and way of sending GS, and a serial scan whose suffix framing removed."""
    import json

    from fmd_core.calibration import C1
    from fmd_core.keyboard import ALT, CTRL, CTRL_LAYOUT, type_text
    from fmd_core.keyboard.layouts import LAYOUTS
    from fmd_terminal import cli

    runs = []
    for layout in sorted(LAYOUTS):
        for control in (CTRL, CTRL_LAYOUT, ALT):
            recording = tmp_path / f"{layout}-{control}.jsonl"
            recording.write_text("\n".join(json.dumps([c, v]) for c, v in type_text(C1, layout, control)) + "\n")
            runs.append(["--keys", str(recording)])
    runs.append(["--text", C1.replace("\x1d", "\\x1d")])
    for source in runs:
        cli.main(["calibrate", *source, "--profile", str(tmp_path / "p.json"), "--lang", lang])
        captured = capsys.readouterr()
        out = captured.out + captured.err
        assert out.strip() and foreign_words(lang, out) == [], (source, out)
