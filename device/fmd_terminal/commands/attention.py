"""``fmd-terminal attention``: the reconciliation list (OFFLINE-QUEUE.md section 8).

``attention`` (or ``attention list``) shows every op that needs a person, oldest first, with what
the service said and what the terminal did. ``attention retry SEQ --user U --rescan RAW``,
``attention accept SEQ --user U`` and ``attention cancel SEQ --user U --reason R [--note TEXT]``
resolve one; each action is recorded with who, when and why (an ``attempt`` row, action ``person``).
``attention resume --user U`` lifts a pause of the whole queue (section 4.3) after the cause is fixed.
What a person reads (the list, results, refusals, the procedure per return code) is in ``--lang``
(else ``FMD_LANG``, else French; ``outbox.texts``); ``--json`` lines stay as they are.
"""

from __future__ import annotations

import argparse
import json

from fmd_core.op_states import CANCEL, CANCEL_REASONS, NEEDS_ATTENTION, RETRY
from fmd_terminal.outbox.commands_support import add_outbox_arguments, open_configured_outbox, texts_of
from fmd_terminal.outbox.texts import Texts

# The JSON lines keep the recommended procedure (section 8) in English, as before; a person reads it
# in their own language (``outbox.texts.PROCEDURES``).
_JSON_TEXTS = Texts("en")


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
        "procedure": _JSON_TEXTS.procedure(row["return_code"]),
    }


def _print_list(box, as_json: bool, texts: Texts) -> None:
    rows = box.attention()
    if not rows and not as_json:
        print(texts("nothing"))
        return
    for row in rows:
        entry = describe(box, row)
        if as_json:
            print(json.dumps(entry, ensure_ascii=False))
            continue
        none = texts("none")
        offline = texts("offline") if entry["origin"] == "deferred" else ""
        print(texts("entry", seq=entry["seq"], kind=texts.word(entry["kind"]), offline=offline,
                    product_code=entry["product_code"], serial=entry["serial"], batch=entry["batch"],
                    user=entry["user"] or none, time_quality=texts.time_quality(entry["time_quality"])))
        print(texts("service", code=entry["return_code"] or none, description=entry["description"] or "",
                    alert_id=entry["alert_id"] or none, alert_code=entry["alert_code"] or none,
                    trx=entry["svc_trx_id"] or none, time=entry["svc_time"] or none))
        print(texts("terminal", attempts=entry["attempts"], verifies=entry["reconciling_verifies"],
                    blocks=entry["blocks"] or texts("blocks_nothing")))
        print(texts("procedure", text=texts.procedure(row["return_code"])))
        print(texts("actions", seq=entry["seq"]))


def _rescan_pack(raw: str, texts: Texts):
    from fmd_core import decode_scan
    from fmd_core.flow import pack_ref_of
    from fmd_terminal.errors import ConfigError

    result = decode_scan(raw)
    if not getattr(result, "ok", True) or getattr(result, "serial", None) is None:
        raise ConfigError(texts("bad_rescan", raw=repr(raw)))
    return pack_ref_of(result)


def _why_refused(box, action: str, seq: int, reason: str | None, note: str | None, texts: Texts) -> str | None:
    """The refusal of ``box.resolve`` in the person's language, when the cause is one of theirs."""
    try:
        row = box.op(seq)
    except LookupError:  # no such op
        row = None
    if row is None:
        return texts("no_op", seq=seq)
    if row["state"] != NEEDS_ATTENTION:
        return texts("not_attention", seq=seq, state=texts.word(row["state"]))
    if action == CANCEL and reason not in CANCEL_REASONS:
        return texts("cancel_reason", reasons=", ".join(CANCEL_REASONS))
    if action == CANCEL and reason == "other" and not note:
        return texts("cancel_note")
    if action == RETRY:
        return texts("retry_rescan")
    return None


def resolve(box, action: str, seq: int, user: str, texts: Texts, *, reason: str | None = None,
            note: str | None = None, rescan: str | None = None) -> str:
    """Resolve one op (retry, accept, cancel) with who and why; the new state, or ``ResolutionRefused``
    in the person's language. The CLI and the web console both act through here."""
    from fmd_terminal.outbox.sqlite import ResolutionRefused

    pack = _rescan_pack(rescan, texts) if action == RETRY and rescan else None
    try:
        return box.resolve(seq, action, user, reason, note, pack)
    except ResolutionRefused as refused:
        why = _why_refused(box, action, seq, reason, note, texts)
        if why is None:
            raise
        raise ResolutionRefused(why) from refused


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal.errors import ConfigError

    texts = texts_of(args)
    box = open_configured_outbox(args, copy_dir="" if args.action == "list" else None)  # a list may read a copy
    try:
        if args.action == "list":
            _print_list(box, args.json, texts)
            return 0
        if not args.user:
            raise ConfigError(texts("needs_user", action=args.action))
        if args.action == "resume":
            cause = box.read_meta("paused")
            box.write_meta("paused", None)
            box.write_meta("resumed_by", args.user)
            print(texts("resumed", cause=texts.word(cause) if cause else texts("not_paused")))
            return 0
        if args.seq is None:
            raise ConfigError(texts("needs_seq", action=args.action))
        state = resolve(box, args.action, args.seq, args.user, texts, reason=args.reason, note=args.note,
                        rescan=args.rescan)
        print(texts("resolved", seq=args.seq, state=texts.word(state)))
        return 0
    finally:
        box.close()
