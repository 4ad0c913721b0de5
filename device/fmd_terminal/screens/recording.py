"""The recording screen (``recording://``): keeps every model it is shown and its rendered image.

The twin of the OLED for tests and the demo (ARCHITECTURE.md, principle 2 "fakes are features"):
it renders through the same ``render`` as the OLED, so a test of the flow can look at the very
pixels a pharmacist would see. ``recording://?render=0`` keeps the models only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, parse_qsl

from fmd_core.screen import ScreenModel
from fmd_terminal.errors import ConfigError
from fmd_terminal.screens.render import render


class RecordingScreen:
    """Keeps ``models`` (every ``show``, repeats included) and ``images`` (one per model)."""

    def __init__(self, *, width: int = 128, height: int = 64, keep_images: bool = True):
        self.width = width
        self.height = height
        self.keep_images = keep_images
        self.models: list[ScreenModel] = []
        self.images: list[Any] = []
        self.closed = False

    def show(self, model: ScreenModel) -> None:
        self.models.append(model)
        if self.keep_images:
            same = len(self.models) > 1 and self.models[-2] == model
            self.images.append(self.images[-1] if same else render(model, self.width, self.height))

    def close(self) -> None:
        self.closed = True

    @property
    def last(self) -> ScreenModel | None:
        """The model on screen now (None before the first ``show``)."""
        return self.models[-1] if self.models else None

    @property
    def changes(self) -> list[ScreenModel]:
        """The models that changed the screen, repeats left out."""
        out: list[ScreenModel] = []
        for model in self.models:
            if not out or out[-1] != model:
                out.append(model)
        return out


def open_recording(parts: SplitResult) -> RecordingScreen:
    """``recording://`` (models and images) or ``recording://?render=0`` (models only)."""
    keep_images = True
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "render" or value not in ("0", "1"):
            raise ConfigError(f"screen URL {parts.geturl()!r}: the only option is render=0 or render=1")
        keep_images = value == "1"
    return RecordingScreen(keep_images=keep_images)
