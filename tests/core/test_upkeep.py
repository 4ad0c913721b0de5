"""Storage upkeep rules (OFFLINE-QUEUE.md 2.3, 6.4, 10): WAL and space alarms, backup watermark, retention."""

from fmd_core import upkeep
from fmd_core.timekeeping import DAY_NS

MIB = 1024 * 1024


def test_wal_alarm_only_past_64_mib():
    assert upkeep.wal_alarm(None) is None
    assert upkeep.wal_alarm(64 * MIB) is None
    level, text = upkeep.wal_alarm(64 * MIB + 1)
    assert level == "admin" and "64 MiB" in text


def test_bytes_per_op_is_measured_once_there_are_enough_ops():
    assert upkeep.bytes_per_op(400_000, 10) == 2048  # schema pages dominate: the section 10 budget
    assert upkeep.bytes_per_op(3_000_000, 1000) == 3000
    assert upkeep.bytes_per_op(0, 5000) == 2048


def test_headroom_counts_the_reserve_and_the_higher_of_2000_a_day_and_the_measured_rate():
    # 2 KB/op x 2,000 ops/day = 4,096,000 bytes a day
    assert upkeep.headroom_days(32 * MIB + 4_096_000 * 30, 32 * MIB, 0, 0, 0) == 30
    assert upkeep.headroom_days(32 * MIB + 4_096_000 * 30, 32 * MIB, 0, 0, 4000) == 15  # busier than 2,000 a day
    assert upkeep.headroom_days(10, 32 * MIB, 0, 0, 0) == 0  # below the reserve: nothing left
    assert upkeep.headroom_days(None, 0, 0, 0, 0) is None  # not measured (in-memory outbox)


def test_space_alarm_is_amber_under_30_days():
    assert upkeep.space_alarm(None) is None
    assert upkeep.space_alarm(30) is None
    level, text = upkeep.space_alarm(29.9)
    assert level == "amber" and "29 days" in text


def test_backup_watermark_lists_open_ops_and_stops_below_the_first_left_out():
    assert upkeep.backup_watermark(None, []) == (0, [])
    assert upkeep.backup_watermark(50, [7, 9]) == (50, [7, 9])
    many = list(range(100, 100 + upkeep.WATERMARK_OPEN_MAX + 5))
    held, listed = upkeep.backup_watermark(5000, many)
    assert held == many[upkeep.WATERMARK_OPEN_MAX] - 1 and listed == many[:upkeep.WATERMARK_OPEN_MAX]


def test_prune_cutoff_never_inside_the_undo_window():
    now = 1_780_000_000 * 10**9
    assert upkeep.prune_cutoff_ns(now, 365) == now - 365 * DAY_NS
    assert upkeep.prune_cutoff_ns(now, 0) == now - 10 * DAY_NS  # Art. 13: a dispense may still be undone
