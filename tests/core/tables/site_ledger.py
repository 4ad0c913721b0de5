"""The site ledger's rules (``fmd_core.site_ledger``): who may change a pack's state, portable cases.

First echoed claim wins; the ledger blocks a decommission another device did or is doing; a verify is
never blocked; an undo only by a racing claim; an NMVS_NC_PCK_22 is explained by the site's ledger.

A decide case: ``{"id", "kind", "device", "current", "earlier", "yield"}`` (``yield``: None or
[reason, counter]); an explain case: ``{"id", "explain": True, "kind", "device", "current", "yield"}``; a
merge case: ``{"id", "merge": [previous, new entry args], "change_kind", "change_device"}``.
"""

from fmd_core.site_ledger import (
    FINAL,
    RECORDED,
    claim,
    claim_live,
    decide,
    entry,
    explains_already_inactive,
    is_release,
    merged,
    release,
    without_released,
)


def _e(stage, kind, device, counter, outcome=None, previous=None):
    return entry(stage, kind, device, counter, 1000, outcome, None, previous)


DONE_2 = _e(FINAL, "dispense", "c2", "2", "done")
REC_2 = _e(RECORDED, "dispense", "c2", "2")
DESTROYED_2 = _e(FINAL, "destroy", "c2", "2", "done")
REJECTED_2 = _e(FINAL, "dispense", "c2", "2", "rejected")
UNDONE_2 = _e(FINAL, "undo_dispense", "c2", "2", "done", DONE_2)
VERIFIED_3_AFTER_DONE = _e(FINAL, "verify", "c3", "3", "done", DONE_2)
MINE = _e(FINAL, "dispense", "c1", "1", "done")
CLAIM_2 = claim("t2", "c2", "2", "dispense", 1000)
CLAIM_2_UNDO = claim("t2", "c2", "2", "undo_dispense", 1000)
CLAIM_1 = claim("t1", "c1", "1", "dispense", 1000)

CASES = [
    {"id": "nothing", "kind": "dispense", "device": "c1", "current": None, "earlier": [], "yield": None},
    {"id": "done-elsewhere", "kind": "dispense", "device": "c1", "current": DONE_2, "earlier": [],
     "yield": ["site_dispensed", "2"]},
    {"id": "destroyed-elsewhere", "kind": "dispense", "device": "c1", "current": DESTROYED_2, "earlier": [],
     "yield": ["site_destroyed", "2"]},
    {"id": "recorded-elsewhere", "kind": "destroy", "device": "c1", "current": REC_2, "earlier": [],
     "yield": ["site_in_progress", "2"]},
    {"id": "refused-elsewhere", "kind": "dispense", "device": "c1", "current": REJECTED_2, "earlier": [],
     "yield": None},
    {"id": "undone-elsewhere", "kind": "dispense", "device": "c1", "current": UNDONE_2, "earlier": [],
     "yield": None},
    {"id": "verify-after-done-keeps-change", "kind": "dispense", "device": "c1",
     "current": VERIFIED_3_AFTER_DONE, "earlier": [], "yield": ["site_dispensed", "2"]},
    {"id": "own-entry", "kind": "dispense", "device": "c1", "current": MINE, "earlier": [], "yield": None},
    {"id": "verify-never-blocked", "kind": "verify", "device": "c1", "current": REC_2, "earlier": [CLAIM_2],
     "yield": None},
    {"id": "undo-not-blocked-by-ledger", "kind": "undo_dispense", "device": "c1", "current": DONE_2,
     "earlier": [], "yield": None},
    {"id": "undo-yields-to-claim", "kind": "undo_dispense", "device": "c1", "current": None,
     "earlier": [CLAIM_2_UNDO], "yield": ["site_in_progress", "2"]},
    {"id": "claim-first-wins", "kind": "dispense", "device": "c1", "current": None, "earlier": [CLAIM_2],
     "yield": ["site_in_progress", "2"]},
    {"id": "own-earlier-claim", "kind": "dispense", "device": "c1", "current": None, "earlier": [CLAIM_1],
     "yield": None},
    {"id": "explain-done-elsewhere", "explain": True, "kind": "dispense", "device": "c1", "current": DONE_2,
     "yield": ["site_dispensed", "2"]},
    {"id": "explain-done-here", "explain": True, "kind": "dispense", "device": "c1", "current": MINE,
     "yield": ["site_dispensed", "1"]},
    {"id": "explain-own-recorded-is-not", "explain": True, "kind": "dispense", "device": "c1",
     "current": _e(RECORDED, "dispense", "c1", "1"), "yield": None},
    {"id": "explain-nothing", "explain": True, "kind": "dispense", "device": "c1", "current": None, "yield": None},
    {"id": "explain-verify", "explain": True, "kind": "verify", "device": "c1", "current": DONE_2, "yield": None},
    # a later failed decommission does not hide a done one; a recorded one after an undo replaces it
    {"id": "merge-failed-keeps-done", "merge": [DONE_2, [FINAL, "dispense", "c1", "1", "rejected"]],
     "change_kind": "dispense", "change_device": "c2"},
    {"id": "merge-undo-replaces", "merge": [DONE_2, [FINAL, "undo_dispense", "c1", "1", "done"]],
     "change_kind": "undo_dispense", "change_device": "c1"},
    {"id": "merge-recorded-after-undo", "merge": [UNDONE_2, [RECORDED, "dispense", "c1", "1", None]],
     "change_kind": "dispense", "change_device": "c1"},
    {"id": "merge-verify-keeps", "merge": [REC_2, [FINAL, "verify", "c1", "1", "done"]],
     "change_kind": "dispense", "change_device": "c2"},
    # entries written while the broker was down: the last delivered does not hide a done decommission
    {"id": "received-recorded-keeps-done", "received": [DONE_2, _e(RECORDED, "dispense", "c1", "1")],
     "change_kind": "dispense", "change_device": "c2"},
    {"id": "received-failed-keeps-done", "received": [DONE_2, _e(FINAL, "dispense", "c1", "1", "alert")],
     "change_kind": "dispense", "change_device": "c2"},
    {"id": "received-done-replaces", "received": [REC_2, _e(FINAL, "dispense", "c1", "1", "done")],
     "change_kind": "dispense", "change_device": "c1"},
    {"id": "received-undo-replaces", "received": [DONE_2, _e(FINAL, "undo_dispense", "c1", "1", "done")],
     "change_kind": "undo_dispense", "change_device": "c1"},
    {"id": "received-first", "received": [None, REC_2], "change_kind": "dispense", "change_device": "c2"},
    {"id": "claim-live", "live": [1000, 2000, None], "expect": True},
    {"id": "claim-answered", "live": [1000, 2000, 1500], "expect": False},
    {"id": "claim-answered-before", "live": [1000, 2000, 500], "expect": True},
    {"id": "claim-old", "live": [1000, 9000, None], "expect": False},
    # a release withdraws its own claim (same token and device), nothing else
    {"id": "release-drops-its-claim", "release": ["t2", "c2"], "claims": [CLAIM_1, CLAIM_2], "left": ["t1"]},
    {"id": "release-of-another-device", "release": ["t2", "c9"], "claims": [CLAIM_2], "left": ["t2"]},
    {"id": "release-of-another-token", "release": ["t3", "c2"], "claims": [CLAIM_2], "left": ["t2"]},
]


def _said(result):
    return None if result is None else [result[0], result[1]["counter"]]


def check(case):
    if "release" in case:
        withdrawal = release(*case["release"])
        if not is_release(withdrawal) or is_release(case["claims"][0]):
            return "is_release: a release and a claim are told apart"
        left = [c["token"] for c, _at in without_released([(c, 0) for c in case["claims"]], withdrawal)]
        return None if left == case["left"] else "left: expected %r, got %r" % (case["left"], left)
    if "live" in case:
        got = claim_live(*case["live"])
        return None if got == case["expect"] else "claim_live: expected %r, got %r" % (case["expect"], got)
    if "received" in case:
        change = merged(*case["received"])["change"]
        got = [change["kind"], change["device"]]
        want = [case["change_kind"], case["change_device"]]
        return None if got == want else "received: expected %r, got %r" % (want, got)
    if "merge" in case:
        previous, args = case["merge"]
        change = _e(args[0], args[1], args[2], args[3], args[4], previous)["change"]
        got = [change["kind"], change["device"]]
        want = [case["change_kind"], case["change_device"]]
        return None if got == want else "change: expected %r, got %r" % (want, got)
    if case.get("explain"):
        got = _said(explains_already_inactive(case["kind"], case["device"], case["current"]))
    else:
        got = _said(decide(case["kind"], case["device"], case["current"], case["earlier"]))
    return None if got == case["yield"] else "expected %r, got %r" % (case["yield"], got)
