"""``fmd-terminal attention``: the reconciliation list (OFFLINE-QUEUE.md section 8).

``attention`` (or ``attention list``) shows every op that needs a person, oldest first, with what
the service said and what the terminal did. ``attention retry SEQ --user U --rescan RAW``,
``attention accept SEQ --user U`` and ``attention cancel SEQ --user U --reason R [--note TEXT]``
resolve one; each action is recorded with who, when and why (an ``attempt`` row, action ``person``).
``attention resume --user U`` lifts a pause of the whole queue (section 4.3) after the cause is fixed.
"""

from __future__ import annotations

import argparse
import json

from fmd_core.op_states import CANCEL_REASONS
from fmd_terminal.outbox.commands_support import add_outbox_arguments, open_configured_outbox

# The national organisation's recommended procedure per return code (section 8). France MVS wording
# is to be confirmed with the NMVO; these are the project's defaults.
PROCEDURES = {
    "NMVS_NC_PC_02": "Quarantine the pack; follow the alert procedure (serial unknown).",
    "NMVS_FE_LOT_03": "Quarantine the pack; follow the alert procedure (batch unknown).",
    "NMVS_FE_LOT_12": "Quarantine the pack; follow the alert procedure (expiry mismatch).",
    "NMVS_FE_LOT_13": "Quarantine the pack; follow the alert procedure (batch mismatch).",
    "NMVS_NC_PCK_19": "Pack already decommissioned elsewhere: do not supply; check with the supplier.",
    "NMVS_NC_PCK_22": "Pack inactive for another reason: do not supply; quarantine it.",
    "NMVS_NC_PCK_20": "Undo period over: the pack stays decommissioned; keep it aside.",
    "NMVS_FE_LOT_01": "Batch recalled: do not supply; return it as the recall notice says.",
    "NMVS_FE_LOT_08": "Batch or product withdrawn: do not supply.",
    "NMVS_NC_PCK_02": "Pack expired: do not supply.",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_outbox_arguments(parser)
    parser.add_argument("action", nargs="?", default="list", choices=("list", "retry", "accept", "cancel", "resume"))
    parser.add_argument("seq", nargs="?", type=int, help="the op's seq (retry, accept, cancel)")
    parser.add_argument("--user", help="who acts (recorded with the action)")
    parser.add_argument("--reason", choices=CANCEL_REASONS, help="why a cancel")
    parser.add_argument("--note", help="free text, required with --reason other")
    parser.add_argument("--rescan", metavar="RAW", help="retry: the pack scanned again (must match exactly)")
    parser.add_argument("--json", action="store_true", help="list as JSON lines")


def describe(box, row) -> dict:
    blocks = box.ops("op.pack_key = ? AND op.seq > ? AND op.state NOT IN ('done', 'rejected', 'cancelled')",
                     (row["pack_key"], row["seq"]))
    attempts = box.attempts(row["seq"])
    return {
        "seq": row["seq"], "op_id": row["op_id"], "kind": row["kind"], "origin": row["origin"],
        "product_code": row["product_code"], "serial": row["serial"], "batch": row["batch"], "expiry": row["expiry"],
        "scan_time_ns": row["wall_corrected_ns"] or row["wall_ns"], "time_quality": row["time_quality"] or "unknown",
        "user": row["user_id"], "return_code": row["return_code"], "description": row["return_desc"],
        "alert_id": row["alert_id"], "alert_code": row["alert_code"], "svc_trx_id": row["svc_trx_id"],
        "svc_time": row["svc_time"], "attempts": len(attempts),
        "reconciling_verifies": sum(1 for a in attempts if a["action"] == "reconcile_verify"),
        "last_error": row["last_error_class"], "blocks": [b["seq"] for b in blocks],
        "procedure": PROCEDURES.get(row["return_code"] or "", "Check the pack and the service's portal."),
    }


def _print_list(box, as_json: bool) -> None:
    rows = box.attention()
    if not rows:
        print("nothing needs attention")
        return
    for row in rows:
        entry = describe(box, row)
        if as_json:
            print(json.dumps(entry, ensure_ascii=False))
            continue
        offline = " (recorded offline)" if entry["origin"] == "deferred" else ""
        print(f"seq {entry['seq']}: {entry['kind']}{offline} {entry['product_code']} serial {entry['serial']} "
              f"batch {entry['batch']} by {entry['user'] or '-'}, time {entry['time_quality']}")
        print(f"  service: {entry['return_code'] or '-'} {entry['description'] or ''} alert {entry['alert_id'] or '-'} "
              f"({entry['alert_code'] or '-'}) trx {entry['svc_trx_id'] or '-'} at {entry['svc_time'] or '-'}")
        print(f"  terminal: {entry['attempts']} attempt(s), {entry['reconciling_verifies']} reconciling verify; "
              f"blocks {entry['blocks'] or 'nothing'}")
        print(f"  procedure: {entry['procedure']}")


def _rescan_pack(raw: str):
    from fmd_core import decode_scan
    from fmd_core.flow import pack_ref_of
    from fmd_terminal.errors import ConfigError

    result = decode_scan(raw)
    if not getattr(result, "ok", True) or getattr(result, "serial", None) is None:
        raise ConfigError(f"--rescan {raw!r} is not a readable pack code")
    return pack_ref_of(result)


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal.errors import ConfigError

    box = open_configured_outbox(args)
    try:
        if args.action == "list":
            _print_list(box, args.json)
            return 0
        if not args.user:
            raise ConfigError(f"attention {args.action} needs --user (who acts is recorded)")
        if args.action == "resume":
            cause = box.read_meta("paused")
            box.write_meta("paused", None)
            box.write_meta("resumed_by", args.user)
            print(f"resumed (was paused: {cause or 'not paused'})")
            return 0
        if args.seq is None:
            raise ConfigError(f"attention {args.action} needs the op's seq")
        rescan = _rescan_pack(args.rescan) if args.action == "retry" and args.rescan else None
        state = box.resolve(args.seq, args.action, args.user, args.reason, args.note, rescan)
        print(f"seq {args.seq}: {state}")
        return 0
    finally:
        box.close()
