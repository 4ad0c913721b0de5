"""Local checks that prevent alerts, before a scan is recorded (OFFLINE-QUEUE.md section 5.2).

The checks read only this terminal's own records (the ``pack_view`` row of the pack) and the clock;
the service remains the authority. A refusal means nothing is recorded and nothing is sent. Verifies
are always recorded. An undo of a still-pending dispense is allowed: both ops are replayed in order
and the service counts its 10 days from its own dispense time.

Pure and portable (CPython and MicroPython). The refusal codes are the strings of the outbox port
(``fmd_terminal.outbox``); they are repeated here because the core imports nothing from the shell.
"""

from fmd_core.timekeeping import DAY_NS, HOUR_NS, elapsed_ns

ALREADY_DISPENSED_HERE = "already_dispensed_here"
DISPENSE_PENDING = "dispense_pending"
NO_DISPENSE_HERE = "no_dispense_here"
UNDO_PERIOD_OVER = "undo_period_over"
UNDO_TIME_UNKNOWN = "undo_time_unknown"
PACK_BLOCKED = "pack_blocked"

# Reg. 2016/161 Art. 13: an undo within 10 days of the decommission; the terminal stops 1 h short
# so that a replay never reaches the service after the limit (OFFLINE-QUEUE.md #18).
UNDO_LIMIT_NS = 10 * DAY_NS - HOUR_NS

# pack_view.local_state (OFFLINE-QUEUE.md section 3)
UNKNOWN_STATE = "unknown"
ACTIVE = "active"
DISPENSED_HERE = "dispensed_here"
INACTIVE_OTHER = "inactive_other"


class PackView:
    """What this terminal knows of one pack (the ``pack_view`` row). Treated as immutable.

    ``dispense_seq``: this terminal's dispense of the pack, done or pending, not reverted.
    ``dispense_done``: whether that dispense is ``done`` at the service.
    ``dispense_time_ns``: its ``svc_time`` (the legal decommission time), when known.
    ``dispense_time_trusted``: whether that time came from the service or a synchronised clock.
    ``dispense_boot_id`` / ``dispense_boottime_ns``: the boot and boottime when its answer arrived,
    which bound the elapsed time while the wall clock is not trusted; while the dispense is still
    pending, when it was recorded (the age of "awaiting answer").
    ``blocked_seq``: the pack's op that is ``uncertain`` or ``needs_attention``.
    """

    __slots__ = ("pack_key", "local_state", "dispense_seq", "dispense_done", "dispense_time_ns",
                 "dispense_time_trusted", "dispense_boot_id", "dispense_boottime_ns", "blocked_seq", "last_seq")

    def __init__(self, pack_key, local_state=UNKNOWN_STATE, dispense_seq=None, dispense_done=False,
                 dispense_time_ns=None, dispense_time_trusted=False, dispense_boot_id=None,
                 dispense_boottime_ns=None, blocked_seq=None, last_seq=None):
        self.pack_key = pack_key
        self.local_state = local_state
        self.dispense_seq = dispense_seq
        self.dispense_done = dispense_done
        self.dispense_time_ns = dispense_time_ns
        self.dispense_time_trusted = dispense_time_trusted
        self.dispense_boot_id = dispense_boot_id
        self.dispense_boottime_ns = dispense_boottime_ns
        self.blocked_seq = blocked_seq
        self.last_seq = last_seq

    def __repr__(self):
        return "PackView(%r)" % ({name: getattr(self, name) for name in self.__slots__},)


class Refusal:
    """A local refusal: the reason code, the earlier op it points at, that op's time if known and,
    for a pending op, how long it has been waiting for its answer (``age_ns``, None if unknown)."""

    __slots__ = ("reason", "seq", "since_wall_ns", "age_ns")

    def __init__(self, reason, seq=None, since_wall_ns=None, age_ns=None):
        self.reason = reason
        self.seq = seq
        self.since_wall_ns = since_wall_ns
        self.age_ns = age_ns

    def __repr__(self):
        return "Refusal(%r, seq=%r)" % (self.reason, self.seq)


def undo_time_left_ns(view, now):
    """Time left of the undo period of the pack's done dispense, or None when it cannot be bounded.

    With a synchronised clock and a trusted dispense time, wall time is compared; otherwise
    boottime bounds the gap, which works only within the boot in which the dispense's answer came
    (section 5.2, "Undo, time unknown").
    """
    if now.synced and view.dispense_time_trusted and view.dispense_time_ns is not None:
        return UNDO_LIMIT_NS - (now.wall_ns - view.dispense_time_ns)
    gone = elapsed_ns(view.dispense_boot_id, view.dispense_boottime_ns, now)
    if gone is None:
        return None
    return UNDO_LIMIT_NS - gone


def pending_age_ns(view, now):
    """How long the pack's pending dispense has waited for its answer: boottime within the boot in
    which it was recorded, else the synchronised wall clock; None when neither can tell."""
    gone = elapsed_ns(view.dispense_boot_id, view.dispense_boottime_ns, now)
    if gone is None and now.synced and view.dispense_time_ns is not None:
        gone = now.wall_ns - view.dispense_time_ns
    return gone if gone is None or gone >= 0 else 0


def check(kind, view, now):
    """Return a ``Refusal`` for a scan of ``kind`` on the pack ``view`` (None: record it).

    ``kind`` is "verify", "dispense", "undo_dispense" or another state-changing kind; ``view`` is
    the pack's ``PackView`` (None for a pack never seen); ``now`` is a ``ClockReading``.
    A second dispense is "already dispensed here" only once the service answered the first one
    (``dispense_done``); while that one is pending it is "awaiting answer" with its age: the terminal
    never says a pack was decommissioned before the service said so.
    The order of the rows of section 5.2 matters only for a blocked pack, which wins over the rest:
    nothing new is sent for a pack whose last change is uncertain (VERIFICATION-SERVICE.md s. 6, 3).
    """
    if kind == "verify":
        return None
    if view is not None and view.blocked_seq is not None:
        return Refusal(PACK_BLOCKED, view.blocked_seq)
    has_dispense = view is not None and view.dispense_seq is not None
    if kind == "dispense":
        if has_dispense and not view.dispense_done:
            return Refusal(DISPENSE_PENDING, view.dispense_seq, view.dispense_time_ns, pending_age_ns(view, now))
        if has_dispense:
            return Refusal(ALREADY_DISPENSED_HERE, view.dispense_seq, view.dispense_time_ns)
        return None
    if kind == "undo_dispense":
        if not has_dispense:
            return Refusal(NO_DISPENSE_HERE)
        if not view.dispense_done:
            return None
        left = undo_time_left_ns(view, now)
        if left is None:
            return Refusal(UNDO_TIME_UNKNOWN, view.dispense_seq, view.dispense_time_ns)
        if left <= 0:
            return Refusal(UNDO_PERIOD_OVER, view.dispense_seq, view.dispense_time_ns)
    return None



class OpFacts:
    """What ``pack_view`` is derived from: one op of the pack, as the outbox stores it."""

    __slots__ = ("seq", "kind", "state", "ref_seq", "svc_time_ns", "wall_corrected_ns", "settled_boot_id",
                 "settled_boottime_ns", "pack_state_after", "boot_id", "boottime_ns")

    def __init__(self, seq, kind, state, ref_seq=None, svc_time_ns=None, wall_corrected_ns=None,
                 settled_boot_id=None, settled_boottime_ns=None, pack_state_after=None, boot_id=None,
                 boottime_ns=None):
        self.seq = seq
        self.kind = kind
        self.state = state
        self.ref_seq = ref_seq
        self.svc_time_ns = svc_time_ns
        self.wall_corrected_ns = wall_corrected_ns
        self.settled_boot_id = settled_boot_id
        self.settled_boottime_ns = settled_boottime_ns
        self.pack_state_after = pack_state_after
        self.boot_id = boot_id  # the boot and boottime in which the op was recorded
        self.boottime_ns = boottime_ns


_WITHDRAWN_STATES = ("rejected", "cancelled")  # an op in these states never took effect
_BLOCKING_STATES = ("uncertain", "needs_attention")


def view_from_ops(pack_key, ops):
    """Derive the pack's ``PackView`` from its ops in ``seq`` order (OFFLINE-QUEUE.md section 3).

    ``dispense_seq`` is the latest dispense that was not refused, cancelled or reverted by an undo
    (pending or done); ``blocked_seq`` the first op that is ``uncertain`` or ``needs_attention``.
    """
    dispense = None
    blocked = None
    last = None
    known_state = None
    for op in ops:
        last = op.seq
        if blocked is None and op.state in _BLOCKING_STATES:
            blocked = op.seq
        if op.state == "done" and op.pack_state_after:
            known_state = op.pack_state_after
        if op.state in _WITHDRAWN_STATES:
            continue
        if op.kind == "dispense":
            dispense = op
        elif op.kind == "undo_dispense" and dispense is not None and op.ref_seq == dispense.seq:
            dispense = None
    if dispense is not None:
        local_state = DISPENSED_HERE
        done = dispense.state == "done"
        trusted = dispense.svc_time_ns is not None
        time_ns = dispense.svc_time_ns if trusted else dispense.wall_corrected_ns
        boot_id, boottime_ns = dispense.settled_boot_id, dispense.settled_boottime_ns
        if not done and boot_id is None:  # still pending: its age counts from when it was recorded
            boot_id, boottime_ns = dispense.boot_id, dispense.boottime_ns
        return PackView(pack_key, local_state, dispense.seq, done, time_ns, trusted, boot_id, boottime_ns,
                        blocked, last)
    if known_state is None:
        local_state = UNKNOWN_STATE
    elif known_state == "Active":
        local_state = ACTIVE
    else:
        local_state = INACTIVE_OTHER
    return PackView(pack_key, local_state, blocked_seq=blocked, last_seq=last)
