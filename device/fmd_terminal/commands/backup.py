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
one JSON object per action on standard output, for scripts and logs.
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import unquote, urlsplit

from fmd_terminal.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--outbox", metavar="URL", required=True, help="sqlite://PATH of the outbox")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--to", metavar="FILE", help="write a backup to FILE (replaced once complete)")
    action.add_argument("--restore", metavar="FILE",
                        help="make the backup FILE the outbox (no terminal may run; see --force)")
    parser.add_argument("--force", action="store_true",
                        help="with --restore: replace an existing outbox (kept aside as PATH.replaced-TIME)")
    parser.add_argument("--prune-older-than", type=int, metavar="DAYS", dest="prune_days",
                        help="delete final ops older than DAYS (at least 10) that a backup holds")


def outbox_path(url: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.netloc + parts.path)
    if parts.scheme != "sqlite" or not path:
        raise ConfigError(f"--outbox {url!r}: backups need a file outbox, sqlite:///path/outbox.db")
    return path


def execute(args: argparse.Namespace) -> int:
    import os

    from fmd_terminal.errors import StorageError
    from fmd_terminal.outbox.backup import backup_outbox, restore_outbox
    from fmd_terminal.outbox.clock import SystemClock
    from fmd_terminal.outbox.sqlite import SQLiteOutbox
    from fmd_terminal.outbox.storage import Sqlite3Storage

    path = outbox_path(args.outbox)
    if args.restore:
        if args.prune_days is not None:
            raise ConfigError("--restore and --prune-older-than do not go together")
        print(json.dumps({"restored": restore_outbox(args.restore, path, force=args.force)}, sort_keys=True))
        return 0
    if args.to is None and args.prune_days is None:
        raise ConfigError("nothing to do: give --to FILE, --prune-older-than DAYS or --restore FILE")
    if args.prune_days is not None and args.prune_days < 0:
        raise ConfigError("--prune-older-than needs a number of days, 0 or more")
    if not os.path.exists(path):
        raise StorageError(f"{path}: no outbox here")
    storage = Sqlite3Storage(path)
    try:
        outbox = SQLiteOutbox(storage, SystemClock(), attach=True)
    except StorageError:
        storage.close()
        raise
    try:
        if args.to is not None:
            print(json.dumps({"backup": backup_outbox(outbox, args.to)}, sort_keys=True))
        if args.prune_days is not None:
            print(json.dumps({"pruned": outbox.prune(args.prune_days)}, sort_keys=True))
    finally:
        outbox.close()
    return 0
