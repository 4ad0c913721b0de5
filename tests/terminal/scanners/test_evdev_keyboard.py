"""The evdev adapter over python-evdev's real read path (a pipe-backed EventIO, SCANNERS-AND-HARDWARE.md 7.2)."""

from __future__ import annotations

import os
import sys

import pytest
from scanner_doubles import FakeClock, PipeEventSource

from fmd_core.keyboard import GS, codes
from fmd_terminal.errors import DeviceError
from fmd_terminal.scanners import FAULT, SCAN
from fmd_terminal.scanners.evdev_keyboard import EvdevScanSource, open_input_device, resolve_device
from fmd_terminal.scanners.factory import open_scanner

PACK = "]d2010340093001234521Yz9" + GS + "10LOT1" + GS + "17270630"
NAME = "usb-Test_Scanner_0001-event-kbd"
WAIT_S = 5.0  # the longest a test waits on the queue; events normally arrive in milliseconds


class Plug:
    """A by-id name in a temporary /dev/input that opens the next pipe device of a list."""

    def __init__(self, tmp_path, devices):
        self.input_dir = tmp_path / "input"
        (self.input_dir / "by-id").mkdir(parents=True)
        self.devices = list(devices)
        self.opened = []
        self.plug()

    def plug(self):
        target = self.input_dir / f"event{len(self.opened)}"
        target.touch()
        link = self.input_dir / "by-id" / NAME
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)

    def unplug(self):
        (self.input_dir / "by-id" / NAME).unlink()

    def open(self, path):
        device = self.devices.pop(0)
        self.opened.append((path, device))
        return device


@pytest.fixture
def clock():
    return FakeClock()


def start(plug, clock, **options):
    source = EvdevScanSource(
        NAME,
        clock_ns=clock,
        open_device=plug.open,
        input_dir=str(plug.input_dir),
        reconnect_s=0.01,
        **options,
    )
    return source.start()


def next_event(source, kind=None):
    event = source.read(WAIT_S)
    assert event is not None, "nothing arrived"
    if kind is not None:
        assert event.kind == kind, event
    return event


def test_scan_through_the_real_read_path_grabs_and_switches_caps_led_off(tmp_path, clock):
    device = PipeEventSource()
    plug = Plug(tmp_path, [device])
    source = start(plug, clock, layout="de")
    try:
        device.type(PACK, "de", t0_ms=5000)
        assert next_event(source, SCAN).text == PACK
        assert device.grabbed
        assert device.leds == [(1, 0)]
        assert plug.opened[0][0].endswith(f"by-id/{NAME}")
    finally:
        source.close()
    assert device.closed and not device.grabbed


def test_scan_without_suffix_ends_after_the_gap_on_the_injected_clock(tmp_path, clock):
    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), clock, gap_ms=50)
    try:
        device.type(PACK, t0_ms=5000, suffix="")
        assert source.read(0.3) is None  # the clock has not moved: the scan is still open
        clock.advance_ms(60)
        assert next_event(source, SCAN).text == PACK
    finally:
        source.close()


def test_events_split_by_a_gap_in_their_own_time_stamps_are_two_scans(tmp_path, clock):
    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), clock, gap_ms=50)
    try:
        t = device.type("]d2AAA", t0_ms=5000, suffix="")
        device.type("]d2BBB", t0_ms=t + 500, suffix="\r")
        assert next_event(source, SCAN).text == "]d2AAA"
        assert next_event(source, SCAN).text == "]d2BBB"
    finally:
        source.close()


def test_syn_dropped_discards_the_cut_scan_and_the_next_scan_is_read(tmp_path, clock):
    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), clock)
    try:
        t = device.type("]d20103400", t0_ms=5000, suffix="")
        device.feed(codes.EV_SYN, codes.SYN_DROPPED, 0, t)
        t = device.type("930012345", t0_ms=t + 1)
        t = device.type(PACK, t0_ms=t + 300)
        fault = next_event(source, FAULT)
        assert "SYN_DROPPED" in fault.text
        assert next_event(source, SCAN).text == PACK
    finally:
        source.close()


def test_keystroke_garbage_is_a_fault_and_the_adapter_keeps_running(tmp_path, clock):
    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), clock)
    try:
        device.feed(codes.EV_KEY, codes.KEY_F1, 1, 5000)
        t = device.type("]d2ABC", t0_ms=5001)
        device.type(PACK, t0_ms=t + 10)
        assert "key code 59" in next_event(source, FAULT).text
        assert next_event(source, SCAN).text == PACK
    finally:
        source.close()


def test_a_10000_character_burst_is_one_fault_and_memory_stays_bounded(tmp_path, clock):
    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), clock, max_length=500)
    try:
        t = device.type("9" * 10_000, t0_ms=5000, step_ms=0)
        device.type(PACK, t0_ms=t + 1000)
        assert "longer than 500" in next_event(source, FAULT).text
        assert len("".join(source.framer.parts)) <= 500
        assert next_event(source, SCAN).text == PACK
    finally:
        source.close()


def test_unplug_reports_disconnected_then_reconnects_and_grabs_again(tmp_path, clock):
    first, second = PipeEventSource(), PipeEventSource()
    plug = Plug(tmp_path, [first, second])
    source = start(plug, clock)
    try:
        device_time = first.type(PACK, t0_ms=5000)
        assert next_event(source, SCAN).text == PACK  # connected and reading
        device_time = first.type(
            "]d2AB", t0_ms=device_time + 1000, suffix=""
        )  # a partial scan, then the cable goes
        plug.unplug()  # the by-id name goes first, so the reader cannot reopen at once
        first.unplug()
        fault = next_event(source, FAULT)
        assert "disconnected (unplugged)" in fault.text
        assert "not found" in next_event(source, FAULT).text
        plug.plug()  # back as a new eventN behind the same by-id name
        second.type(PACK, t0_ms=device_time + 10_000)
        assert next_event(source, SCAN).text == PACK  # the partial "]d2AB" was dropped, not sent
        assert second.grabbed and second.leds == [(1, 0)]
        assert first.closed
        assert plug.opened[1][0].endswith(f"by-id/{NAME}")
    finally:
        source.close()


def test_a_scanner_grabbed_by_another_program_is_reported_in_use(tmp_path, clock):
    busy, free = PipeEventSource(busy=True), PipeEventSource()
    source = start(Plug(tmp_path, [busy, free]), clock)
    try:
        assert "in use by another program" in next_event(source, FAULT).text
        free.type(PACK, t0_ms=5000)
        assert next_event(source, SCAN).text == PACK
        assert busy.closed
    finally:
        source.close()


def test_a_missing_scanner_is_a_fault_not_an_exception(tmp_path, clock):
    plug = Plug(tmp_path, [PipeEventSource()])
    plug.unplug()
    source = start(plug, clock)
    try:
        fault = next_event(source, FAULT)
        assert NAME in fault.text and "not found" in fault.text
        assert source.read(0.05) is None  # reported once, not once per retry
    finally:
        source.close()


def test_names_resolve_under_by_id_then_under_dev_input(tmp_path):
    (tmp_path / "by-id").mkdir()
    (tmp_path / "by-id" / NAME).symlink_to(tmp_path / "event7")
    assert resolve_device(NAME, str(tmp_path)) == str(tmp_path / "by-id" / NAME)
    assert resolve_device("fmd-scanner", str(tmp_path)) == str(tmp_path / "fmd-scanner")
    assert resolve_device("/dev/input/event3", str(tmp_path)) == "/dev/input/event3"


def test_without_python_evdev_opening_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "evdev", None)
    with pytest.raises(DeviceError, match="python-evdev is not installed"):
        open_input_device("/dev/input/event0")


def test_factory_builds_the_evdev_source_from_its_url(tmp_path, clock):
    device = PipeEventSource()
    plug = Plug(tmp_path, [device])
    source = open_scanner(
        f"evdev://{NAME}?layout=fr&gap_ms=50",
        clock_ns=clock,
        open_device=plug.open,
        input_dir=str(plug.input_dir),
    )
    try:
        assert source.framer.gap_ms == 50
        device.type(PACK, "fr", t0_ms=5000)
        assert next_event(source, SCAN).text == PACK
    finally:
        source.close()


def test_scan_events_and_key_faults_carry_their_keys_for_calibration(tmp_path, clock):
    from fmd_core.calibration import C1, infer_keys

    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), clock, layout="us")
    try:
        device.type(C1, "fr", t0_ms=5000)  # a scanner set to French, read with the US table
        event = source.read(WAIT_S)
        # the US table cannot read a French AltGr key: a fault, but one that keeps its keys
        assert event is not None and event.kind == FAULT and event.keys is not None
        found = infer_keys(event.keys)
        assert found.code == "C1" and found.profile.layout == "fr" and found.profile.suffix == "CR"
        device.type(C1, "us", t0_ms=10_000)
        event = next_event(source, SCAN)
        assert infer_keys(event.keys).profile.layout == "us"
    finally:
        source.close()


RECORDINGS = __import__("pathlib").Path(__file__).parents[2] / "recordings"


def replay(device: PipeEventSource, path) -> dict:
    """Feed a recording (JSON lines ``[sec, usec, type, code, value]`` after a header object, the
    dumper format of SCANNERS-AND-HARDWARE.md 7.4) through the pipe with its own time stamps."""
    import json
    import struct

    from scanner_doubles import EVENT_FORMAT

    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    records = [struct.pack(EVENT_FORMAT, *json.loads(line)) for line in lines[1:]]
    for record in records:
        os.write(device._w, record)
    return header


@pytest.mark.parametrize("recording", sorted(RECORDINGS.glob("*.jsonl")), ids=lambda p: p.stem)
def test_recorded_event_streams_replay_to_their_expected_text(tmp_path, clock, recording):
    import json

    header = json.loads(recording.read_text().splitlines()[0])
    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), clock, layout=header["layout"])
    try:
        replay(device, recording)
        for kind, text in header["expected"]:
            assert next_event(source, kind).text == text
    finally:
        source.close()


def test_calibrate_record_writes_a_recording_that_replays(tmp_path, clock, monkeypatch, capsys):
    import json

    from fmd_core.calibration import C1
    from fmd_terminal import cli
    from fmd_terminal.scanners import factory

    device = PipeEventSource()
    plug = Plug(tmp_path, [device])
    real_open = factory.open_scanner

    def open_with_pipe(url, **kwargs):
        return real_open(url, open_device=plug.open, input_dir=str(plug.input_dir), clock_ns=clock, **kwargs)

    monkeypatch.setattr(factory, "open_scanner", open_with_pipe)
    device.type(C1, "fr", t0_ms=5000)
    record = tmp_path / "fr-ctrl.jsonl"
    status = cli.main(
        [
            "calibrate",
            "--scanner",
            f"evdev://{NAME}?layout=fr",
            "--timeout",
            "10",
            "--c1-only",
            "--record",
            str(record),
            "--profile",
            str(tmp_path / "p.json"),
        ]
    )
    assert status == 0, capsys.readouterr()
    lines = record.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["synthetic"] is False and header["layout"] == "fr" and header["expected"] == [["scan", C1]]
    assert len(lines) - 1 > 4 * len(C1)  # key down and up, each with its SYN_REPORT
    (RECORDINGS_COPY := tmp_path / "copy").mkdir()
    replayed = PipeEventSource()
    source = start(Plug(RECORDINGS_COPY, [replayed]), clock, layout="fr")
    try:
        replay(replayed, record)
        assert next_event(source, SCAN).text == C1
    finally:
        source.close()


def test_the_real_input_device_on_a_node_that_is_no_input_device_is_a_fault(tmp_path, clock):
    """python-evdev's InputDevice runs its ioctls at once: on a plain file they fail (ENOTTY)."""
    plug = Plug(tmp_path, [])
    source = EvdevScanSource(
        NAME, clock_ns=clock, open_device=open_input_device, input_dir=str(plug.input_dir), reconnect_s=0.01
    ).start()
    try:
        fault = next_event(source, FAULT)
        assert "cannot be opened" in fault.text and NAME in fault.text
    finally:
        source.close()
