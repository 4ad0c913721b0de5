"""The site ledger's rules: which terminal of a site may change a pack's state (README, "Site ledger").

Pure and portable (CPython and MicroPython): the MQTT adapter (``fmd_terminal.ledger.mqtt``) feeds it
what the site's broker delivered, in the broker's order, and acts on the answer.

Topics (``site`` and ``device`` are provisioning names; ``key`` a keyed hash of the pack, so topic
names and broker logs never list pack identifiers):

  fmd/<site>/claim/<key>     a claim before a state-changing send (QoS 1, not retained)
  fmd/<site>/ledger/<key>    the pack's last known state at the site (QoS 1, retained, expiry 11 days)
  fmd/<site>/<device>/health the device's health (retained; last will "offline")

First echoed claim wins: a terminal publishes its claim and waits for the broker to echo it back; a
live claim of another device for the same pack that the broker delivered before that echo wins, and
this terminal yields (the broker forwards one topic's messages to every subscriber in one order, so
at most one terminal sends). A claim stops being live when its device's ledger entry for the pack
arrives after it, when its device releases it (a release on the claim topic: the terminal yielded, or
its outbox refused or failed to record the op), or after ``CLAIM_LIVE_MS``.

The ledger blocks a decommission (dispense, destroy) of a pack that another device of the site has
decommissioned (final, done) or is decommissioning (recorded); an undo is never blocked by the ledger
(Art. 13: the same site may undo within 10 days), only by a racing claim; a verify is never blocked
(verify at reception, dispense at the counter stay allowed).
"""

VERSION = 1
EXPIRY_S = 11 * 24 * 3600  # past the 10-day undo window (Reg. (EU) 2016/161, Art. 13)
CLAIM_LIVE_MS = 8000  # a claim older than this without its ledger entry no longer holds the pack

DECOMMISSIONS = ("dispense", "destroy")
CHANGES = ("dispense", "destroy", "undo_dispense")  # the kinds that claim before sending

RECORDED = "recorded"
FINAL = "final"

# Why a terminal yields -> outcome message id (``fmd_core.outcomes.of_site``)
SITE_DISPENSED = "site_dispensed"
SITE_DESTROYED = "site_destroyed"
SITE_IN_PROGRESS = "site_in_progress"


def claim_topic(site, key):
    return "fmd/" + site + "/claim/" + key


def ledger_topic(site, key):
    return "fmd/" + site + "/ledger/" + key


def health_topic(site, device):
    return "fmd/" + site + "/" + device + "/health"


def key_of_topic(topic):
    """The pack key (last level) of a claim or ledger topic."""
    return topic.rsplit("/", 1)[-1]


def claim(token, device, counter, kind, at_s):
    """A claim's payload: ``token`` names this claim (its echo is recognised by it)."""
    return {"v": VERSION, "token": token, "device": device, "counter": counter, "kind": kind, "at": at_s}


def release(token, device):
    """A claim's withdrawal (same topic, same ``token``): no op follows that claim."""
    return {"v": VERSION, "token": token, "device": device, "released": True}


def is_release(message):
    return message.get("released") is True


def without_released(claims, release):
    """``claims`` ([(claim, received_ms)], the broker's order) without the one ``release`` withdraws."""
    return [(c, at) for c, at in claims
            if not (c.get("token") == release.get("token") and c.get("device") == release.get("device"))]


def entry(stage, kind, device, counter, at_s, outcome=None, code=None, previous=None):
    """A ledger entry: the latest event of the pack at the site, and under ``change`` the latest state
    change (so a verify published after a dispense never hides that dispense)."""
    new = {"v": VERSION, "stage": stage, "kind": kind, "device": device, "counter": counter, "at": at_s,
           "outcome": outcome, "code": code}
    kept = previous.get("change") if previous is not None else None
    if kind in CHANGES and not _still_stands(kept, new):
        change = {}
        for name in ("stage", "kind", "device", "counter", "at", "outcome"):
            change[name] = new[name]
        new["change"] = change
    else:
        new["change"] = kept
    return new


def merged(known, incoming):
    """``incoming`` as a terminal keeps it, given the entry it ``known`` before: entries written while
    the broker was down do not know of each other, and the last one delivered must not hide a
    decommission done at the site behind a later one only recorded or failed (``_still_stands``)."""
    kept = known.get("change") if known is not None else None
    change = incoming.get("change")
    if change is None or change is kept or not _still_stands(kept, change):
        return incoming
    kept_too = dict(incoming)
    kept_too["change"] = kept
    return kept_too


def _still_stands(kept, new):
    """A decommission done at the site stays the pack's change when a later decommission of the same
    pack is only recorded or failed (it would be refused as already inactive, NMVS_NC_PCK_22)."""
    return (kept is not None and kept.get("kind") in DECOMMISSIONS and kept.get("outcome") == "done"
            and new["kind"] in DECOMMISSIONS and new["outcome"] != "done")


def _where(record):
    return {"device": record.get("device"), "counter": record.get("counter"), "at": record.get("at")}


def ledger_blocks(kind, device, current):
    """(reason, where) when the ledger entry ``current`` blocks an op of ``kind`` by ``device``, else None."""
    if kind not in DECOMMISSIONS or current is None:
        return None
    change = current.get("change")
    if change is None or change.get("device") == device or change.get("kind") not in DECOMMISSIONS:
        return None
    if change.get("stage") == RECORDED:
        return (SITE_IN_PROGRESS, _where(change))
    if change.get("outcome") == "done":
        return (SITE_DESTROYED if change.get("kind") == "destroy" else SITE_DISPENSED, _where(change))
    return None


def winning_claim(kind, device, earlier):
    """(reason, where) when a live claim of another device came before this device's echoed claim.

    ``earlier``: the live claims the broker delivered before the echo, in order."""
    if kind not in CHANGES:
        return None
    for other in earlier:
        if other.get("device") != device and other.get("kind") in CHANGES:
            return (SITE_IN_PROGRESS, _where(other))
    return None


def decide(kind, device, current, earlier):
    """Whether this device sends an op of ``kind``: None (send) or (reason, where) to yield."""
    return winning_claim(kind, device, earlier) or ledger_blocks(kind, device, current)


def explains_already_inactive(kind, device, current):
    """(reason, where) when the site ledger (as it stood before this op was recorded) shows the pack
    decommissioned at the site, by any of its devices (done), or being decommissioned by another one
    (recorded): an NMVS_NC_PCK_22 answer is then explained, not an unexplained alert."""
    if kind not in DECOMMISSIONS or current is None:
        return None
    change = current.get("change")
    if change is None or change.get("kind") not in DECOMMISSIONS:
        return None
    done = change.get("stage") == FINAL and change.get("outcome") == "done"
    if done or (change.get("stage") == RECORDED and change.get("device") != device):
        return (SITE_DESTROYED if change.get("kind") == "destroy" else SITE_DISPENSED, _where(change))
    return None


def claim_live(received_ms, now_ms, answered_ms=None):
    """A claim received at ``received_ms`` still holds its pack at ``now_ms`` unless its device's ledger
    entry arrived after it (``answered_ms``) or it is older than ``CLAIM_LIVE_MS``."""
    if answered_ms is not None and answered_ms >= received_ms:
        return False
    return now_ms - received_ms < CLAIM_LIVE_MS
