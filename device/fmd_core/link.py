"""Pacing the link to the service: backoff, Retry-After, circuit breaker, rate cap (OFFLINE-QUEUE.md 6.2).

Pure and portable: every function takes the time (boottime, in ns) and the random draws it needs,
so tests drive it with an injected clock and a seeded random source.
"""

from fmd_core.timekeeping import SECOND_NS

BACKOFF_CAP_NS = 300 * SECOND_NS
RETRY_AFTER_CAP_NS = 3600 * SECOND_NS


def backoff_ns(failures, draw, base_ns=SECOND_NS, cap_ns=BACKOFF_CAP_NS):
    """Full jitter: ``random(0, min(cap, base * 2^n))`` after ``n`` consecutive link failures."""
    if failures <= 0:
        return 0
    ceiling = base_ns * (1 << min(failures, 40))
    if ceiling > cap_ns:
        ceiling = cap_ns
    return int(draw * ceiling)


def wait_ns(failures, draw, retry_after_s=None, base_ns=SECOND_NS, cap_ns=BACKOFF_CAP_NS):
    """``max(Retry-After, backoff)``, capped at 1 h (section 6.2)."""
    wait = backoff_ns(failures, draw, base_ns, cap_ns)
    if retry_after_s is not None and retry_after_s > 0:
        hinted = int(retry_after_s * SECOND_NS)
        if hinted > wait:
            wait = hinted
    if wait > RETRY_AFTER_CAP_NS:
        wait = RETRY_AFTER_CAP_NS
    return wait


CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class Breaker:
    """One circuit breaker per link, in memory, half-open at process start (section 6.2).

    Closed -> open after ``threshold`` consecutive link failures. Open -> half-open after
    ``open_base_ns x random(0.5, 1.5)``, doubling with each failed probe up to ``open_cap_ns``.
    Half-open: ``probes_to_close`` successful read-only probes ``probe_gap_ns`` apart close it; one
    failure reopens it. Mutable, owned by the sync worker's thread only.
    """

    __slots__ = ("state", "failures", "reopen_at_ns", "open_ns", "probe_successes", "next_probe_ns",
                 "opened_at_ns", "threshold", "open_base_ns", "open_cap_ns", "probes_to_close", "probe_gap_ns")

    def __init__(self, threshold=5, open_base_ns=30 * SECOND_NS, open_cap_ns=600 * SECOND_NS,
                 probes_to_close=3, probe_gap_ns=2 * SECOND_NS):
        self.threshold = threshold
        self.open_base_ns = open_base_ns
        self.open_cap_ns = open_cap_ns
        self.probes_to_close = probes_to_close
        self.probe_gap_ns = probe_gap_ns
        self.state = HALF_OPEN
        self.failures = 0
        self.open_ns = open_base_ns
        self.reopen_at_ns = 0
        self.probe_successes = 0
        self.next_probe_ns = 0
        self.opened_at_ns = None

    def allows_send(self, now_ns):
        """Whether ops may be sent (closed). While open or half-open only probes go out."""
        return self.state == CLOSED

    def probe_due(self, now_ns):
        if self.state == OPEN and now_ns >= self.reopen_at_ns:
            self.state = HALF_OPEN
            self.probe_successes = 0
            self.next_probe_ns = now_ns
        return self.state == HALF_OPEN and now_ns >= self.next_probe_ns

    def next_event_ns(self):
        if self.state == OPEN:
            return self.reopen_at_ns
        if self.state == HALF_OPEN:
            return self.next_probe_ns
        return None

    def on_success(self, now_ns):
        """A request or probe succeeded. Returns True when this closed the breaker."""
        self.failures = 0
        if self.state != HALF_OPEN:
            return False
        self.probe_successes += 1
        if self.probe_successes >= self.probes_to_close:
            self.state = CLOSED
            self.open_ns = self.open_base_ns
            return True
        self.next_probe_ns = now_ns + self.probe_gap_ns
        return False

    def on_failure(self, now_ns, draw):
        """A link failure (``not_sent``, ``unknown``, ``retry_later``). Returns True when it opened."""
        self.failures += 1
        if self.state == HALF_OPEN:
            if self.opened_at_ns is not None:
                self.open_ns = min(self.open_ns * 2, self.open_cap_ns)
            return self._open(now_ns, draw)
        if self.state == CLOSED and self.failures >= self.threshold:
            return self._open(now_ns, draw)
        return False

    def _open(self, now_ns, draw):
        was_open = self.state == OPEN
        self.state = OPEN
        if self.opened_at_ns is None:
            self.opened_at_ns = now_ns
        self.reopen_at_ns = now_ns + int(self.open_ns * (0.5 + draw))
        return not was_open

    def closed_after_ns(self, now_ns):
        """How long the breaker had been open before it closed (for the randomised start)."""
        if self.opened_at_ns is None:
            return 0
        gone = now_ns - self.opened_at_ns
        self.opened_at_ns = None
        return gone


class TokenBucket:
    """A rate cap: ``rate`` tokens per second, ``burst`` at most; halved for a while after a 429."""

    __slots__ = ("rate", "burst", "tokens", "stamp_ns", "halved_until_ns", "halve_for_ns")

    def __init__(self, rate=5.0, burst=5.0, halve_for_ns=600 * SECOND_NS):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp_ns = None
        self.halved_until_ns = 0
        self.halve_for_ns = halve_for_ns

    def _rate(self, now_ns):
        return self.rate / 2 if now_ns < self.halved_until_ns else self.rate

    def _refill(self, now_ns):
        if self.stamp_ns is None:
            self.stamp_ns = now_ns
        gained = (now_ns - self.stamp_ns) / SECOND_NS * self._rate(now_ns)
        self.tokens = min(self.burst, self.tokens + gained)
        self.stamp_ns = now_ns

    def delay_ns(self, now_ns):
        """0 when a request may go now, else how long until a token is there."""
        if self.rate <= 0:
            return 0
        self._refill(now_ns)
        if self.tokens >= 1:
            return 0
        return int((1 - self.tokens) / self._rate(now_ns) * SECOND_NS) + 1

    def take(self, now_ns):
        if self.rate <= 0:
            return
        self._refill(now_ns)
        self.tokens -= 1

    def throttled(self, now_ns):
        """A 429 arrived: halve the rate for the next 10 minutes (section 6.2)."""
        self.halved_until_ns = now_ns + self.halve_for_ns
