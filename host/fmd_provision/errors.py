"""fmd-provision's root error and its children (ARCHITECTURE.md, "Errors and logging").

Each child carries the exit code ``fmd-provision`` returns for it (``cli.py`` documents the table);
``main`` catches ``ProvisionError`` once and prints ``fmd-provision: message``.
"""


class ProvisionError(Exception):
    """Root of every error fmd-provision raises on purpose."""

    exit_code = 1


class InputError(ProvisionError):
    """A file or value given to the command is missing, unreadable, badly protected or invalid."""

    exit_code = 3


class TargetError(ProvisionError):
    """The place to write to is wrong: not FAT, not mounted, not writable, already there."""

    exit_code = 4


class RemoteError(ProvisionError):
    """The Pi cannot be reached over SSH, or a step on it failed."""

    exit_code = 5
