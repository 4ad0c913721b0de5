"""The terminal's root error and its children (ARCHITECTURE.md, "Errors and logging").

Adapters translate library errors (OSError, SerialException, sqlite3.Error, HTTP errors) into these
once, at the boundary, naming the device or URL. The CLI catches ``TerminalError`` in ``main`` and
prints ``fmd-terminal: message``.
"""


class TerminalError(Exception):
    """Root of every error the terminal application raises on purpose."""


class ConfigError(TerminalError):
    """The configuration file, a flag or an environment variable is wrong."""


class UnknownSchemeError(ConfigError):
    """A device URL names a scheme no adapter knows."""


class DeviceError(TerminalError):
    """A device (scanner, screen, pins) cannot be opened or used."""


class StorageError(TerminalError):
    """The outbox database cannot be opened, checked or written."""


class ServiceError(TerminalError):
    """The verification service cannot be reached or answered something unusable."""


class UpdateError(TerminalError):
    """A release bundle is refused (signature, version, content) or cannot be installed."""
