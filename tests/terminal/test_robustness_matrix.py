"""Every ``fmd-terminal`` command against a matrix of bad inputs (issue 12).

Generated cases: damaged outbox files (7 kinds) x the six commands that open the outbox; a full disk
(a real tmpfs filled to 0 bytes free; ``RLIMIT_FSIZE`` for a child ``run``); a read-only data
directory (a child that drops to ``nobody`` when the tests run as root); a wrong type or value for
every configuration key, for ``run`` and ``doctor``; missing devices; malformed arguments; input
that is not UTF-8. Each case asserts:

- no traceback (an exception out of ``main`` fails the case; so does one logged with its stack);
- the documented exit code (README, "Exit codes");
- a one-line message that is one of the texts of the chosen language (``outbox.texts``, which
  merges ``messages`` and ``doctor_texts``: each names the problem and the fix);
- every record written before the case is still readable (a damaged file is kept, byte for byte).

Commands run in this process through ``cli.main`` except where the case needs another process
(a file-size limit, another user).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fmd_core.service import PackRef
from fmd_terminal.cli import main
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.outbox.texts import Texts

LANGS = ("fr", "en", "de")
GS = "\x1d"
PACK = "]d2010340093001234517270630" + "10B123" + GS + "21" + "MATRIX0001"
PREFIX = "fmd-terminal: "
DEVICES = ["--screen", "recording://?render=0", "--indicators", "none://"]


def _template(text: str) -> re.Pattern[str] | None:
    """A text of the table as a pattern (fields match anything); None when too little of it is fixed."""
    parts = re.split(r"\{[a-z_]+\}", text)
    if sum(len(part) for part in parts) < 12:
        return None
    return re.compile(".+?".join(re.escape(part) for part in parts), re.S)


TEMPLATES = {lang: [p for p in map(_template, Texts(lang)._table.values()) if p is not None] for lang in LANGS}


def in_language(message: str, lang: str) -> bool:
    return any(pattern.fullmatch(message) for pattern in TEMPLATES[lang])


# -- the outbox written before every case ---------------------------------------------------------


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("golden") / "outbox.db"
    box = open_sqlite_outbox(str(path), reserve_bytes=0)
    for i in range(40):  # a few pages, so that damage in the middle of the file is damage to records
        box.record(OpRequest("dispense", PackRef("GTIN", "03400930012345", f"EARLIER{i:04d}" + "x" * 60, "B1",
                                                 "281231"), "raw" * 20))
    box.storage.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ids = [row["op_id"] for row in box.ops()]
    box.close()
    return path, ids


def op_ids(path: Path, options: str = "") -> list[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro{options}", uri=True)
    try:
        return [row[0] for row in con.execute("SELECT op_id FROM op ORDER BY seq")]
    finally:
        con.close()


# -- damage ------------------------------------------------------------------------------------------


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(data)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "random_bytes": lambda p: p.write_bytes(os.urandom(8192)),
    "text_file": lambda p: p.write_text("pharmacy notes, not a database\n" * 20, encoding="utf-8"),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:3000]),
    "bytes_over_header": lambda p: _overwrite(p, 0, b"X" * 100),
    "pages_overwritten": lambda p: _overwrite(p, 4096, b"\xa5" * 8192),
    "empty_file": lambda p: p.write_bytes(b""),
    "directory": lambda p: (p.unlink(), p.mkdir()),
}
MOVED_ASIDE = ("random_bytes", "text_file", "truncated", "bytes_over_header", "pages_overwritten")


# -- one case ----------------------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str

    def message(self) -> str:
        lines = [line for line in self.err.splitlines() if line.startswith(PREFIX)]
        assert len(lines) >= 1, f"no '{PREFIX}' line in {self.err!r}"
        return lines[0][len(PREFIX):]


@dataclass
class Place:
    """Where a case runs: its directory, the outbox (a copy of the golden one), a valid scan script."""

    dir: Path
    golden_ids: list[str]
    lang: str
    db: Path = field(init=False)
    script: Path = field(init=False)
    events: Path = field(init=False)

    def __post_init__(self) -> None:
        self.db = self.dir / "outbox.db"
        self.script = self.dir / "scans.jsonl"
        self.script.write_text(json.dumps({"raw": PACK}) + "\n", encoding="utf-8")
        self.events = self.dir / "events.jsonl"

    @property
    def outbox(self) -> str:
        return f"sqlite://{self.db}"

    def run(self, *extra: str) -> list[str]:
        config = self.dir / "fast.toml"
        config.write_text("live_deadline_s = 0.2\n", encoding="utf-8")
        return ["run", "--config", str(config), "--outbox", self.outbox, "--scanner", f"script://{self.script}",
                *DEVICES, "--service", "scripted://offline", "--events-jsonl", str(self.events),
                "--lang", self.lang, *extra]

    def event_outcomes(self) -> list[str]:
        if not self.events.exists():
            return []
        return [json.loads(line)["outcome"] for line in self.events.read_text(encoding="utf-8").splitlines()]


def invoke(argv: list[str], stdin: bytes | None = None) -> Result:
    """``cli.main(argv)`` in this process, its output captured; argparse's exit is its code."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="surrogateescape")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        sys.stdin = saved
    return Result(code, out.getvalue(), err.getvalue())


def no_logged_traceback(records: list[logging.LogRecord]) -> None:
    stacks = [r for r in records if r.exc_info and r.levelno >= logging.ERROR]
    assert not stacks, [r.getMessage() for r in stacks]


def one_line_in(result: Result, lang: str) -> None:
    message = result.message()
    assert "\n" not in message and "Traceback" not in result.err
    assert in_language(message, lang), f"not a {lang} text: {message!r}"


# -- the matrix ----------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    build: Callable[[Place], tuple[list[str], bytes | None]]
    codes: tuple[int, ...]
    verify: Callable[[Place, Result], None] = lambda place, result: None
    damage: str | None = None
    message: bool = True  # an error line in the chosen language is expected
    seeded: bool = True  # the golden outbox is copied in first


CASES: list[Case] = []


def case(name: str, build, codes, verify=lambda place, result: None, **kwargs) -> None:
    CASES.append(Case(name, build, tuple(codes), verify, **kwargs))


# damaged outbox x commands
def _aside(place: Place) -> list[Path]:
    return sorted(place.dir.glob("outbox.db.corrupt-*"))


def _run_after_damage(kind: str):
    def verify(place: Place, result: Result) -> None:
        if kind in MOVED_ASIDE:
            (aside,) = [p for p in _aside(place) if not p.name.endswith(("-wal", "-shm"))]
            assert aside.read_bytes() == place.damaged_bytes, "the damaged file is kept aside untouched"
            con = sqlite3.connect(place.db)
            alarm = con.execute("SELECT value FROM meta WHERE key = 'alarm_storage'").fetchone()[0]
            con.close()
            assert alarm.startswith("red:"), alarm  # the red storage alarm
        if kind == "directory":
            assert place.db.is_dir() and place.event_outcomes() == ["not_recorded"]
        else:
            assert place.event_outcomes() != [] and "not_recorded" not in place.event_outcomes()
            assert len(op_ids(place.db)) >= 1  # scans are recorded again
    return verify


def _untouched(place: Place, result: Result) -> None:
    assert not _aside(place), "an attached command never moves the outbox aside"
    if place.db.is_file():
        assert place.db.read_bytes() == place.damaged_bytes


for kind in DAMAGE:
    case(f"damaged-{kind}-run", lambda p: (p.run(), None), [0], _run_after_damage(kind), damage=kind, message=False)
    case(f"damaged-{kind}-sync", lambda p: (["sync", "--outbox", p.outbox, "--service", "scripted://success",
                                              "--until-drained", "--timeout", "3", "--lang", p.lang], None),
         # a salvaged outbox's ops are uncertain: reconciled after the quiet time, so maybe not within 3 s
         [4] if kind == "directory" else [0, 1], damage=kind, message=kind == "directory")
    for argv in (["attention"], ["export", "--jsonl", "-"], ["backup", "--to", "{dir}/backup.db"]):
        case(f"damaged-{kind}-{argv[0]}",
             lambda p, argv=argv: ([a.format(dir=p.dir) for a in argv] + ["--outbox", p.outbox, "--lang", p.lang], None),
             [4], _untouched, damage=kind)
    case(f"damaged-{kind}-doctor", lambda p: (["doctor", "--outbox", p.outbox, "--scanner", f"script://{p.script}",
                                                "--service", "scripted://offline", *DEVICES, "--lang", p.lang], None),
         [1], _untouched, damage=kind, message=False)


# every configuration key: a wrong type or a value out of range
SERVICE_KEYS = ("client_id", "client_secret", "client_cert", "client_key", "ca_bundle")
BAD_VALUES: dict[str, list[Any]] = {
    "scanner": [5, True, "nope://x"], "screen": [5, "nope://x"], "indicators": [5, "nope://x"],
    "outbox": [5, "nope://x", ""], "service": [5, "ftp://x.example", "http://192.0.2.1/api", ""],
    "mode": ["dispence", 3], "lang": ["es", True], "button": [5], "events_jsonl": [5, False],
    "duplicate_window_s": ["three", True, -1], "result_hold_s": ["three", True, -1, 0],
    "live_deadline_s": ["three", True, -1, 1e9], "client_id": [5], "client_secret": [True], "client_cert": [5],
    "client_key": [5], "ca_bundle": [5], "timeouts": [3, {"read": 0}, {"bogus": 1}, {"connect": "x"}],
    "sync": [3, {"rate": "x"}, {"batch_size": 1.5}, {"bogus": 1}, {"start_jitter_s": True}],
    "unknown": [1], "service.unknown": [1],
    "console": [3, {"listen": "8470"}, {"listen": "0.0.0.0:8470"}, {"listen": "127.0.0.1:8470", "certificate": "c.pem"},
                {"listen": "127.0.0.1:8470", "bogus": 1}, {"listen": "127.0.0.1:8470", "session_minutes": 0}],
}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def config_text(key: str, value: Any) -> str:
    top = {"service": "scripted://offline"}
    service: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    if key == "service":
        top["service"] = value
    elif key in SERVICE_KEYS or key == "service.unknown":
        service[key.split(".")[-1]] = value
    elif key in ("timeouts", "sync", "console") and isinstance(value, dict):
        tables["service.timeouts" if key == "timeouts" else key] = value
    elif key == "timeouts":
        service["timeouts"] = value
    else:
        top[key] = value
    url = top.pop("service")
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    if isinstance(url, str) and (service or "service.timeouts" in tables):
        service = {"url": url, **service}
    elif not isinstance(url, str) or url:
        lines.append(f"service = {toml_value(url)}")
    if service:
        lines.append("[service]")
        lines += [f"{k} = {toml_value(v)}" for k, v in service.items()]
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _config_file(place: Place, key: str, value: Any) -> str:
    path = place.dir / "terminal.toml"
    path.write_text(config_text(key, value), encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def _names_key(key: str):
    def verify(place: Place, result: Result) -> None:
        shown = key.split(".")[-1] if key != "service.unknown" else "unknown"
        text = result.err + result.out
        assert shown in text or (key == "service" and "service" in text), text
    return verify


for key, values in BAD_VALUES.items():
    for value in values:
        label = f"{key}={toml_value(value) if not isinstance(value, dict) else json.dumps(value)}"
        lang_flag = [] if key == "lang" else ["--lang"]
        case(f"config-{label}-run",
             lambda p, key=key, value=value, lf=lang_flag: (
                 ["run", "--config", _config_file(p, key, value), *lf, *([p.lang] if lf else [])], None),
             [3], _names_key(key), seeded=False)
        case(f"config-{label}-doctor",
             lambda p, key=key, value=value, lf=lang_flag: (
                 ["doctor", "--config", _config_file(p, key, value), *lf, *([p.lang] if lf else [])]
                 + ([] if key == "scanner" else ["--scanner", f"script://{p.script}"])
                 + ([] if key in ("screen", "indicators") else DEVICES[:2])
                 + ([] if key == "outbox" else ["--outbox", p.outbox]), None),
             [1, 3], _names_key(key), message=False)

# missing devices
for name, flags in {"evdev": ["--scanner", "evdev:///dev/input/by-id/no-such-scanner"],
                    "serial": ["--scanner", "serial:///dev/no-such-tty"],
                    "oled": ["--screen", "ssd1306://i2c/9/0x3c"]}.items():
    case(f"missing-{name}-doctor",
         lambda p, flags=flags: (["doctor", "--outbox", p.outbox, "--service", "scripted://offline",
                                  "--lang", p.lang, *DEVICES, "--scanner", f"script://{p.script}", *flags], None),
         [1], lambda p, r, name=name: _doctor_fails(r, "screen" if name == "oled" else "scanner"), message=False)
case("missing-oled-run", lambda p: (p.run("--screen", "ssd1306://i2c/9/0x3c"), None), [0],
     lambda p, r: _recorded_once(p), message=False)


def _doctor_fails(result: Result, check: str) -> None:
    assert any(line.startswith(f"FAIL  {check}") for line in result.out.splitlines()), result.out


def _recorded_once(place: Place) -> None:
    assert len(op_ids(place.db)) == len(place.golden_ids) + 1


# malformed arguments (argparse's usage errors, exit 2, are one line in the chosen language too: fmd_terminal.usage)
def _args(*argv: str) -> Callable[[Place], tuple[list[str], None]]:
    return lambda p: ([a.format(outbox=p.outbox, dir=p.dir) for a in argv] + ["--lang", p.lang], None)


MALFORMED = [
    ("attention-no-such-op", _args("attention", "accept", "999", "--user", "ph", "--outbox", "{outbox}"), [3]),
    ("attention-no-user", _args("attention", "accept", "1", "--outbox", "{outbox}"), [3]),
    ("attention-bad-rescan", _args("attention", "retry", "1", "--user", "ph", "--rescan", "garbage",
                                   "--outbox", "{outbox}"), [3]),
    ("attention-seq-not-a-number", _args("attention", "accept", "abc", "--outbox", "{outbox}"), [2]),
    ("attention-bad-reason", _args("attention", "cancel", "1", "--user", "ph", "--reason", "bogus",
                                   "--outbox", "{outbox}"), [2]),
    ("decode-empty-substitute", _args("decode", "--substitutes", "", "--text", "x"), [3]),
    ("decode-broken-escape", _args("decode", "--text", "ab\\xZZ"), [3]),
    ("backup-nothing-to-do", _args("backup", "--outbox", "{outbox}"), [3]),
    ("backup-negative-prune", _args("backup", "--outbox", "{outbox}", "--prune-older-than", "-1"), [3]),
    ("backup-memory-outbox", _args("backup", "--outbox", "memory://", "--to", "{dir}/b.db"), [3]),
    ("backup-no-such-backup", _args("backup", "--outbox", "sqlite://{dir}/new.db", "--restore", "{dir}/absent.db"), [4]),
    ("export-no-target", _args("export", "--outbox", "{outbox}"), [3]),
    ("export-unwritable-target", _args("export", "--outbox", "{outbox}", "--jsonl", "/nonexistent/dir/x"), [3]),
    ("export-absent-outbox", _args("export", "--outbox", "sqlite://{dir}/absent.db", "--csv", "-"), [4]),
    ("sync-timeout-not-a-number", _args("sync", "--outbox", "{outbox}", "--timeout", "abc"), [2]),
    ("sync-times-out", _args("sync", "--outbox", "{outbox}", "--service", "scripted://offline", "--until-drained",
                             "--timeout", "0.5"), [1]),
    ("sync-no-service", _args("sync", "--outbox", "{outbox}"), [3]),
    ("run-unknown-mode", _args("run", "--mode", "sell"), [2]),
    ("run-no-service", _args("run", "--outbox", "{outbox}"), [3]),
    ("run-unknown-scheme", _args("run", "--outbox", "{outbox}", "--service", "scripted://offline",
                                 "--scanner", "usb://scanner"), [3]),
    ("run-absent-script", _args("run", "--outbox", "{outbox}", "--service", "scripted://offline",
                                "--scanner", "script://{dir}/absent.jsonl"), [3]),
    ("run-unwritable-events", _args("run", "--outbox", "{outbox}", "--service", "scripted://offline",
                                    "--scanner", "script://{dir}/scans.jsonl", "--events-jsonl", "/nonexistent/e"), [3]),
    ("run-plain-http-service", _args("run", "--outbox", "{outbox}", "--service", "http://192.0.2.1/api"), [3]),
    ("calibrate-unknown-scheme", _args("calibrate", "--scanner", "usb://scanner"), [3]),
]
for name, build, codes in MALFORMED:
    case(f"args-{name}", build, codes)


# input that is not UTF-8
def _stdin_run(place: Place) -> tuple[list[str], bytes]:
    argv = place.run()
    argv[argv.index("--scanner") + 1] = "stdin://"
    return argv, PACK.replace("MATRIX0001", "MATRIX\xff").encode("latin-1") + b"\n01034009300123451\xfe\n"


def _events_kept(place: Place, result: Result) -> None:
    lines = place.events.read_bytes().decode("utf-8").splitlines()  # the file stays valid UTF-8
    raws = [json.loads(line)["raw"] for line in lines]
    assert raws[-1] == "01034009300123451\udcfe" and "\udcff" in raws[0], raws  # kept, escaped


case("utf8-scanner-stdin-run", _stdin_run, [0], _events_kept, message=False)
case("utf8-script-run", lambda p: (p.run(), p.script.write_bytes(b'{"raw": "\xff"}\n')), [3])
case("utf8-config-run", lambda p: (["run", "--config", str(p.dir / "t.toml"), "--lang", p.lang],
                                   (p.dir / "t.toml").write_bytes(b'mode = "\xff"\n')), [3], seeded=False)
case("utf8-config-doctor", lambda p: (["doctor", "--config", str(p.dir / "t.toml"), "--lang", p.lang],
                                      (p.dir / "t.toml").write_bytes(b'lang = "\xfe"\n')), [3], seeded=False)
case("utf8-decode-json-lines", lambda p: (["decode"], b'{"raw": "\xff"}\n{"raw": "010340093001234517270630"}\n'),
     [1], lambda p, r: _decode_lines(r), message=False, seeded=False)
case("utf8-fmd-lang", lambda p: (["export", "--outbox", p.outbox, "--csv", "-"], None), [3], seeded=True)


def _decode_lines(result: Result) -> None:
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert "not UTF-8" in lines[0]["input_error"] and lines[1]["ok"] is False or lines[1].get("product_code")


@pytest.mark.parametrize("item", CASES, ids=[c.name for c in CASES])
def test_bad_input(item: Case, golden, tmp_path, monkeypatch, caplog):
    lang = LANGS[CASES.index(item) % len(LANGS)]
    monkeypatch.setenv("FMD_LANG", "xx" if item.name == "utf8-fmd-lang" else lang)
    if item.name == "utf8-fmd-lang":
        lang = "fr"  # an unknown FMD_LANG: the default language
    monkeypatch.delenv("FMD_CLIENT_ID", raising=False)
    monkeypatch.delenv("FMD_CLIENT_SECRET", raising=False)
    place = Place(tmp_path, golden[1], lang)
    if item.seeded or item.damage:
        shutil.copyfile(golden[0], place.db)
    if item.damage:
        DAMAGE[item.damage](place.db)
        place.damaged_bytes = place.db.read_bytes() if place.db.is_file() else None  # type: ignore[attr-defined]
    argv, stdin = item.build(place)
    with caplog.at_level(logging.WARNING):
        result = invoke(argv, stdin if isinstance(stdin, bytes) else None)
    assert "Traceback" not in result.err and "Traceback" not in result.out
    no_logged_traceback(caplog.records)
    assert result.code in item.codes, (result.code, result.err[-2000:], result.out[-2000:])
    if item.message:
        one_line_in(result, lang)
    item.verify(place, result)
    if item.seeded and item.damage is None and place.db.is_file():
        assert op_ids(place.db)[: len(golden[1])] == golden[1], "every earlier record is still readable"


# -- a full disk: a real tmpfs filled to 0 bytes free ---------------------------------------------------


def op_ids_in_place(path: Path) -> list[str]:
    """The records of an outbox on a full disk, read without the shared-memory file SQLite cannot create."""
    return op_ids(path, "&immutable=1")


@pytest.fixture
def full_disk(tmp_path, golden):
    """The golden outbox on a 2 MiB tmpfs with 0 bytes left (a mount needs root: else the case is skipped)."""
    mount = tmp_path / "full"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here: {mounted.stderr.strip()}")
    try:
        shutil.copyfile(golden[0], mount / "outbox.db")
        with (mount / "filler").open("wb") as filler:
            with contextlib.suppress(OSError):
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
        assert shutil.disk_usage(mount).free == 0
        yield mount / "outbox.db"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _exported(place: Place, result: Result) -> None:
    assert [json.loads(line)["op_id"] for line in (place.dir / "x.jsonl").read_text().splitlines()] == place.golden_ids


def _backed_up(place: Place, result: Result) -> None:
    assert op_ids(place.dir / "b.db") == place.golden_ids


FULL = [
    ("run", lambda p, db: p.run("--outbox", f"sqlite://{db}"), [0], lambda p, r: _refused(p), False),
    ("sync", lambda p, db: ["sync", "--outbox", f"sqlite://{db}", "--service", "scripted://success",
                            "--until-drained", "--timeout", "2"], [4], None, True),
    ("attention-list", lambda p, db: ["attention", "--outbox", f"sqlite://{db}"], [0], None, False),
    ("attention-accept", lambda p, db: ["attention", "accept", "1", "--user", "ph", "--outbox", f"sqlite://{db}"],
     [4], None, True),
    ("export", lambda p, db: ["export", "--outbox", f"sqlite://{db}", "--jsonl", str(p.dir / "x.jsonl")], [0],
     _exported, False),
    ("backup", lambda p, db: ["backup", "--outbox", f"sqlite://{db}", "--to", str(p.dir / "b.db")], [0],
     _backed_up, False),
    ("doctor", lambda p, db: ["doctor", "--outbox", f"sqlite://{db}", "--scanner", f"script://{p.script}",
                              "--service", "scripted://offline", *DEVICES], [1],
     lambda p, r: _doctor_fails(r, "storage"), False),
]


def _refused(place: Place) -> None:
    assert place.event_outcomes() == ["not_recorded"]  # refused on the screen, the terminal ran


@pytest.mark.parametrize("name, argv, codes, verify, message", FULL, ids=[f[0] for f in FULL])
def test_full_disk(name, argv, codes, verify, message, full_disk, golden, tmp_path, monkeypatch, caplog):
    lang = LANGS[[f[0] for f in FULL].index(name) % len(LANGS)]
    place = Place(tmp_path, golden[1], lang)
    with caplog.at_level(logging.WARNING):
        result = invoke([*argv(place, full_disk), "--lang", lang])
    assert "Traceback" not in result.err
    no_logged_traceback(caplog.records)
    assert result.code in codes, (result.code, result.err[-2000:])
    if message:
        one_line_in(result, lang)
    if verify is not None:
        verify(place, result)
    assert op_ids_in_place(full_disk) == golden[1]
    assert not list(tmp_path.glob("fmd-outbox-copy-*")), "the scratch copy is removed"


def _ignore_sigxfsz_and_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_run_starts_under_a_zero_file_size_limit_and_refuses_scans(golden, tmp_path):
    """``RLIMIT_FSIZE`` 0: no file may grow (SQLite cannot even size its ``-shm``): the terminal still starts."""
    place = Place(tmp_path, golden[1], "fr")
    shutil.copyfile(golden[0], place.db)
    argv = place.run()
    argv[argv.index("--events-jsonl") + 1] = "-"
    child = subprocess.run([sys.executable, "-m", "fmd_terminal", *argv], capture_output=True, text=True,
                           timeout=120, preexec_fn=_ignore_sigxfsz_and_limit)
    assert child.returncode == 0 and "Traceback" not in child.stderr, child.stderr[-2000:]
    events = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    assert [e["outcome"] for e in events] == ["not_recorded"]
    assert op_ids(place.db) == golden[1]


# -- a read-only data directory ---------------------------------------------------------------------------

_AS_NOBODY = """
import os, sys
import fmd_terminal.cli, fmd_terminal.app, fmd_terminal.config_rules, fmd_terminal.messages
import fmd_terminal.commands.run, fmd_terminal.commands.sync, fmd_terminal.commands.export
import fmd_terminal.commands.attention, fmd_terminal.outbox.sqlite, fmd_terminal.outbox.backup
import fmd_terminal.outbox.sync, fmd_terminal.outbox.unavailable, fmd_terminal.outbox.factory
import fmd_terminal.outbox.memory, fmd_terminal.outbox.salvage, fmd_terminal.presenter, fmd_terminal.journal
import fmd_terminal.scanners.factory, fmd_terminal.scanners.script, fmd_terminal.screens.factory
import fmd_terminal.screens.recording, fmd_terminal.indicators.factory, fmd_terminal.verification.factory
import fmd_terminal.system_notify, fmd_core.flow, fmd_core.decoder, tempfile, shutil, uuid, tomllib, csv
from fmd_terminal.i18n import Translator
from fmd_terminal.outbox.clock import SystemClock
from fmd_terminal.outbox.texts import Texts
for lang in ("fr", "en", "de"):
    Translator(lang)("ready"), Texts(lang)
SystemClock()()  # loads libc and reads the boot id while still root
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
sys.exit(fmd_terminal.cli.main(sys.argv[1:]))
"""

READ_ONLY = [
    ("run", lambda p: p.run(), [0], lambda p, r: _refused(p), False),
    ("sync", lambda p: ["sync", "--outbox", p.outbox, "--service", "scripted://success", "--until-drained",
                        "--timeout", "2", "--lang", p.lang], [4], None, True),
    ("export", lambda p: ["export", "--outbox", p.outbox, "--jsonl", str(p.out / "x.jsonl"), "--lang", p.lang], [0],
     None, False),
    ("attention-accept", lambda p: ["attention", "accept", "1", "--user", "ph", "--outbox", p.outbox,
                                    "--lang", p.lang], [4], None, True),
]


@pytest.mark.parametrize("name, argv, codes, verify, message", READ_ONLY, ids=[r[0] for r in READ_ONLY])
def test_read_only_data_directory(name, argv, codes, verify, message, golden, tmp_path):
    """The cause is named (not "another process has the outbox open"); root ignores permissions, so
    under root the command runs in a child that becomes ``nobody`` once its imports are done."""
    import tempfile

    lang = LANGS[[r[0] for r in READ_ONLY].index(name) % len(LANGS)]
    base = Path(tempfile.mkdtemp(prefix="fmd-ro-", dir="/tmp"))
    out = Path(tempfile.mkdtemp(prefix="fmd-out-", dir="/tmp"))
    try:
        place = Place(base, golden[1], lang)
        place.out = out  # type: ignore[attr-defined]
        place.events = out / "events.jsonl"
        place.script.chmod(0o644)
        (base / "fast.toml").write_text("live_deadline_s = 0.2\n", encoding="utf-8")
        shutil.copyfile(golden[0], place.db)
        args = argv(place)
        os.chmod(out, 0o777)
        os.chmod(base, 0o555)
        if os.geteuid() == 0:
            child = subprocess.run([sys.executable, "-c", _AS_NOBODY, *args], capture_output=True, text=True,
                                   timeout=120)
            result = Result(child.returncode, child.stdout, child.stderr)
        else:
            result = invoke(args)
        assert "Traceback" not in result.err, result.err[-2000:]
        assert result.code in codes, (result.code, result.err[-2000:])
        if message:
            one_line_in(result, lang)
            assert "another process" not in result.err and "autre processus" not in result.err
        if verify is not None:
            verify(place, result)
        if name == "export":
            assert len((out / "x.jsonl").read_text().splitlines()) == len(golden[1])
        assert op_ids(place.db) == golden[1]
    finally:
        os.chmod(base, 0o755)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
