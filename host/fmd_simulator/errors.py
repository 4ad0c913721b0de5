"""The simulator's errors: one root, ``SimulatorError`` (ARCHITECTURE.md, "Errors and logging")."""

from __future__ import annotations


class SimulatorError(Exception):
    """Root of every error the simulator raises on purpose."""


class StoreError(SimulatorError):
    """The database cannot be opened or used."""


class ConfigurationError(SimulatorError):
    """Bad options: clients file, TLS files, fault settings."""
