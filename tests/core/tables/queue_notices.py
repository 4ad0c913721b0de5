"""The queue on the screen (issue 5, item 3): ``queue_notice`` and ``alarm_rise``, portable cases.

OFFLINE-QUEUE.md 6.4: amber after 15 min, red after 4 h (age of the oldest op still to send); 2.3: a
storage fault is red; 4.3 and 8: a pause and the ops needing a person change the badge only; 2.3 and
6.4: free space below 30 days of ops is amber, a WAL past 64 MiB an admin badge without light.
Priority: storage fault > 4 h > pause > attention > 15 min > low space > WAL > pending count; never green.

A notice case: ``{"id", "status": {...}, "kind", "level"}``; a rise case: ``{"id", "previous",
"level", "signal"}``.
"""

from fmd_core.outcomes import alarm_rise, queue_notice

MIN = 60
HOUR = 3600
ALL = {"pending": 5, "attention": 2, "oldest_age_s": 5 * HOUR, "paused": "pause_auth", "storage": "x",
       "space": "amber: 12 days of ops left", "wal": "admin: WAL 70 MiB"}


def _all(**changes):
    status = dict(ALL)
    status.update(changes)
    return status


CASES = [
    {"id": "empty", "status": {}, "kind": None, "level": None},
    {"id": "all-none", "status": {"pending": 0, "attention": 0, "oldest_age_s": None, "paused": None,
                                  "storage": None}, "kind": None, "level": None},
    {"id": "14m59", "status": {"pending": 3, "oldest_age_s": 14 * MIN + 59}, "kind": "pending", "level": None},
    {"id": "15m", "status": {"pending": 3, "oldest_age_s": 15 * MIN}, "kind": "backlog_amber", "level": "amber"},
    {"id": "16m", "status": {"pending": 3, "oldest_age_s": 16 * MIN}, "kind": "backlog_amber", "level": "amber"},
    {"id": "3h59", "status": {"pending": 3, "oldest_age_s": 4 * HOUR - 1}, "kind": "backlog_amber",
     "level": "amber"},
    {"id": "4h01", "status": {"pending": 3, "oldest_age_s": 4 * HOUR + MIN}, "kind": "backlog_red", "level": "red"},
    {"id": "attention", "status": {"attention": 2}, "kind": "attention", "level": None},
    {"id": "paused", "status": {"paused": "pause_cert", "pending": 1}, "kind": "paused", "level": None},
    {"id": "storage", "status": {"storage": "red: damaged database kept aside"}, "kind": "storage_fault",
     "level": "red"},
    # priority, one condition removed at a time
    {"id": "prio-storage", "status": _all(), "kind": "storage_fault", "level": "red"},
    {"id": "prio-4h", "status": _all(storage=None), "kind": "backlog_red", "level": "red"},
    {"id": "prio-pause", "status": _all(storage=None, oldest_age_s=20 * MIN), "kind": "paused", "level": "amber"},
    {"id": "prio-attention", "status": _all(storage=None, oldest_age_s=20 * MIN, paused=None), "kind": "attention",
     "level": "amber"},
    {"id": "prio-15m", "status": _all(storage=None, oldest_age_s=20 * MIN, paused=None, attention=0),
     "kind": "backlog_amber", "level": "amber"},
    {"id": "prio-space", "status": _all(storage=None, oldest_age_s=60, paused=None, attention=0),
     "kind": "storage_space", "level": "amber"},
    {"id": "prio-wal", "status": _all(storage=None, oldest_age_s=60, paused=None, attention=0, space=None),
     "kind": "storage_wal", "level": None},
    {"id": "prio-pending", "status": _all(storage=None, oldest_age_s=60, paused=None, attention=0, space=None,
                                          wal=None), "kind": "pending", "level": None},
    # the storage admin alarms (2.3): low space is amber under any badge; a big WAL never lights
    {"id": "space", "status": {"space": "amber: 20 days"}, "kind": "storage_space", "level": "amber"},
    {"id": "wal", "status": {"wal": "admin: WAL 65 MiB", "pending": 2}, "kind": "storage_wal", "level": None},
    {"id": "space-under-attention", "status": {"space": "amber: 20 days", "attention": 1}, "kind": "attention",
     "level": "amber"},
    {"id": "space-under-pause", "status": {"space": "amber: 20 days", "paused": "pause_cert"}, "kind": "paused",
     "level": "amber"},
    {"id": "15m-over-space", "status": {"space": "amber: 20 days", "pending": 1, "oldest_age_s": 15 * MIN},
     "kind": "backlog_amber", "level": "amber"},
    {"id": "4h-over-space", "status": {"space": "amber: 20 days", "pending": 1, "oldest_age_s": 4 * HOUR},
     "kind": "backlog_red", "level": "red"},
    {"id": "wal-under-attention", "status": {"wal": "admin: WAL 65 MiB", "attention": 1}, "kind": "attention",
     "level": None},
    # the alarm is signalled once, when its level rises
    {"id": "rise-none", "previous": None, "level": None, "signal": None},
    {"id": "rise-amber", "previous": None, "level": "amber", "signal": "amber"},
    {"id": "rise-red", "previous": None, "level": "red", "signal": "red"},
    {"id": "stay-amber", "previous": "amber", "level": "amber", "signal": None},
    {"id": "amber-red", "previous": "amber", "level": "red", "signal": "red"},
    {"id": "stay-red", "previous": "red", "level": "red", "signal": None},
    {"id": "fall-amber", "previous": "red", "level": "amber", "signal": None},
    {"id": "fall-none", "previous": "amber", "level": None, "signal": None},
]


def check(case):
    if "status" not in case:
        got = alarm_rise(case["previous"], case["level"])
        return None if got == case["signal"] else "signal " + repr(got) + ", expected " + repr(case["signal"])
    q = queue_notice(case["status"])
    if (q.kind, q.level) != (case["kind"], case["level"]):
        return "notice " + repr((q.kind, q.level)) + ", expected " + repr((case["kind"], case["level"]))
    status = case["status"]
    if (q.pending, q.attention) != (status.get("pending") or 0, status.get("attention") or 0):
        return "counts " + repr((q.pending, q.attention))
    return None
