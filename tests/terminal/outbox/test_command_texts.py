"""``attention``, ``sync`` and ``export`` speak French (default), English or German to a person.

ARCHITECTURE.md (user-facing messages in fr/en/de); ``--lang``, else ``FMD_LANG``, else French.
Machine-readable output (JSON lines, CSV columns) does not change with the language.
"""

import csv
import json
import string

import pytest
from test_commands import fill, needs_attention

from fmd_terminal.cli import main
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.texts import _TABLES, _WORDS, PROCEDURES, Texts, language

LIST = {
    "fr": ["opération {seq} : délivrance (enregistrée hors ligne)", "n° de série SER000001", "bloque [2]",
           "procédure : Mettre la boîte en quarantaine ; suivre la procédure d'alerte (n° de série inconnu).",
           "actions : réessayer (attention retry {seq}", "heure exacte"],
    "en": ["seq {seq}: dispense (recorded offline)", "serial SER000001", "blocks [2]",
           "procedure: Quarantine the pack; follow the alert procedure (serial unknown).",
           "actions: retry (attention retry {seq}", "time exact"],
    "de": ["Vorgang {seq}: Abgabe (offline erfasst)", "Seriennummer SER000001", "blockiert [2]",
           "Vorgehen: Packung in Quarantäne nehmen; dem Alarmverfahren folgen (Seriennummer unbekannt).",
           "Aktionen: erneut senden (attention retry {seq}", "Zeit exakt"],
}
RESOLVED = {"fr": "opération {seq} : annulée", "en": "seq {seq}: cancelled", "de": "Vorgang {seq}: storniert"}
NO_REASON = {"fr": "une annulation demande --reason parmi", "en": "a cancel needs --reason, one of",
             "de": "eine Stornierung braucht --reason, eines von"}
NOT_ATTENTION = {"fr": "l'opération {seq} est annulée", "en": "op {seq} is cancelled", "de": "Vorgang {seq} ist storniert"}
NOTHING = {"fr": "rien à traiter", "en": "nothing needs attention", "de": "nichts zu bearbeiten"}
RESUMED = {"fr": "file d'envoi reprise (pause : certificat)", "en": "queue resumed (was paused: certificate)",
           "de": "Warteschlange fortgesetzt (war pausiert: Zertifikat)"}
PENDING = {
    "fr": ["fmd-terminal : 2 opération(s) encore en attente après 0.2 s :", "opération 1 délivrance en attente",
           "dernière erreur : -"],
    "en": ["fmd-terminal: 2 operation(s) still pending after 0.2 s:", "seq 1 dispense queued",
           "last error: -"],
    "de": ["fmd-terminal: 2 Vorgang/Vorgänge nach 0.2 s noch offen:", "Vorgang 1 Abgabe wartend",
           "letzter Fehler: -"],
}
EXPORTED = {"fr": "2 opération(s) exportée(s)", "en": "2 operation(s) exported", "de": "2 Vorgang/Vorgänge exportiert"}
EXPORT_NEEDS = {"fr": "export demande --csv FICHIER", "en": "export needs --csv FILE", "de": "export braucht --csv DATEI"}


def choose(lang, how, monkeypatch):
    """The language by flag, by FMD_LANG, or (fr) by default; FMD_LANG never wins over the flag."""
    if how == "flag":
        monkeypatch.setenv("FMD_LANG", "de" if lang != "de" else "en")
        return ["--lang", lang]
    if how == "env":
        monkeypatch.setenv("FMD_LANG", lang)
    else:
        monkeypatch.delenv("FMD_LANG", raising=False)
    return []


CASES = [("fr", "default"), ("en", "flag"), ("de", "env"), ("fr", "flag")]


@pytest.mark.parametrize(("lang", "how"), CASES)
def test_attention_list_resolve_and_refusals(tmp_path, capsys, monkeypatch, lang, how):
    db = tmp_path / "a.db"
    seq = needs_attention(db)
    flag = choose(lang, how, monkeypatch)
    outbox = ["--outbox", f"sqlite://{db}"] + flag
    assert main(["attention"] + outbox) == 0
    out = capsys.readouterr().out
    for expected in LIST[lang]:
        assert expected.format(seq=seq) in out, out
    assert main(["attention", "cancel", str(seq), "--user", "ph2"] + outbox) == 3
    assert NO_REASON[lang] in capsys.readouterr().err
    assert main(["attention", "cancel", str(seq), "--user", "ph2", "--reason", "scanned_by_mistake"] + outbox) == 0
    assert RESOLVED[lang].format(seq=seq) in capsys.readouterr().out
    assert main(["attention", "accept", str(seq), "--user", "ph2"] + outbox) == 3
    assert NOT_ATTENTION[lang].format(seq=seq) in capsys.readouterr().err
    assert main(["attention"] + outbox) == 0
    assert capsys.readouterr().out.strip() == NOTHING[lang]


@pytest.mark.parametrize(("lang", "how"), CASES)
def test_attention_resume_names_the_pause(tmp_path, capsys, monkeypatch, lang, how):
    db = tmp_path / "p.db"
    box = open_sqlite_outbox(str(db), reserve_bytes=0)
    box.write_meta("paused", "pause_cert")
    box.close()
    flag = choose(lang, how, monkeypatch)
    assert main(["attention", "resume", "--user", "admin", "--outbox", f"sqlite://{db}"] + flag) == 0
    assert capsys.readouterr().out.strip() == RESUMED[lang]
    box = open_sqlite_outbox(str(db), reserve_bytes=0)
    assert box.read_meta("paused") is None
    box.close()


def test_attention_json_lines_do_not_change_with_the_language(tmp_path, capsys, monkeypatch):
    db = tmp_path / "j.db"
    needs_attention(db)
    monkeypatch.delenv("FMD_LANG", raising=False)
    outputs = []
    for lang in ("fr", "en", "de"):
        assert main(["attention", "--json", "--outbox", f"sqlite://{db}", "--lang", lang]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    entry = json.loads(outputs[0].splitlines()[0])
    assert (entry["kind"], entry["procedure"]) == (
        "dispense", "Quarantine the pack; follow the alert procedure (serial unknown).")


@pytest.mark.parametrize(("lang", "how"), CASES)
def test_sync_reports_what_is_pending(tmp_path, capsys, monkeypatch, lang, how):
    db = tmp_path / "s.db"
    packs = [{"scheme": "GTIN", "productCode": f"0340093000012{i}", "serial": f"SER{i}", "batch": "B1",
              "expiry": "301231", "raw": f"raw{i}"} for i in (0, 1)]
    fill(db, packs)
    flag = choose(lang, how, monkeypatch)
    code = main(["sync", "--until-drained", "--timeout", "0.2", "--start-delay", "0", "--service", "scripted://offline",
                 "--outbox", f"sqlite://{db}"] + flag)
    assert code == 1  # the start-up probes failed: no op was sent, so none has a last error
    err = capsys.readouterr().err
    for expected in PENDING[lang]:
        assert expected in err, err


@pytest.mark.parametrize(("lang", "how"), CASES)
def test_export_speaks_the_language_and_keeps_the_columns(tmp_path, capsys, monkeypatch, lang, how):
    db = tmp_path / "e.db"
    needs_attention(db)
    flag = choose(lang, how, monkeypatch)
    out_csv = tmp_path / "ops.csv"
    assert main(["export", "--outbox", f"sqlite://{db}", "--csv", str(out_csv)] + flag) == 0
    assert EXPORTED[lang] in capsys.readouterr().err
    with out_csv.open(newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:4] == ["seq", "op_id", "kind", "state"] and "return_code" in header
    assert list(csv.DictReader(out_csv.open()))[0]["kind"] == "dispense"  # values stay tokens
    assert main(["export", "--outbox", f"sqlite://{db}"] + flag) == 3
    assert EXPORT_NEEDS[lang] in capsys.readouterr().err


def test_an_unknown_fmd_lang_is_a_configuration_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FMD_LANG", "it")
    assert main(["export", "--outbox", f"sqlite://{tmp_path / 'x.db'}", "--csv", "-"]) == 3
    assert "FMD_LANG='it'" in capsys.readouterr().err
    assert language("de", {"FMD_LANG": "it"}) == "de"  # the flag is enough
    assert language(None, {}) == "fr"


def _fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_text_with_the_same_fields():
    keys = set(_TABLES["fr"])
    for lang in ("en", "de"):
        assert set(_TABLES[lang]) == keys, lang
        for key in keys:
            assert _fields(_TABLES[lang][key]) == _fields(_TABLES["fr"][key]), (lang, key)
        assert set(_WORDS[lang]) == set(_WORDS["fr"]), lang
        assert set(PROCEDURES[lang]) == set(PROCEDURES["fr"]), lang
    texts = Texts("de")
    assert [texts.word(k) for k in ("not_sent", "pause_cert", "uncertain")] == ["nicht gesendet", "Zertifikat", "ungewiss"]
    assert texts.word("something_new") == "something_new" and texts.word(None) == "-"
    assert texts.procedure("NMVS_UNHEARD_OF") == "Packung und Portal des Dienstes prüfen."
