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


# A link is "known down" for a live scan while the last link-level failure is this recent and no
# request has succeeded since (section 6.2, "Counter budget").
RECENT_FAILURE_NS = 10 * SECOND_NS


class Breaker:
    """One circuit breaker per link, in memory, closed at process start (section 6.2).

    Closed -> open after ``threshold`` consecutive link failures, or at once when ``at_once`` (a
    refused connection, a name that did not resolve). Open -> half-open after ``open_base_ns x
    random(0.5, 1.5)``, doubling with each failed timer probe up to ``open_cap_ns``. Half-open: one
    successful read-only probe closes it; one failure reopens it. Any successful request closes it.

    A live scan is a reason to probe now (``want_probe``): while the link is known down a probe is
    due at once, at most one every ``probe_gap_ns``, whatever the state and its timer. Mutable,
    owned by the sync worker (read under its lock by the scan path).
    """

    __slots__ = ("state", "failures", "reopen_at_ns", "open_ns", "opened_at_ns", "threshold", "open_base_ns",
                 "open_cap_ns", "probe_gap_ns", "last_probe_ns", "last_failure_ns", "wanted")

    def __init__(self, threshold=5, open_base_ns=30 * SECOND_NS, open_cap_ns=600 * SECOND_NS,
                 probe_gap_ns=2 * SECOND_NS):
        self.threshold = threshold
        self.open_base_ns = open_base_ns
        self.open_cap_ns = open_cap_ns
        self.probe_gap_ns = probe_gap_ns
        self.state = CLOSED
        self.failures = 0
        self.open_ns = open_base_ns
        self.reopen_at_ns = 0
        self.opened_at_ns = None
        self.last_probe_ns = None
        self.last_failure_ns = None
        self.wanted = False

    def allows_send(self, now_ns):
        """Whether backlog ops may be sent (closed). While open or half-open only probes go out."""
        return self.state == CLOSED

    def _recent_failure(self, now_ns):
        return self.last_failure_ns is not None and now_ns - self.last_failure_ns < RECENT_FAILURE_NS

    def known_down(self, now_ns):
        """Section 6.2, "Counter budget": the breaker is not closed, or the last request in the past
        10 s failed at the link level. A live scan is then shown amber at once unless a probe
        shows the link up within the short budget."""
        return self.state != CLOSED or self._recent_failure(now_ns)

    def probe_at_ns(self, now_ns):
        """The earliest time the next probe may go (at most one every ``probe_gap_ns``)."""
        if self.last_probe_ns is None:
            return now_ns
        return max(now_ns, self.last_probe_ns + self.probe_gap_ns)

    def want_probe(self, now_ns):
        """A live scan arrived while the link is known down: probe now, or as soon as the gap allows.
        Returns when that probe may go (ns); a link not known down is not probed (the scan is sent)."""
        if not self.known_down(now_ns):
            return now_ns
        self.wanted = True
        return self.probe_at_ns(now_ns)

    def probe_due(self, now_ns):
        """Whether a read-only probe should go now: the open timer ran out (half-open), or a live
        scan asked for one and the gap since the last probe has passed."""
        if self.state == OPEN and now_ns >= self.reopen_at_ns:
            self.state = HALF_OPEN
        if now_ns < self.probe_at_ns(now_ns):
            return False
        if self.state == HALF_OPEN:
            return True
        return self.wanted and self.known_down(now_ns)

    def next_event_ns(self, now_ns=0):
        """When ``probe_due`` may next turn true by itself (None: only a live scan can make it)."""
        if self.wanted and self.known_down(now_ns):
            return self.probe_at_ns(now_ns)
        if self.state == OPEN:
            return max(self.reopen_at_ns, self.probe_at_ns(now_ns))
        if self.state == HALF_OPEN:
            return self.probe_at_ns(now_ns)
        return None

    def probed(self, now_ns):
        """A probe went out at ``now_ns``."""
        self.last_probe_ns = now_ns
        self.wanted = False

    def on_success(self, now_ns):
        """A request or probe succeeded. Returns True when this closed the breaker."""
        self.failures = 0
        self.last_failure_ns = None
        self.wanted = False
        if self.state == CLOSED:
            return False
        self.state = CLOSED
        self.open_ns = self.open_base_ns
        return True

    def on_failure(self, now_ns, draw, at_once=False):
        """A link failure (``not_sent``, ``unknown``, ``retry_later``). Returns True when it opened."""
        self.failures += 1
        self.last_failure_ns = now_ns
        if self.state == HALF_OPEN:
            self.open_ns = min(self.open_ns * 2, self.open_cap_ns)
            return self._open(now_ns, draw)
        if self.state == CLOSED and (at_once or self.failures >= self.threshold):
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
