"""``fmd-terminal backup``: back up, restore and prune the outbox (OFFLINE-QUEUE.md section 2.3).

- ``--outbox sqlite://PATH --to FILE``: a consistent backup through ``VACUUM INTO``, safe while the
  terminal runs (the command reads on its own connection; the terminal's writer never waits). It
  records ``last_backup`` in the outbox's ``meta``.
- ``--outbox sqlite://PATH --prune-older-than DAYS`` (after ``--to``, or on its own using the last
  recorded backup): deletes final ops older than DAYS that the backup holds (section 2.3,
  "Retention"). Without it nothing is ever deleted: the default retention is forever.
- ``--outbox sqlite://PATH --restore FILE [--force]``: only while no terminal has the outbox open;
  without ``--force`` an existing outbox is never replaced, and with it the old files are kept
  aside. The next start applies transition #10.

It opens the outbox "attached" (no start-up transitions): a running terminal owns its ops. Prints
one JSON object per action on standard output, for scripts and logs, unchanged by the language; what
a person reads (a one-line summary on standard error, the refusals) is in ``--lang`` (else
``FMD_LANG``, else French). ``--outbox`` defaults to the ``--config`` file's, as for ``sync``,
``attention`` and ``export`` (``outbox.commands_support``).
"""

from __future__ import annotations

import argparse
import json
import sys

from fmd_terminal.errors import ConfigError
from fmd_terminal.outbox.commands_support import (
    add_outbox_arguments,
    directory_of,
    load_config,
    sqlite_path,
    texts_of,
)
from fmd_terminal.outbox.texts import Texts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_outbox_arguments(parser)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--to", metavar="FILE", help="write a backup to FILE (replaced once complete)")
    action.add_argument("--restore", metavar="FILE",
                        help="make the backup FILE the outbox (no terminal may run; see --force)")
    parser.add_argument("--force", action="store_true",
                        help="with --restore: replace an existing outbox (kept aside as PATH.replaced-TIME)")
    parser.add_argument("--prune-older-than", type=int, metavar="DAYS", dest="prune_days",
                        help="delete final ops older than DAYS (at least 10) that a backup holds")


def outbox_path(url: str, texts: Texts) -> str:
    path = sqlite_path(url)
    if path is None:
        raise ConfigError(texts("backup_needs_file", url=repr(url)))
    return path


def _restore(args: argparse.Namespace, path: str, texts: Texts) -> None:
    """Restore; what ``restore_outbox`` refuses (an outbox already there, a terminal that has it open)
    carries its text id, printed in the person's language."""
    from fmd_terminal.outbox.backup import restore_outbox

    if args.prune_days is not None:
        raise ConfigError(texts("restore_and_prune"))
    info = restore_outbox(args.restore, path, force=args.force)
    print(json.dumps({"restored": info}, sort_keys=True))
    print(texts("restored", ops=info["ops"], path=path, replaced=info["replaced"] or texts("none")), file=sys.stderr)


def execute(args: argparse.Namespace) -> int:
    from fmd_terminal.outbox.backup import backup_outbox
    from fmd_terminal.outbox.sqlite import open_sqlite_outbox

    texts = texts_of(args)
    path = outbox_path(load_config(args).outbox, texts)
    if args.restore:
        _restore(args, path, texts)
        return 0
    if args.to is None and args.prune_days is None:
        raise ConfigError(texts("backup_needs"))
    if args.prune_days is not None and args.prune_days < 0:
        raise ConfigError(texts("prune_days"))
    # a backup may read a copy when the disk is full; a prune writes, so it never does
    copy_dir = directory_of(args.to) if args.prune_days is None else None
    outbox = open_sqlite_outbox(path, attach=True, copy_dir=copy_dir)
    try:
        if args.to is not None:
            info = backup_outbox(outbox, args.to)
            print(json.dumps({"backup": info}, sort_keys=True))
            print(texts("backed_up", ops=info["ops"], to=info["to"]), file=sys.stderr)
        if args.prune_days is not None:
            pruned = outbox.prune(args.prune_days)
            print(json.dumps({"pruned": pruned}, sort_keys=True))
            print(texts("pruned", ops=pruned["ops"], days=args.prune_days), file=sys.stderr)
    finally:
        outbox.close()
    return 0
