"""The site ledger over MQTT (paho-mqtt, MQTT 5, client certificate): the terminal's hook and link.

``SiteLink`` is the terminal's one connection to its site's broker (TLS, its device certificate, a
last will ``offline`` on its health topic). It connects in the background and reconnects by itself:
a terminal never waits for it at start, and with the broker down it works exactly as without a ledger.

``SiteLedger`` is the hook the terminal calls around a state-changing op (``fmd_core.site_ledger``
has the rules):

- ``before_record(kind, pack)``: publish a claim and wait for the broker's echo (at most
  ``echo_timeout_s``, about one broker round trip when it is up); returns None (go ahead, alone when
  the broker is down or slow) or ``(reason, where)`` to yield to another counter;
- ``site_yield(held)``: what the outbox needs to record a yielded op already cancelled (never sendable);
- ``after_record(pack, op, held)``: publish the pack's ``recorded`` entry, or release the claim when
  nothing is to be sent (a yield, a local refusal, a failed record);
- ``settled(...)``: publish the pack's ``final`` entry (retained, message expiry 11 days);
- ``explain(kind, pack)``: the site's own decommission that explains an NMVS_NC_PCK_22;
- ``watch(worker, outbox)``: a worker that publishes every settlement it hands out.

On every (re)connection the link re-subscribes; the retained ledger fills the view again, and this
terminal republishes the finals of its own changes of the last 11 days that the broker lacks (the
outbox stays the record; the ledger is a view of the site).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from fmd_core import site_ledger as rules
from fmd_terminal.errors import ConfigError, StorageError

log = logging.getLogger(__name__)

ECHO_TIMEOUT_S = 0.15
KEPT = 2000  # packs whose claims / pre-op entry are remembered; older ones are forgotten first
CATCH_UP_DELAY_S = 0.5  # let the retained ledger arrive before republishing what it lacks
KEEPALIVE_S = 15


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def pack_topic_key(site_key: bytes, pack_key: str) -> str:
    """The pack's key in topic names: HMAC-SHA256 of the pack (scheme, product code, serial) under the
    site's key, 32 hex digits; without the key nobody can tell which pack a topic is about."""
    return hmac.new(site_key, pack_key.encode(), hashlib.sha256).hexdigest()[:32]


class SiteLink:
    """One MQTT 5 connection to the site broker, with client certificate and last will."""

    def __init__(self, *, host: str, port: int, site: str, device: str, ca: str, cert: str, key: str) -> None:
        import paho.mqtt.client as mqtt

        self.site, self.device = site, device
        self.host, self.port = host, port
        self.connected = threading.Event()
        self._handlers: list[tuple[str, Callable[[str, bytes], None]]] = []
        self._on_connect: list[Callable[[], None]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device, protocol=mqtt.MQTTv5)
        try:
            self.client.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
        except (OSError, ValueError) as error:
            raise ConfigError(f"site ledger: cannot read the certificate files ({ca}, {cert}): {error}") from None
        self.client.will_set(rules.health_topic(site, device), json.dumps({"v": rules.VERSION, "state": "offline",
                                                                            "device": device}), qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_subscribe = self._subscribed
        self._subscription: int | None = None
        self.client.on_message = self._message

    def subscribe(self, topic_filter: str, handler: Callable[[str, bytes], None]) -> None:
        """``handler(topic, payload)`` for messages matching ``topic_filter`` (QoS 1, no-local off)."""
        self._handlers.append((topic_filter, handler))

    def on_connect(self, callback: Callable[[], None]) -> None:
        self._on_connect.append(callback)

    def start(self) -> SiteLink:
        self.client.connect_async(self.host, self.port, keepalive=KEEPALIVE_S)
        self.client.loop_start()
        return self

    def close(self) -> None:
        self.connected.clear()  # a goodbye, not an outage: nothing to warn about
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: dict | str, retain: bool = False, expiry_s: int | None = None) -> bool:
        """QoS 1; False when not connected (paho keeps it queued and sends it after reconnecting)."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = None
        if expiry_s is not None:
            properties = Properties(PacketTypes.PUBLISH)
            properties.MessageExpiryInterval = int(expiry_s)
        data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        info = self.client.publish(topic, data, qos=1, retain=retain, properties=properties)
        return info.rc == 0 and self.connected.is_set()

    def _connected(self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("site broker refused the connection: %s", reason)
            return
        if not self._handlers:
            self._online()
            return
        _result, mid = self.client.subscribe([(topic_filter, 1) for topic_filter, _handler in self._handlers])
        self._subscription = mid

    def _subscribed(self, _client: Any, _userdata: Any, mid: int, codes: Any, _props: Any) -> None:
        """Online only once the broker confirmed the subscriptions: a claim of another counter
        published before that would not reach this terminal, which could then win a race it lost."""
        if mid != self._subscription:
            return
        if any(getattr(code, "is_failure", False) for code in codes):
            log.warning("site broker refused a subscription (ACL?): %s", codes)
            return
        self._online()

    def _online(self) -> None:
        self.connected.set()
        log.info("site ledger online (%s:%s)", self.host, self.port)
        for callback in self._on_connect:
            callback()

    def _disconnected(self, *_args: Any) -> None:
        if self.connected.is_set():
            log.warning("site ledger offline: the terminal carries on alone")
        self.connected.clear()

    def _message(self, _client: Any, _userdata: Any, message: Any) -> None:
        import paho.mqtt.client as mqtt

        for topic_filter, handler in self._handlers:
            if mqtt.topic_matches_sub(topic_filter, message.topic):
                handler(message.topic, message.payload)


class SiteLedger:
    """The terminal's hook onto the site ledger (``fmd_core.site_ledger`` decides)."""

    def __init__(self, link: SiteLink, site_key: bytes, counter: str, *, echo_timeout_s: float = ECHO_TIMEOUT_S,
                 clock: Callable[[], int] = monotonic_ms, wall: Callable[[], float] = time.time,
                 history: Callable[[], list[tuple[str, str, str, int]]] | None = None) -> None:
        self.link = link
        self.site, self.device, self.counter = link.site, link.device, counter
        self.site_key = site_key
        self.echo_timeout_s = echo_timeout_s
        self.clock, self.wall = clock, wall
        self.history = history  # this terminal's changes: (kind, pack_key, op state, wall_ns)
        self._cond = threading.Condition()
        self._claims: dict[str, list[tuple[dict, int]]] = {}  # key -> claims in the broker's order
        self._entries: dict[str, tuple[dict, int]] = {}  # key -> (entry, received_ms)
        self._echoes: dict[str, list[dict]] = {}  # token -> live claims delivered before its echo
        self._awaited: set[str] = set()  # tokens whose claimant still waits for the echo
        self._before: dict[str, dict | None] = {}  # key -> the entry before this terminal's op
        self._mine: dict[str, str] = {}  # key -> the token of this terminal's claim not yet answered
        self._closed = False
        link.subscribe(f"fmd/{self.site}/claim/+", self._claim)
        link.subscribe(f"fmd/{self.site}/ledger/+", self._entry)
        link.on_connect(self._schedule_catch_up)

    @property
    def online(self) -> bool:
        return self.link.connected.is_set()

    def key(self, pack: Any) -> str:
        return pack_topic_key(self.site_key, pack.pack_key)

    def entry(self, pack: Any) -> dict | None:
        with self._cond:
            found = self._entries.get(self.key(pack))
        return found[0] if found else None

    # -- the hook --------------------------------------------------------------------------------

    def before_record(self, kind: str, pack: Any) -> tuple[str, dict] | None:
        """Claim the pack for an op of ``kind``; None to go ahead, or (reason, where) to yield."""
        key = self.key(pack)
        with self._cond:
            found = self._entries.get(key)
            self._before.pop(key, None)
            self._before[key] = found[0] if found else None
            if len(self._before) > KEPT:  # dicts keep insertion order: the oldest goes first
                del self._before[next(iter(self._before))]
        if kind not in rules.CHANGES or not self.online:
            return None
        token = uuid.uuid4().hex
        with self._cond:
            self._mine[key] = token
            if len(self._mine) > KEPT:
                del self._mine[next(iter(self._mine))]
        claim = rules.claim(token, self.device, self.counter, kind, int(self.wall()))
        with self._cond:
            self._awaited.add(token)
        self.link.publish(rules.claim_topic(self.site, key), claim)
        end = time.monotonic() + self.echo_timeout_s
        with self._cond:
            while token not in self._echoes:
                left = end - time.monotonic()
                if left <= 0:
                    self._awaited.discard(token)  # an echo after this is not kept (it would never be read)
                    log.warning("site ledger: no echo of the claim within %.0f ms; going ahead alone",
                                self.echo_timeout_s * 1000)
                    return None
                self._cond.wait(left)
            earlier = self._echoes.pop(token)
            self._awaited.discard(token)
            found = self._entries.get(key)
        log.debug("site ledger: claim %s echoed after %s", token[:8], [c.get("device") for c in earlier])
        return rules.decide(kind, self.device, found[0] if found else None, earlier)

    def site_yield(self, held: tuple[str, dict] | None) -> tuple[str, str] | None:
        """(reason, note) for ``OpRequest.site_yield`` when ``held`` (``before_record``'s answer) says
        another counter has the pack: the outbox records the op cancelled, so nothing is ever sent."""
        if held is None:
            return None
        where = held[1]
        return held[0], f"{held[0]}: counter {where.get('counter')} ({where.get('device')}) at {where.get('at')}"

    def after_record(self, pack: Any, op: Any, held: tuple[str, dict] | None) -> None:
        """Once the outbox answered: an op it recorded to send is published as recorded (which ends this
        terminal's claim); a yield, a local refusal or a failed record releases the claim at once, so
        the other counters do not see the pack "in progress" for ``CLAIM_LIVE_MS``."""
        if op is not None and held is None:
            self.recorded(op)
        else:
            self.release(pack)

    def release(self, pack: Any) -> None:
        """Withdraw this terminal's live claim on ``pack``, if any (``fmd_core.site_ledger.release``)."""
        key = self.key(pack)
        with self._cond:
            token = self._mine.pop(key, None)
        if token is not None:
            self.link.publish(rules.claim_topic(self.site, key), rules.release(token, self.device))
            log.debug("site ledger: claim %s released", token[:8])

    def recorded(self, op: Any) -> None:
        with self._cond:
            self._mine.pop(self.key(op.pack), None)  # the entry answers the claim
        if op.kind in rules.CHANGES:
            self._publish_entry(rules.RECORDED, op.kind, op.pack, None, None, op.wall_ns)

    def settled(self, kind: str, pack: Any, state: str, answer: Any) -> None:
        """Publish the op's final entry once the outbox settled it (done, rejected, needs attention)."""
        outcome = {"done": "done", "rejected": "rejected", "needs_attention": "attention"}.get(state)
        if outcome is None:
            return
        if answer is not None and getattr(answer, "has_alert", False):
            outcome = "alert"
        code = getattr(answer, "operation_code", None) if answer is not None else None
        self._publish_entry(rules.FINAL, kind, pack, outcome, code, None)

    def explain(self, kind: str, pack: Any) -> tuple[str, dict] | None:
        """The site's decommission of this pack that explains an NMVS_NC_PCK_22: as the ledger stood
        before this op was recorded, else as it stands now (an answer that came late, after the broker
        came back, or for an op of an earlier run; this terminal's failed decommission never hides the
        site's done one there: ``fmd_core.site_ledger.entry``)."""
        key = self.key(pack)
        with self._cond:
            before = self._before.get(key)
            found = self._entries.get(key)
        return (rules.explains_already_inactive(kind, self.device, before)
                or rules.explains_already_inactive(kind, self.device, found[0] if found else None))

    def close(self) -> None:
        self._closed = True

    def watch(self, worker: Any, outbox: Any) -> LedgerWorker:
        return LedgerWorker(worker, outbox, self)

    # -- what the broker delivers (paho's thread) ------------------------------------------------

    def _claim(self, topic: str, payload: bytes) -> None:
        claim = _decode(payload)
        if claim is None:
            return
        key, now = rules.key_of_topic(topic), self.clock()
        with self._cond:
            if rules.is_release(claim):
                self._claims[key] = rules.without_released(self._claims.get(key, []), claim)
                return
            if key not in self._claims and len(self._claims) >= KEPT:
                self._claims = {k: v for k, v in self._claims.items()
                                if v and now - v[-1][1] < rules.CLAIM_LIVE_MS}
            claims = self._claims.setdefault(key, [])
            claims[:] = [(c, at) for c, at in claims if now - at < rules.CLAIM_LIVE_MS]
            if claim.get("device") == self.device and claim.get("token") in self._awaited:
                found = self._entries.get(key)
                answered = {found[0].get("device"): found[1]} if found else {}
                self._echoes[claim["token"]] = [
                    c for c, at in claims if rules.claim_live(at, now, answered.get(c.get("device")))]
                self._cond.notify_all()
            claims.append((claim, now))

    def _entry(self, topic: str, payload: bytes) -> None:
        key = rules.key_of_topic(topic)
        with self._cond:
            if not payload:
                self._entries.pop(key, None)
                return
            entry = _decode(payload)
            if entry is not None:
                found = self._entries.get(key)
                self._entries[key] = (rules.merged(found[0] if found else None, entry), self.clock())

    # -- publishing and catching up ----------------------------------------------------------------

    def _publish_entry(self, stage: str, kind: str, pack: Any, outcome: str | None, code: str | None,
                       wall_ns: int | None) -> None:
        key = self.key(pack)
        at_s = int(wall_ns / 1e9) if wall_ns else int(self.wall())
        with self._cond:
            found = self._entries.get(key)
            entry = rules.entry(stage, kind, self.device, self.counter, at_s, outcome, code,
                                found[0] if found else None)
            self._entries[key] = (entry, self.clock())
        self.link.publish(rules.ledger_topic(self.site, key), entry, retain=True, expiry_s=rules.EXPIRY_S)

    def _schedule_catch_up(self) -> None:
        if self.history is not None:
            timer = threading.Timer(CATCH_UP_DELAY_S, self.catch_up)
            timer.daemon = True
            timer.start()

    def catch_up(self) -> int:
        """Republish this terminal's finals of the last 11 days that the broker's ledger lacks."""
        if self.history is None or self._closed:
            return 0
        horizon = self.wall() - rules.EXPIRY_S
        sent = 0
        try:
            done = self.history()
        except StorageError as error:
            log.warning("site ledger: cannot read the outbox to catch up: %s", error)
            return 0
        for kind, pack_key, state, wall_ns in done:
            if wall_ns / 1e9 < horizon or kind not in rules.CHANGES:
                continue
            key = pack_topic_key(self.site_key, pack_key)
            with self._cond:
                found = self._entries.get(key)
            if found is not None and found[0].get("at", 0) >= int(wall_ns / 1e9):
                continue
            outcome = {"done": "done", "rejected": "rejected"}.get(state)
            stage = rules.FINAL if outcome else rules.RECORDED
            with self._cond:
                entry = rules.entry(stage, kind, self.device, self.counter, int(wall_ns / 1e9), outcome, None,
                                    found[0] if found else None)
                self._entries[key] = (entry, self.clock())
            self.link.publish(rules.ledger_topic(self.site, key), entry, retain=True, expiry_s=rules.EXPIRY_S)
            sent += 1
        if sent:
            log.info("site ledger: republished %d entries the broker lacked", sent)
        return sent


class LedgerWorker:
    """The worker, publishing each settlement it hands to the terminal as the pack's final entry."""

    def __init__(self, worker: Any, outbox: Any, ledger: SiteLedger) -> None:
        self.worker, self.outbox, self.ledger = worker, outbox, ledger

    def __getattr__(self, name: str) -> Any:
        return getattr(self.worker, name)

    def send_live(self, op: Any, deadline_s: float) -> Any:
        settlement = self.worker.send_live(op, deadline_s)
        if settlement is not None:
            self.ledger.settled(op.kind, op.pack, settlement.state, settlement.answer)
        return settlement

    def live_result(self, ticket: Any, give_up: bool = False) -> tuple[bool, Any]:
        """The worker's answer to a live scan (issue 11's live path), published once it came."""
        done, settlement = self.worker.live_result(ticket, give_up=give_up)
        if settlement is not None:
            self._publish(settlement)
        return done, settlement

    def take_resolutions(self) -> list[Any]:
        taken = self.worker.take_resolutions()
        for settlement in taken:
            self._publish(settlement)
        return taken

    def _publish(self, settlement: Any) -> None:
        from fmd_terminal.outbox.sqlite import pack_of

        try:
            pack = pack_of(self.outbox.op(settlement.seq))
        except LookupError:
            return
        self.ledger.settled(settlement.kind, pack, settlement.state, settlement.answer)


def _decode(payload: bytes) -> dict | None:
    try:
        value = json.loads(payload)
    except ValueError:
        log.warning("site ledger: a message that is not JSON was ignored")
        return None
    if not isinstance(value, dict) or value.get("v") != rules.VERSION:
        return None
    return value
