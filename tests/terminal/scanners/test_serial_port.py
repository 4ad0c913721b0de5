"""The serial adapter: pyserial ``loop://`` and a real pseudo-terminal pair (SCANNERS-AND-HARDWARE.md 2, 7.3)."""

from __future__ import annotations

import os
import threading
import tty

import pytest
import serial
from scanner_doubles import FakeClock

from fmd_terminal.scanners import FAULT, SCAN
from fmd_terminal.scanners.serial_port import SerialScanSource, open_serial_port, resolve_port

PACK = "]d2010340093001234521Yz9\x1d10LOT1\x1d17270630"
WAIT_S = 5.0


def next_event(source, kind):
    event = source.read(WAIT_S)
    assert event is not None, "nothing arrived"
    assert event.kind == kind, event
    return event


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def loop_source(clock):
    port = serial.serial_for_url("loop://", timeout=0.02)
    source = SerialScanSource(
        "loop://", clock_ns=clock, open_port=lambda path, baud: port, gap_ms=50, max_length=500
    )
    source.start()
    yield source, port
    source.close()


def test_loop_cr_and_crlf_frames_keep_control_characters(loop_source):
    source, port = loop_source
    port.write((PACK + "\r\n" + PACK + "\r").encode("latin-1"))
    assert next_event(source, SCAN).text == PACK
    assert next_event(source, SCAN).text == PACK


def test_loop_bytes_are_latin_1_one_byte_one_character(loop_source):
    source, port = loop_source
    port.write(b"]d1\x1e06\x1d\xe9\xff\r")
    assert next_event(source, SCAN).text == "]d1\x1e06\x1d\u00e9\u00ff"


def test_loop_a_10000_byte_burst_is_one_fault_and_the_next_scan_is_read(loop_source):
    source, port = loop_source
    port.write(b"A" * 10_000 + b"\r" + PACK.encode("latin-1") + b"\r")
    assert "longer than 500" in next_event(source, FAULT).text
    assert next_event(source, SCAN).text == PACK


def start_on_pty(path, clock, **options):
    """Start a source on the pty and wait until it has opened it (pyserial flushes input on open)."""
    opened = threading.Event()

    def open_port(port_path, baud):
        port = open_serial_port(port_path, baud)
        opened.set()
        return port

    source = SerialScanSource(path, clock_ns=clock, open_port=open_port, **options).start()
    assert opened.wait(WAIT_S)
    return source


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(master)
    path = os.ttyname(slave)
    yield master, path
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def test_pty_scan_in_chunks_is_reassembled_through_the_real_serial_path(pty_pair, clock):
    master, path = pty_pair
    source = start_on_pty(path, clock)
    try:
        data = (PACK + "\r").encode("latin-1")
        for start in range(0, len(data), 7):  # several USB packets
            os.write(master, data[start : start + 7])
        assert next_event(source, SCAN).text == PACK
    finally:
        source.close()


def test_pty_scan_without_suffix_ends_after_our_gap(pty_pair, clock):
    master, path = pty_pair
    source = start_on_pty(path, clock, gap_ms=40)
    try:
        os.write(master, PACK.encode("latin-1"))
        assert source.read(0.3) is None  # the injected clock has not moved
        clock.advance_ms(50)
        assert next_event(source, SCAN).text == PACK
    finally:
        source.close()


def test_pty_hang_up_is_reported_as_disconnected_and_the_adapter_keeps_running(pty_pair, clock):
    master, path = pty_pair
    source = start_on_pty(path, clock, reconnect_s=0.01)
    try:
        os.write(master, (PACK + "\r").encode("latin-1"))
        assert next_event(source, SCAN).text == PACK  # open and reading
        os.close(master)  # the scanner goes away
        assert "disconnected" in next_event(source, FAULT).text
        gone = source.read(WAIT_S)  # the pts node goes with its master, as a ttyACM does on unplug
        assert gone is not None and gone.text == f"scanner {path} not found: unplugged? retrying"
        assert source.read(0.2) is None  # retrying is not reported again
        assert source._thread.is_alive()
    finally:
        source.close()


def test_port_names_resolve_under_serial_by_id(tmp_path):
    name = "usb-Zebra_Scanner_123-if00"
    (tmp_path / name).symlink_to("/dev/ttyACM0")
    assert resolve_port(name, str(tmp_path)) == str(tmp_path / name)
    assert resolve_port("fmd-scanner-serial", str(tmp_path)) == "/dev/fmd-scanner-serial"
    assert resolve_port("/dev/ttyACM3", str(tmp_path)) == "/dev/ttyACM3"


def test_a_missing_port_is_a_fault(tmp_path, clock):
    source = SerialScanSource(
        "usb-None-if00", clock_ns=clock, by_id_dir=str(tmp_path), reconnect_s=0.01
    ).start()
    try:
        assert "not found" in next_event(source, FAULT).text
        assert source.read(0.05) is None  # once, not once per retry
    finally:
        source.close()


def test_default_opener_opens_urls_and_exclusive_ports(pty_pair):
    _, path = pty_pair
    port = open_serial_port(path)
    try:
        assert port.exclusive and port.timeout > 0
    finally:
        port.close()
    assert open_serial_port("loop://").is_open
