"""The sd_notify helper against a real AF_UNIX datagram socket (SCANNERS-AND-HARDWARE.md, section 6)."""

from __future__ import annotations

import logging
import os
import socket
import uuid

import pytest

from fmd_terminal.system_notify import ServiceNotifier, watchdog_interval_s


@pytest.fixture
def listener(tmp_path):
    """A fake systemd: a datagram socket bound in tmp_path, and the NOTIFY_SOCKET value naming it."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield sock, str(path)
    sock.close()


def receive_all(sock):
    """Every datagram waiting on ``sock``, decoded, in order."""
    sock.setblocking(False)
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode("utf-8"))
        except BlockingIOError:
            return messages


def test_sends_ready_status_watchdog_stopping_in_order(listener):
    sock, path = listener
    notifier = ServiceNotifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready()
    assert notifier.status("3 packs queued")
    assert notifier.watchdog()
    assert notifier.stopping()
    assert receive_all(sock) == ["READY=1", "STATUS=3 packs queued", "WATCHDOG=1", "STOPPING=1"]


def test_status_is_kept_on_one_line(listener):
    sock, path = listener
    ServiceNotifier({"NOTIFY_SOCKET": path}).status("scanner disconnected\nREADY=1")
    assert receive_all(sock) == ["STATUS=scanner disconnected READY=1"]


def test_abstract_socket_name():
    name = "fmd-test-" + uuid.uuid4().hex
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        notifier = ServiceNotifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.ready()
        assert sock.recv(64) == b"READY=1"


def test_reads_notify_socket_from_the_process_environment(listener, monkeypatch):
    sock, path = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    ServiceNotifier().watchdog()
    assert receive_all(sock) == ["WATCHDOG=1"]


def test_no_op_without_notify_socket(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = ServiceNotifier()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.status("x") is False
    assert notifier.watchdog() is False


def test_socket_that_appears_later_is_reached(tmp_path):
    """Each message opens the address afresh, as libsystemd's sd_notify does."""
    path = tmp_path / "late"
    notifier = ServiceNotifier({"NOTIFY_SOCKET": str(path)})
    assert notifier.ready() is False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        assert notifier.ready() is True
        assert sock.recv(64) == b"READY=1"


def test_failures_never_raise_and_warn_once(tmp_path, caplog):
    notifier = ServiceNotifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    with caplog.at_level(logging.DEBUG, logger="fmd_terminal.system_notify"):
        for _ in range(3):
            assert notifier.watchdog() is False
    levels = [record.levelno for record in caplog.records]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert "nobody-listens" in caplog.records[0].getMessage()


def test_overlong_path_does_not_raise(tmp_path):
    notifier = ServiceNotifier({"NOTIFY_SOCKET": "/" + "x" * 200})
    assert notifier.ready() is False


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WATCHDOG_USEC": "15000000"}, 7.5),
        ({"WATCHDOG_USEC": "1000"}, 0.0005),
        ({"WATCHDOG_USEC": "15000000", "WATCHDOG_PID": str(os.getpid())}, 7.5),
        ({"WATCHDOG_USEC": "15000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "15000000", "WATCHDOG_PID": "abc"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_watchdog_usec(environ, expected):
    assert watchdog_interval_s(environ) == expected


def test_watchdog_interval_from_the_process_environment(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval_s() == 2.0
