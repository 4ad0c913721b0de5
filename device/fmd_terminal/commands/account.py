"""``fmd-terminal account status|password|certificate|terms``: keep the account alive (issue 14, item 5).

``status`` asks the service for the password's and the terms' dates and prints what is due;
``password`` sets a new password made on the terminal; ``certificate`` renews the client certificate
with a new key; ``terms`` accepts the current terms. Each prints one line; refusals exit 3 or 5.
"""

from __future__ import annotations

import argparse

ACTIONS = ("status", "password", "certificate", "terms")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (as for run)")


def execute(args: argparse.Namespace) -> int:
    import time

    from fmd_terminal import account_upkeep, credential_health
    from fmd_terminal import config as terminal_config
    from fmd_terminal.errors import ConfigError

    settings = terminal_config.load(args.config).validate()
    directory = terminal_config.enrolment_path(settings)
    if directory is None:
        raise ConfigError("account upkeep needs enrolment_dir in the configuration (where fmd-terminal enrol "
                          "wrote the credentials)")
    if args.action == "password":
        account_upkeep.renew_password(settings, directory)
        print("password renewed")
    elif args.action == "certificate":
        print(f"certificate renewed: {account_upkeep.renew_certificate(settings, directory)}")
    elif args.action == "terms":
        account_upkeep.accept_terms(settings, directory)
        print("terms accepted")
    else:
        account_upkeep.refresh_status(settings, directory)
    settings = terminal_config.load(args.config)
    for due, step, left in credential_health.notices(credential_health.dues(settings, directory), time.time()):
        print(f"{due.kind}: {'expired' if step == 0 else f'{left} day(s) left'}")
    return 0
