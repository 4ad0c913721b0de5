"""The pack-code decoder: the case table, the generated AI table, the MicroPython run.

The cases are plain data in ``tables/pack_codes.py`` (replayed under MicroPython too); this file
parametrizes them for pytest and adds what a table cannot hold.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from table_loader import load_table

from fmd_core import decode_scan
from fmd_core.gs1 import encode_element_string
from fmd_core.result import REASON_CODES

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load_table():
    return load_table("pack_codes")


TABLE = _load_table()


@pytest.mark.parametrize("case", TABLE.CASES, ids=[case["id"] for case in TABLE.CASES])
def test_case(case):
    assert TABLE.check(case) is None


def test_table_is_large_and_covers_every_reason_code():
    assert len(TABLE.CASES) >= 200
    assert len({case["id"] for case in TABLE.CASES}) == len(TABLE.CASES)
    covered = {case["error"] for case in TABLE.CASES if "error" in case}
    assert covered == set(REASON_CODES)
    for reason in REASON_CODES:
        assert sum(1 for case in TABLE.CASES if case.get("error") == reason) >= 2, reason


def test_table_covers_every_input_kind_and_nhrn_ai():
    schemes = {case["expect"].get("scheme") for case in TABLE.CASES if "expect" in case}
    assert {"GS1", "IFA", "DigitalLink", "linear"} <= schemes
    nhrns = {case["expect"]["nhrn"]["ai"] for case in TABLE.CASES if (case.get("expect") or {}).get("nhrn")}
    assert nhrns == {"710", "711", "712", "713", "714", "715", "716", "717"}


def test_check_reports_a_wrong_expectation():
    """The table's check() can fail: a case with a wrong expectation is reported, not passed."""
    case = dict(TABLE.CASES[0])
    case["expect"] = dict(case["expect"], serial="not-the-serial")
    assert "serial" in TABLE.check(case)
    assert "expected error" in TABLE.check({"id": "x", "raw": case["raw"], "error": "too_long"})


def test_encode_element_string_round_trips():
    raw = encode_element_string("04150037528643", "SER/1", "b-2", "280200", nhrn=("710", "03752864"))
    assert raw == "]d2" + "0104150037528643" + "17280200" + "10b-2\x1d" + "21SER/1\x1d" + "71003752864"
    result = decode_scan(raw)
    assert (result.product_code, result.serial, result.batch, result.expiry_raw, result.expiry) == (
        "04150037528643",
        "SER/1",
        "b-2",
        "280200",
        "2028-02-29",
    )
    assert result.nhrn == {"ai": "710", "value": "03752864"}


def test_failure_attributes():
    result = decode_scan("]d20103400930012346")
    assert not result.ok
    assert result.error == "bad_check_digit"
    assert "'" in result.message and "expected 5" in result.message


def test_lone_surrogate_in_a_uri_is_a_charset_failure():
    """CPython-only (MicroPython strings cannot hold a lone surrogate), so not in the table."""
    result = decode_scan("https://a.example/01/03400930012345/10/B\ud800%41/21/S?17=270630")
    assert (result.ok, result.error) == (False, "bad_charset")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"substitutes": "|"}, "substitutes must be a list"),
        ({"substitutes": ["|", ""]}, "non-empty string"),
        ({"substitutes": [29]}, "non-empty string"),
        ({"current_year": "2026"}, "four-digit year"),
    ],
)
def test_bad_settings_are_a_configuration_error(options, words):
    from fmd_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=words):
        decode_scan("]d2010340093001234517270630", **options)


def test_ai_table_is_regenerated_identically():
    """A new dictionary release is a data update: the committed table must be what the generator writes."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import generate_ai_table
    finally:
        sys.path.remove(str(ROOT / "tools"))
    committed = (ROOT / "device" / "fmd_core" / "ai_table.py").read_text(encoding="utf-8")
    assert generate_ai_table.generate() == committed


def test_ai_table_generator_follows_a_dictionary_change(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import generate_ai_table
    finally:
        sys.path.remove(str(ROOT / "tools"))
    dictionary = tmp_path / "dictionary.txt"
    source = (ROOT / "third_party" / "gs1" / "gs1-syntax-dictionary.txt").read_text(encoding="utf-8")
    dictionary.write_text(
        source.replace("X..20                             req=01,03,8006 ex=235", "X..25 req=01")
    )
    changed = generate_ai_table.generate(dictionary)
    assert "'21': (False, False, (('X', 1, 25, False, ()),)" in changed
    assert changed != (ROOT / "device" / "fmd_core" / "ai_table.py").read_text(encoding="utf-8")
    assert generate_ai_table.main(["--check"]) == 0  # the committed table matches the committed dictionary


def test_micropython_runner_passes_and_counts():
    """The README's test command runs this first; here it is counted by pytest as well."""
    run = subprocess.run(
        [sys.executable, str(HERE / "micropython_run.py")], capture_output=True, text=True, timeout=280
    )
    assert run.returncode == 0, run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("MicroPython: ")
    passed = int(last.split()[1])
    assert passed >= len(TABLE.CASES)
    assert " 0 failed" in last
    assert f"pack_codes {len(TABLE.CASES)}/{len(TABLE.CASES)}" in last


def _replay(tables):
    """``micropython_run.py`` over a folder of tables of the test's own."""
    return subprocess.run(
        [sys.executable, str(HERE / "micropython_run.py"), "--tables", str(tables)],
        capture_output=True,
        text=True,
        timeout=280,
    )


def test_micropython_runner_fails_on_a_failing_case(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "__init__.py").write_text("")
    (tables / "broken.py").write_text(
        "from fmd_core import decode_scan\n"
        "CASES = [{'id': 'good', 'raw': '3400930012345', 'ok': True}, {'id': 'bad', 'raw': 'hello', 'ok': True}]\n"
        "def check(case):\n"
        "    if decode_scan(case['raw']).ok != case['ok']:\n"
        "        return 'ok differs'\n"
        "    return None\n"
    )
    run = _replay(tables)
    assert run.returncode == 1
    assert "FAIL broken bad: ok differs" in run.stdout
    assert "MicroPython: 1 cases passed, 1 failed" in run.stdout


def test_micropython_runner_fails_when_an_outcome_differs_from_cpython(tmp_path):
    """The replay compares whole outcomes with CPython's, so a result that differs fails."""
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "__init__.py").write_text("")
    (tables / "host.py").write_text(
        "import sys\n"
        "CASES = [{'id': 'same'}, {'id': 'differs'}]\n"
        "def check(case):\n"
        "    return None\n"
        "def outcome(case):\n"
        "    return 'x' if case['id'] == 'same' else sys.implementation.name\n"
    )
    run = _replay(tables)
    assert run.returncode == 1
    assert "FAIL host differs: differs from CPython: here 'micropython', CPython 'cpython'" in run.stdout
    assert "MicroPython: 1 cases passed, 1 failed" in run.stdout


def test_ai_table_generator_refuses_a_linter_the_core_does_not_run(tmp_path):
    """Every linter the dictionary names is run: a new one must be implemented before regenerating."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import generate_ai_table
    finally:
        sys.path.remove(str(ROOT / "tools"))
    dictionary = tmp_path / "dictionary.txt"
    source = (ROOT / "third_party" / "gs1" / "gs1-syntax-dictionary.txt").read_text(encoding="utf-8")
    dictionary.write_text(source.replace("N3,iso3166 ", "N3,iso3166,newlinter ", 1))
    with pytest.raises(generate_ai_table.DictionaryError, match="newlinter"):
        generate_ai_table.generate(dictionary)
