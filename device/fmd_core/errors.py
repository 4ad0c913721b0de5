"""The portable core's one root error (ARCHITECTURE.md, "Errors and logging").

The decoder never raises (PACK-CODES.md, "Result contract"); these errors are for programming
mistakes and for the parts of the core that are called with configuration, such as layout tables.
"""


class CoreError(Exception):
    """Root of every error the portable core raises."""


class ConfigurationError(CoreError):
    """A table or setting handed to the core is not usable (names the setting, quotes the value)."""
