"""Time without a real-time clock (OFFLINE-QUEUE.md section 7): readings, quality, correction.

Every event the outbox records carries the raw readings of a ``ClockReading``: the wall clock
(``CLOCK_REALTIME``), the kernel's per-boot id, ``CLOCK_BOOTTIME`` (0 at boot, never jumps, counts
suspend) and the wall clock's quality. Only the local sequence orders operations; wall time is a
record, never an order, an identity or an expiry (section 7, "Order").

Pure and portable (CPython and MicroPython): no clock is read here; the shell passes readings in.
"""

SECOND_NS = 1000000000
HOUR_NS = 3600 * SECOND_NS
DAY_NS = 24 * HOUR_NS

# wall_quality (section 7)
SYNCED = "synced"  # adjtimex() reports the clock synchronised
PLAUSIBLE = "plausible"  # not synchronised, but at or after the latest trusted time seen
STALE = "stale"  # earlier than the latest trusted time seen or than the software's build time

# time_quality of a corrected event time (section 7, table)
EXACT = "exact"
CORRECTED = "corrected"
BOUNDED = "bounded"
UNKNOWN = "unknown"


class ClockReading:
    """One reading of the terminal's clocks. Treated as immutable."""

    __slots__ = ("wall_ns", "boot_id", "boottime_ns", "synced")

    def __init__(self, wall_ns, boot_id, boottime_ns, synced):
        self.wall_ns = wall_ns
        self.boot_id = boot_id
        self.boottime_ns = boottime_ns
        self.synced = synced

    def __repr__(self):
        return "ClockReading(wall_ns=%r, boot_id=%r, boottime_ns=%r, synced=%r)" % (
            self.wall_ns, self.boot_id, self.boottime_ns, self.synced)


def wall_quality(reading, clock_floor_ns, build_time_ns=0):
    """Section 7: ``synced`` if the kernel says so, ``plausible`` at or after the floor, else ``stale``."""
    if reading.wall_ns < build_time_ns:
        return STALE
    if reading.synced:
        return SYNCED
    if reading.wall_ns >= clock_floor_ns:
        return PLAUSIBLE
    return STALE


def elapsed_ns(earlier_boot_id, earlier_boottime_ns, now):
    """Boottime elapsed since an earlier event, or None when it was in another boot (section 7, "Durations")."""
    if earlier_boot_id != now.boot_id or earlier_boottime_ns is None:
        return None
    return now.boottime_ns - earlier_boottime_ns


class Anchor:
    """A moment when wall clock and boottime were both trustworthy (``clock_anchor`` row)."""

    __slots__ = ("boot_id", "boottime_ns", "wall_ns", "source", "uncertainty_ns")

    def __init__(self, boot_id, boottime_ns, wall_ns, source="ntp", uncertainty_ns=0):
        self.boot_id = boot_id
        self.boottime_ns = boottime_ns
        self.wall_ns = wall_ns
        self.source = source
        self.uncertainty_ns = uncertainty_ns


def correct_time(wall_ns, boot_id, boottime_ns, quality, anchors, boot_order):
    """The best estimate of an event's wall time: ``(wall_corrected_ns, time_quality)``.

    Section 7, "Anchors and correction": an event taken with a synchronised clock is ``exact``; one
    with an anchor in the same boot is placed by boottime from the nearest anchor (``corrected``);
    one in a boot that never synchronised gets the lower bound "previous boot's last anchor plus the
    event's boottime" (``bounded``); otherwise the raw wall time, ``unknown``.

    ``anchors`` is a sequence of ``Anchor``; ``boot_order`` lists boot ids oldest first, as the
    outbox saw them (its own sequence, never wall time).
    """
    if quality == SYNCED:
        return wall_ns, EXACT
    same_boot = [a for a in anchors if a.boot_id == boot_id]
    if same_boot:
        nearest = same_boot[0]
        for a in same_boot:
            if abs(a.boottime_ns - boottime_ns) < abs(nearest.boottime_ns - boottime_ns):
                nearest = a
        return nearest.wall_ns - (nearest.boottime_ns - boottime_ns), CORRECTED
    if boot_id in boot_order:
        index = boot_order.index(boot_id)
        for earlier in reversed(boot_order[:index]):
            previous = [a for a in anchors if a.boot_id == earlier]
            if previous:
                last = previous[0]
                for a in previous:
                    if a.boottime_ns > last.boottime_ns:
                        last = a
                return last.wall_ns + boottime_ns, BOUNDED
    return wall_ns, UNKNOWN
