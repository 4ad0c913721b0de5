"""What the screen says in a receiving session (issue 17), in French, English and German: the note line
and what it holds beside the verdict, the difference as headline unless the answer is red, the role's
refusal of a mode."""

from __future__ import annotations

import pytest

from fmd_core.flow import Notice, Verdict
from fmd_core.outcomes import AMBER, Outcome
from fmd_core.receiving import Check
from fmd_terminal.i18n import Translator
from fmd_terminal.presenter import Presenter

PACK = {"product_code_scheme": "GTIN", "product_code": "03400930012345", "serial": "ABCDEF1234"}


def verdict(check, outcome, details=None):
    return Verdict("scan", 7, "receive", "raw", PACK, None, outcome, "NMVS_SUCCESS", None,
                   details={"receiving": check, **(details or {})}, recorded=True)


@pytest.mark.parametrize("lang, progress, headline, verify_only", [
    ("fr", "Doliprane 10… : 38/40", "Lot différent du bon", "Vérifiée seulement"),
    ("en", "Doliprane 100…: 38/40", "Batch not as on note", "Verified only"),
    ("de", "Doliprane 100…: 38/40", "Charge weicht ab", "Nur geprüft"),
])
def test_a_difference_takes_the_headline_and_the_line_shows_what_it_holds(lang, progress, headline, verify_only):
    check = Check(0, ("batch_differs", "short_expiry"), 38, 40, False, "Doliprane 1000 mg comprimés")
    model = Presenter(Translator(lang)).verdict(verdict(check, Outcome("authentic", AMBER), {"verify_only": True}))
    assert (model.light, model.headline) == ("amber", headline)
    assert model.lines[0] == progress and len(progress) <= 21
    assert model.lines[2] == verify_only


def test_a_red_answer_keeps_its_headline_and_an_unexpected_product_names_its_code():
    presenter = Presenter(Translator("fr"))
    check = Check(None, ("wrong_product",), 0, 0, False)
    model = presenter.verdict(verdict(check, Outcome("recalled")))
    assert model.light == "red" and model.headline == presenter.t("recalled")
    assert "Hors bon de livraison" in model.lines and "CIP 3400930012345" in model.lines


@pytest.mark.parametrize("lang, lines", [
    ("fr", ["Poste : réception", "DÉLIVRER refusé", "Rôle : configuration"]),
    ("en", ["Device: reception", "DISPENSE refused", "Role: configuration"]),
    ("de", ["Gerät: Wareneingang", "ABGABE abgelehnt", "Rolle: Konfiguration"]),
])
def test_a_mode_outside_the_role_says_which_role_and_where_to_change_it(lang, lines):
    model = Presenter(Translator(lang)).notice(Notice("mode_not_in_role", "receive", items=("reception", "dispense")))
    assert list(model.lines) == lines


def test_the_idle_screen_shows_the_note_and_its_progress_while_a_session_is_open(tmp_path):
    import contextlib

    from fmd_core.flow import SCREEN, Effect
    from fmd_terminal import app
    from fmd_terminal.config import Config
    from fmd_terminal.receiving.note import DeliveryNote, NoteLine

    script = tmp_path / "scans.jsonl"
    script.write_text('{"raw": "]d2010340093001234517270630101\\u001d21S1"}\n', encoding="utf-8")
    settings = Config(scanner=f"script://{script}", screen="recording://?render=0", service="scripted://success",
                      role="pui_dock")
    note = DeliveryNote("BL77", (NoteLine("3400930012345", "Doliprane", 40), NoteLine("3400936000001", "Spasfon", 2)),
                        "test")
    with contextlib.ExitStack() as stack:
        terminal = app.build(settings, stack)
        terminal.start_receiving(note)
        terminal.run()
        terminal.apply([Effect(SCREEN, Notice("ready", "receive"))])
        during = terminal.screen.last
        terminal.close_receiving()
        terminal.apply([Effect(SCREEN, Notice("ready", "receive"))])
        after = terminal.screen.last
    assert "BL77 : 1/42" in during.lines
    assert not any("BL77" in line for line in after.lines)
