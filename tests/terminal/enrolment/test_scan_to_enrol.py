"""Scan to enrol, end to end (issue 14, items 1 and 2).

The subscription page (French first) takes a seeded letter's identifier and FINESS number and shows a
one-time enrolment code as a Data Matrix; the code is read back from the page's image and given to
``fmd-terminal run`` through ``script://``: the terminal with no credentials shows "Scannez le code
d'inscription", makes its own key, enrols, checks its credentials, shows "Inscrit : <pharmacy>", then
verifies a pack green over mutual TLS with the certificate it was just given. Every refusal (used,
expired, foreign, garbled, wrong clock, no network, untrusted server) leaves nothing written."""

import html
import json
import os
import stat
import subprocess
import sys

import pytest
from enrol_site import LETTERS, subscription_site
from two_protocols import seed

from fmd_core.enrolment_code import TOKEN_ALPHABET
from fmd_terminal.enrolment import FILES, EnrolmentFailed, enrol


@pytest.fixture(scope="module")
def site(mtls_sim):
    with subscription_site(mtls_sim) as running:
        yield running


def fresh_code(site, letter=LETTERS[0], route="direct"):
    page = site.subscribe(letter, route)
    assert page.status_code == 200, page.text
    return site.code_of(page.text)


def run_terminal(tmp_path, scans, lang="fr"):
    script = tmp_path / "scans.jsonl"
    script.write_text("".join(json.dumps(s) + "\n" for s in scans), encoding="utf-8")
    config = tmp_path / "terminal.toml"
    config.write_text(f'lang = "{lang}"\nenrolment_dir = "enrolled"\nmode = "verify"\n'
                      '[sync]\nprobe_gap_s = 0.01\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
    done = subprocess.run([sys.executable, "-m", "fmd_terminal", "run", "--config", str(config),
                           "--scanner", f"script://{script}", "--screen", "console://", "--indicators", "recording://",
                           "--outbox", f"sqlite://{tmp_path / 'outbox.db'}", "--events-jsonl",
                           str(tmp_path / "events.jsonl")], capture_output=True, text=True, timeout=90, env=env)
    return done


def test_the_page_is_french_first_and_speaks_english_and_german(site):
    import requests

    form = html.unescape(requests.get(site.url + "/subscribe", verify=site.ca_bundle, timeout=30).text)
    assert 'lang="fr"' in form and "N° FINESS géographique" in form and "Connecteur de l'Ordre" in form
    english = requests.get(site.url + "/subscribe?lang=en", verify=site.ca_bundle, timeout=30).text
    assert "Unique identifier (letter)" in english
    german = requests.get(site.url + "/subscribe", headers={"Accept-Language": "de-DE,de;q=0.9"},
                          verify=site.ca_bundle, timeout=30).text
    assert "Eindeutige Kennung" in german
    refused = site.subscribe(type(LETTERS[0])(LETTERS[0].identifier, "690000000", "x", "y"))
    assert refused.status_code == 404 and "Refusé" in refused.text
    page = html.unescape(site.subscribe(LETTERS[1], lang="en").text)
    assert "Valid 15 minutes, once" in page and LETTERS[1].name in page


def test_seed_prints_the_letters_the_site_accepts():
    done = subprocess.run([sys.executable, "-m", "fmd_simulator.cli", "seed", "--packs", "0", "--letters", "2"],
                          capture_output=True, text=True, timeout=60, check=True)
    printed = [json.loads(line)["letter"] for line in done.stdout.splitlines()]
    assert printed == [letter.as_dict() for letter in LETTERS[:2]]


def test_a_fresh_terminal_enrols_by_a_scan_and_verifies_green(tmp_path, site, mtls_sim):
    text = fresh_code(site, LETTERS[2])
    assert text.startswith("FMD-ENROL/1 ") and site.enrolment.ca.fingerprint in text
    (pack,) = seed(mtls_sim, 1, 61000)
    done = run_terminal(tmp_path, [{"raw": "]d1" + text}, {"raw": pack["raw"]}])
    assert done.returncode == 0, done.stderr
    assert "Scannez le code d'inscription" in done.stdout
    assert f"Inscrit : {LETTERS[2].name}" in done.stdout
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    verdicts = [e for e in events if e.get("event") == "scan"]
    assert [(v["light"], v["service_code"]) for v in verdicts] == [("green", "NMVS_SUCCESS")], events
    client_id = "ph-" + LETTERS[2].finess
    history = mtls_sim.history(pack["scheme"], pack["productCode"], pack["serial"])["history"]
    assert [h["client"] for h in history] == [client_id]  # the enrolled account, over its new certificate
    directory = tmp_path / "enrolled"
    modes = {name: stat.S_IMODE((directory / name).stat().st_mode) for name in FILES.values()}
    assert modes[FILES["key"]] == 0o600 and modes[FILES["secrets"]] == 0o600
    assert all(not m & 0o022 for m in modes.values())
    assert b"PRIVATE KEY" in (directory / FILES["key"]).read_bytes()
    assert [p.name for p in directory.iterdir() if p.name.startswith(".enrolling")] == []
    # The secret is only in the 0600 secrets file: not in the journal, the logs or service.toml.
    secret = site.enrolment.subscriptions[LETTERS[2].identifier].client.secret
    assert secret not in (tmp_path / "events.jsonl").read_text() and secret not in done.stderr + done.stdout
    assert secret not in (directory / FILES["service"]).read_text()


def test_a_used_code_is_refused_and_the_terminal_keeps_waiting(tmp_path, site):
    text = fresh_code(site, LETTERS[3])
    enrol(text, str(tmp_path / "first"))
    done = run_terminal(tmp_path, [{"raw": text}], lang="fr")
    assert done.returncode == 3  # the script ended without an enrolment
    assert "Code déjà utilisé" in done.stdout and "Demandez un nouveau code" in done.stdout
    assert "terminal non inscrit" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "enrolled" / FILES["service"]).exists()


def _nothing_written(directory):
    return not directory.exists() or list(directory.iterdir()) == []


@pytest.mark.parametrize("case", ["expired", "foreign", "garbled", "clock", "no_network", "untrusted", "not_code"])
def test_every_refusal_writes_nothing(tmp_path, site, mtls_sim, case):
    text = fresh_code(site, LETTERS[4])
    token = text.split()[1]
    wall_clock = None
    if case == "expired":  # 16 minutes later on the simulator's clock (the terminal's clock follows it)
        mtls_sim.set_clock(advanceDays=16 / 1440)
        wall_clock = site.enrolment.now
    elif case == "foreign":  # a well-formed code this service never issued
        body = "".join(TOKEN_ALPHABET[(TOKEN_ALPHABET.index(c) + 1) % 17] for c in token[:-1])
        from fmd_core.enrolment_code import check_letter

        text = text.replace(token, body + check_letter(body))
    elif case == "garbled":
        swapped = token[1] + token[0] + token[2:] if token[0] != token[1] else token[:-1] + \
            TOKEN_ALPHABET[(TOKEN_ALPHABET.index(token[-1]) + 1) % 17]
        text = text.replace(token, swapped)
    elif case == "clock":
        wall_clock = lambda: site.enrolment.now() + 3600  # noqa: E731  an hour ahead of the service
    elif case == "no_network":
        text = text.rsplit(" ", 1)[0] + " https://127.0.0.1:9"  # nothing listens on the discard port
    elif case == "untrusted":
        text = text.replace(text.split()[2], "0" * 64)
    else:
        text = "]d2010340093000001417281231"
    directory = tmp_path / "enrolled"
    try:
        with pytest.raises(EnrolmentFailed) as refused:
            enrol(text, str(directory), **({"wall_clock": wall_clock} if wall_clock else {}))
    finally:
        if case == "expired":
            mtls_sim.set_clock(advanceDays=-16 / 1440)
    assert refused.value.reason == case
    assert _nothing_written(directory)
    if case in ("garbled", "no_network", "untrusted", "not_code"):  # refused before the code was sent
        assert token not in site.enrolment.used


def test_unset_terminal_clock_is_refused_before_anything_is_sent(tmp_path, site):
    text = fresh_code(site, LETTERS[5])
    with pytest.raises(EnrolmentFailed) as refused:
        enrol(text, str(tmp_path / "e"), wall_clock=lambda: 86400.0 * 365)  # 1971: the clock was never set
    assert refused.value.reason == "clock" and not (tmp_path / "e").exists()
    assert text.split()[1] not in site.enrolment.used


def test_enrol_command_from_a_file(tmp_path, site):
    from fmd_terminal.cli import main

    code_file = tmp_path / "code.txt"
    code_file.write_text(fresh_code(site, LETTERS[6]) + "\n")
    config = tmp_path / "t.toml"
    config.write_text('enrolment_dir = "creds"\n')
    assert main(["enrol", "--config", str(config), "--file", str(code_file), "--lang", "en"]) == 0
    from fmd_terminal import config as terminal_config

    loaded = terminal_config.load(str(config), environ={})
    assert loaded.client_id == "ph-" + LETTERS[6].finess and loaded.client_secret
    assert loaded.client_key.endswith(FILES["key"]) and loaded.service.startswith("https://127.0.0.1:")
    assert main(["enrol", "--config", str(config), "--file", str(code_file), "--lang", "de"]) == 3  # used now
