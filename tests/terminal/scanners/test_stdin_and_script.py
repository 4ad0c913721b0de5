"""Standard input and scripted sources, and ``open_scanner`` (the factory)."""

from __future__ import annotations

import io
import json

import pytest

from fmd_terminal.errors import ConfigError, DeviceError, UnknownSchemeError
from fmd_terminal.scanners import END, FAULT, MODE, SCAN, ScanEvent
from fmd_terminal.scanners.factory import open_scanner
from fmd_terminal.scanners.script import ScriptedScanSource
from fmd_terminal.scanners.stdin import StdinScanSource, unescape

WAIT_S = 5.0


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def drain(source):
    events = []
    while True:
        event = source.read(WAIT_S)
        assert event is not None, "nothing arrived"
        events.append(event)
        if event.kind == END:
            return events


def test_stdin_one_scan_per_line_blank_lines_skipped_end_at_eof():
    source = StdinScanSource(io.StringIO("]d2A\x1dB\r\n\n]d2C\n"), max_length=100).start()
    try:
        assert drain(source) == [ScanEvent(SCAN, "]d2A\x1dB"), ScanEvent(SCAN, "]d2C"), ScanEvent(END)]
    finally:
        source.close()


def test_stdin_escapes_are_read_only_from_a_terminal():
    typed = "]d2010\\x1d10AB\\\\\\x1e\n"
    from_terminal = StdinScanSource(TerminalInput(typed)).start()
    from_pipe = StdinScanSource(io.StringIO(typed)).start()
    try:
        assert drain(from_terminal)[0].text == "]d2010\x1d10AB\\\x1e"
        assert drain(from_pipe)[0].text == typed.rstrip("\n")
    finally:
        from_terminal.close()
        from_pipe.close()


def test_unescape_keeps_what_is_not_an_escape():
    assert unescape("a\\x1Zb\\x") == "a\\x1Zb\\x"
    assert unescape("\\x04") == "\x04"


def test_stdin_an_overlong_line_is_a_fault_and_reading_goes_on():
    source = StdinScanSource(
        io.StringIO("X" * 10_000 + "\n]d2OK\n" + "Y" * 101 + "\n"), max_length=100
    ).start()
    try:
        kinds = [(event.kind, event.text[:20]) for event in drain(source)]
        assert kinds == [
            (FAULT, "scan longer than 100"),
            (SCAN, "]d2OK"),
            (FAULT, "scan longer than 100"),
            (END, ""),
        ]
    finally:
        source.close()


def test_script_scans_modes_bad_lines_and_end(tmp_path):
    script = tmp_path / "scans.jsonl"
    script.write_text(
        "\n".join(
            [
                json.dumps({"raw": "]d2010\x1d10AB"}),
                json.dumps({"mode": "verify"}),
                "",
                "not json",
                json.dumps({"other": 1}),
                json.dumps({"raw": "]d2X"}),
            ]
        )
        + "\n"
    )
    source = open_scanner(f"script://{script}")
    events = drain(source)
    assert [event.kind for event in events] == [SCAN, MODE, FAULT, FAULT, SCAN, END]
    assert events[0].text == "]d2010\x1d10AB" and events[1].text == "verify"
    assert "line 4" in events[2].text and "line 5" in events[3].text
    assert source.read(0.0).kind == END  # stays at the end
    source.close()


def test_script_relative_path_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "s.jsonl").write_text('{"raw": "]d2A"}\n')
    assert open_scanner("script://demo/s.jsonl").read(0).text == "]d2A"
    with pytest.raises(DeviceError, match="cannot be read"):
        open_scanner("script://demo/missing.jsonl")


def test_scripted_source_from_events():
    source = ScriptedScanSource([ScanEvent(SCAN, "x")])
    assert source.read(0).text == "x" and source.read(0).kind == END


def test_factory_names_the_known_schemes_for_an_unknown_one():
    with pytest.raises(UnknownSchemeError, match="evdev://, keys://, script://, serial://, stdin://"):
        open_scanner("usb://scanner")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("evdev://x?layout=xx", "unknown keyboard layout 'xx'"),
        ("evdev://x?colour=red", "unknown parameter 'colour'"),
        ("evdev://x?gap_ms=fast", "gap_ms must be a whole number"),
        ("serial://x?gap_ms=0", "gap_ms must be positive"),
        ("serial://?baud=9600", "names no serial port"),
        ("script://", "names no script file"),
    ],
)
def test_factory_refuses_bad_urls(url, message):
    with pytest.raises(ConfigError, match=message):
        open_scanner(url)


def test_factory_stdin_and_timeout_alias(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("]d2ABC\n"))
    source = open_scanner("stdin://?escapes=1")
    try:
        assert source.escapes is True
        assert source.read(WAIT_S).text == "]d2ABC"
    finally:
        source.close()
    serial_source = open_scanner("serial://loop://?timeout_ms=70", open_port=lambda path, baud: None)
    serial_source.close()
    assert serial_source.framer.gap_ms == 70
