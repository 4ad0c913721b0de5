"""The console's receiving page refuses (issue 17), in process over loopback HTTP: a note above the size
limit (not even read), a form without its CSRF token, a device whose role does not receive, a file that
is not a note, a receipt that does not exist; nothing starts, and each refusal is in the audit trail."""

from __future__ import annotations

import contextlib
import re

import pytest
import requests

from fmd_terminal import app, console
from fmd_terminal.config import Config
from fmd_terminal.console.server import max_upload

PASSWORD = "pharmacie-du-port"
NOTE = "Code produit;Désignation;Quantité\n3400930012345;Doliprane;2\n"


@contextlib.contextmanager
def running(tmp_path, role):
    port_probe = __import__("socket").socket()
    port_probe.bind(("127.0.0.1", 0))
    port = port_probe.getsockname()[1]
    port_probe.close()
    settings = Config(screen="recording://?render=0", service="scripted://success", role=role, usb_notes="",
                      scanner="script:///dev/null", outbox=f"sqlite://{tmp_path / 'outbox.db'}",
                      console={"listen": f"127.0.0.1:{port}", "state_dir": str(tmp_path / "console")}).validate()
    with contextlib.ExitStack() as stack:
        terminal = app.build(settings, stack)
        web = console.start(settings, terminal, stack)
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        page = http.get(base + "/setup")
        pre = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        code = (tmp_path / "console" / "setup-code").read_text().strip()
        http.post(base + "/setup", data={"csrf": pre, "code": code, "password": PASSWORD})
        page = http.get(base + "/login")
        pre = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        http.post(base + "/login", data={"csrf": pre, "user": "Paul", "password": PASSWORD})
        csrf = re.search(r'name="csrf" value="([^"]+)"', http.get(base + "/receiving").text).group(1)
        yield terminal, web, http, base, csrf


def upload(http, base, csrf, name, data, **fields):
    return http.post(base + "/receiving", data={"action": "start", **({"csrf": csrf} if csrf else {}), **fields},
                     files={"note": (name, data, "text/csv")})


def test_refusals_start_nothing_and_are_audited(tmp_path):
    with running(tmp_path, "reception") as (terminal, web, http, base, csrf):
        too_big = upload(http, base, csrf, "BL1.csv", b"x" * (max_upload() + 1))
        assert too_big.status_code == 413 and "trop gros" in too_big.text
        no_token = upload(http, base, "", "BL1.csv", NOTE.encode())
        assert no_token.status_code == 403
        other = upload(http, base, csrf, "BL1.pdf", b"%PDF-1.4")
        assert other.status_code == 400 and "BL1.pdf" in other.text and ".csv ou .xml" in other.text
        missing = http.get(base + "/receipt.csv?id=99")
        assert missing.status_code == 404 and "Réception 99 introuvable" in missing.text
        assert terminal._asked_note is None and terminal.session is None
        fine = upload(http, base, csrf, "BL1.csv", NOTE.encode())
        assert fine.status_code == 200 and "Réception BL1 demandée" in fine.text
        assert terminal._asked_note is not None and terminal._asked_note.source == "console:BL1.csv"
        actions = [entry["action"] for entry in web.audit.today()]
    assert actions.count("refused_note") == 2 and "refused_csrf" in actions and "receive_note" in actions


@pytest.mark.parametrize("lang, words", [("fr", "ne reçoit pas"), ("en", "does not receive"),
                                         ("de", "nimmt keine Lieferungen an")])
def test_a_counter_cannot_receive_from_the_console(tmp_path, lang, words):
    with running(tmp_path, "counter") as (terminal, _web, http, base, csrf):
        refused = upload(http, base, csrf, "BL1.csv", NOTE.encode())
        assert refused.status_code == 409 and terminal._asked_note is None
        from fmd_terminal.console.texts import text

        assert words in text("receive_role", lang, role="counter")
        assert "ne reçoit pas" in refused.text  # the session's language: French, as configured
