"""The recording indicators (``recording://``) and the null adapter (``none://``).

``RecordingIndicators`` keeps every signal with the pattern it stands for, so a test of the flow
can assert "red, and nothing green" without GPIO (ARCHITECTURE.md, principle 2). ``none://`` is
for a box without LEDs or buzzer: the screen and the log still speak.
"""

from __future__ import annotations

from urllib.parse import SplitResult

from fmd_core import feedback
from fmd_terminal.errors import ConfigError


class RecordingIndicators:
    """Keeps ``signals`` (every call, in order, None for "all off") and ``patterns`` beside them."""

    def __init__(self) -> None:
        self.signals: list[str | None] = []
        self.patterns: list[feedback.Pattern | None] = []
        self.closed = False

    def signal(self, light: str | None) -> None:
        pattern = feedback.pattern_for(light) if light is not None else None  # unknown names raise here too
        self.signals.append(light)
        self.patterns.append(pattern)

    def close(self) -> None:
        self.closed = True

    @property
    def last(self) -> str | None:
        return self.signals[-1] if self.signals else None

    @property
    def lights(self) -> list[str]:
        """The verdict lights signalled, neutral events left out."""
        return [s for s in self.signals if s in feedback.LIGHTS]


class NoIndicators:
    """Accepts every signal and does nothing (still rejects unknown names, like the others)."""

    def signal(self, light: str | None) -> None:
        if light is not None:
            feedback.pattern_for(light)

    def close(self) -> None:
        pass


def _no_options(parts: SplitResult) -> None:
    if parts.netloc or parts.path.strip("/") or parts.query:
        raise ConfigError(f"indicators URL {parts.geturl()!r}: takes no options")


def open_recording(parts: SplitResult) -> RecordingIndicators:
    """``recording://``."""
    _no_options(parts)
    return RecordingIndicators()


def open_none(parts: SplitResult) -> NoIndicators:
    """``none://``."""
    _no_options(parts)
    return NoIndicators()
