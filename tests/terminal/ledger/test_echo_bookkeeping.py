"""A claim's echo that comes after its claimant stopped waiting is not kept: a terminal that runs for
months under a slow broker must not remember every late echo (memory would grow without bound)."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

from fmd_terminal.ledger.mqtt import SiteLedger


class SlowLink:
    """A site link whose broker echoes nothing by itself: the test delivers the echoes when it likes."""

    site, device = "pharmacy1", "counter1"

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.connected.set()
        self.handlers: list[tuple[str, object]] = []
        self.sent: list[tuple[str, dict]] = []

    def subscribe(self, topic_filter, handler) -> None:
        self.handlers.append((topic_filter, handler))

    def on_connect(self, callback) -> None: ...

    def publish(self, topic, payload, retain=False, expiry_s=None) -> bool:
        self.sent.append((topic, payload))
        return True

    def echo_all(self) -> None:
        claim_handler = next(h for f, h in self.handlers if "/claim/" in f)
        for topic, payload in self.sent:
            if "/claim/" in topic:
                claim_handler(topic, json.dumps(payload).encode() if isinstance(payload, dict) else payload)


def test_an_echo_after_the_timeout_is_not_kept_and_an_echo_in_time_is_consumed():
    link = SlowLink()
    ledger = SiteLedger(link, b"k" * 32, "1", echo_timeout_s=0.01)
    packs = [SimpleNamespace(pack_key=f"gs1:03400930000120:SN{i}") for i in range(50)]
    for pack in packs:
        assert ledger.before_record("dispense", pack) is None  # no echo in time: going ahead alone
    assert len([t for t, _ in link.sent if "/claim/" in t]) == 50
    link.echo_all()  # the 50 echoes arrive late
    assert ledger._echoes == {}
    assert ledger._awaited == set()

    # an echo in time is read by its claimant and not kept either
    ledger.echo_timeout_s = 5.0
    link.sent.clear()
    pack = SimpleNamespace(pack_key="gs1:03400930000120:SNLIVE")
    done: list = []
    waiter = threading.Thread(target=lambda: done.append(ledger.before_record("dispense", pack)))
    waiter.start()
    while not any("/claim/" in t for t, _ in link.sent):
        threading.Event().wait(0.005)
    link.echo_all()
    waiter.join(5)
    assert done == [None]  # echoed, nobody before it: go ahead
    assert ledger._echoes == {} and ledger._awaited == set()
