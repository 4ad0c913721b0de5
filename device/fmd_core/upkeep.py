"""Storage upkeep rules (OFFLINE-QUEUE.md sections 2.3, 6.4 and 10): alarms, backups, retention.

Pure and portable (CPython and MicroPython): the shell measures (file sizes, free space, counts)
and stores; these functions decide.

- WAL alarm (2.3, "Checkpoints"): an admin alarm when the WAL passes 64 MiB, since a long read
  transaction stalls checkpoints.
- Space alarm (2.3, "Reserve"; 6.4): an amber admin alarm when the free space above the reserve
  would hold less than 30 days of ops. Bytes per op are measured from the database once it holds
  enough ops to say (else the section 10 budget of 2 KB per op); ops per day are the section 10
  figure of 2,000, or the measured daily rate if higher.
- Backup watermark (2.3, "Retention"): what a backup holds in a *final* state, so that pruning
  deletes only ops a backup holds with their outcome.
"""

from fmd_core.timekeeping import DAY_NS

WAL_ALARM_BYTES = 64 * 1024 * 1024
HEADROOM_DAYS = 30
OPS_PER_DAY = 2000  # section 10, "Offline capacity"
BYTES_PER_OP_BUDGET = 2048  # section 10: <= 2 KB per op, attempts and indexes included
MEASURE_MIN_OPS = 1000  # below this the schema's fixed pages dominate the measured size
PRUNE_BATCH_ROWS = 1000  # section 2.3, "Retention": at most 1,000 rows per transaction
UNDO_WINDOW_NS = 10 * DAY_NS  # Reg. 2016/161 Art. 13: an undo may follow a dispense within 10 days
WATERMARK_OPEN_MAX = 1000  # non-final seqs a backup watermark lists by name

AMBER = "amber"
ADMIN = "admin"


def wal_alarm(wal_bytes):
    """``(level, text)`` for the WAL size, or None below 64 MiB (section 2.3, "Checkpoints")."""
    if wal_bytes is None or wal_bytes <= WAL_ALARM_BYTES:
        return None
    return ADMIN, "WAL is %d MiB (over 64 MiB): a long read stalls checkpoints" % (wal_bytes // (1024 * 1024))


def bytes_per_op(db_bytes, op_count):
    """Measured bytes per op once the database holds ``MEASURE_MIN_OPS`` ops, else the 2 KB budget."""
    if op_count < MEASURE_MIN_OPS or db_bytes <= 0:
        return BYTES_PER_OP_BUDGET
    return max(1, db_bytes // op_count)


def headroom_days(free_bytes, reserve_bytes, db_bytes, op_count, ops_last_day):
    """How many days of ops the free space above the reserve would hold (a float), or None if unknown."""
    if free_bytes is None:
        return None
    per_day = bytes_per_op(db_bytes, op_count) * max(OPS_PER_DAY, ops_last_day)
    return max(0, free_bytes - reserve_bytes) / per_day


def space_alarm(days):
    """``(level, text)``: amber when fewer than 30 days of ops fit (sections 2.3, 6.4), else None."""
    if days is None or days >= HEADROOM_DAYS:
        return None
    return AMBER, "free space holds about %d days of ops (under %d): free space or back up and prune" % (
        int(days), HEADROOM_DAYS)


def backup_watermark(max_seq, open_seqs):
    """What a backup holds in a final state: ``(held_upto_seq, open_seqs)``.

    Every op with ``seq <= held_upto_seq`` that is not in ``open_seqs`` was final in the backup.
    ``open_seqs`` (ascending) are the backup's non-final ops; when there are more than
    ``WATERMARK_OPEN_MAX`` the watermark stops below the first one left out, so it stays small.
    Final states never change again (section 4.2), so an op final in the backup is final now,
    with the same outcome.
    """
    held = max_seq or 0
    if len(open_seqs) > WATERMARK_OPEN_MAX:
        held = open_seqs[WATERMARK_OPEN_MAX] - 1
        open_seqs = open_seqs[:WATERMARK_OPEN_MAX]
    return held, list(open_seqs)


def prune_cutoff_ns(now_wall_ns, older_than_days):
    """Wall time before which final ops may go: the retention period, never less than the undo window.

    A dispense younger than 10 days may still be referenced by an undo (Art. 13), so no period
    shorter than that is applied.
    """
    keep_ns = older_than_days * DAY_NS
    if keep_ns < UNDO_WINDOW_NS:
        keep_ns = UNDO_WINDOW_NS
    return now_wall_ns - keep_ns
