"""``fmd-terminal account status|password|certificate|terms``: keep the account alive (issue 14, item 5).

``status`` asks the service for the password's and the terms' dates and prints what is due;
``password`` sets a new password made on the terminal; ``certificate`` renews the client certificate
with a new key; ``terms`` accepts the current terms. Each prints one line; refusals exit 3 or 5.
"""

from __future__ import annotations

import argparse

ACTIONS = ("status", "password", "certificate", "terms")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fmd_terminal.i18n import LANGUAGES
    from fmd_terminal.outbox.texts import LANG_HELP

    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (as for run)")
    parser.add_argument("--lang", choices=LANGUAGES, help=LANG_HELP)


def execute(args: argparse.Namespace) -> int:
    import time

    from fmd_terminal import account_upkeep, credential_health
    from fmd_terminal import config as terminal_config
    from fmd_terminal.errors import ConfigError
    from fmd_terminal.outbox.commands_support import texts_of

    texts = texts_of(args)
    settings = terminal_config.load(args.config).validate()
    directory = terminal_config.enrolment_path(settings)
    if directory is None:
        raise ConfigError(texts("account_needs_dir"))
    if args.action == "password":
        account_upkeep.renew_password(settings, directory)
        print(texts("account_password"))
    elif args.action == "certificate":
        print(texts("account_certificate", path=account_upkeep.renew_certificate(settings, directory)))
    elif args.action == "terms":
        account_upkeep.accept_terms(settings, directory)
        print(texts("account_terms"))
    else:
        account_upkeep.refresh_status(settings, directory)
    settings = terminal_config.load(args.config)
    due_now = credential_health.notices(credential_health.dues(settings, directory), time.time())
    for due, step, left in due_now:
        what = texts("kind_" + due.kind)
        print(texts("account_expired", what=what) if step == 0 else texts("account_due", what=what, left=left))
    if not due_now:
        print(texts("account_nothing_due"))
    return 0
