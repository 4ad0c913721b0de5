"""fmd_terminal: the FMD scan terminal application (CPython on the Raspberry Pi)."""

__version__ = "0.1.0"
