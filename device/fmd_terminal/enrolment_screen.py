"""The terminal's enrolment screen (issue 14): "Scannez le code d'inscription" until a code enrols it.

A terminal whose configuration names an ``enrolment_dir`` but no service credentials starts here
instead of at its idle screen (``fmd-terminal run``, the demo's ``--enrol``). Each scan is tried as an
enrolment code (``fmd_terminal.enrolment``); a scan the scanner guard held because the scanner is not
calibrated yet is tried too, since the code's check letter refuses a garbled read. Each refusal is a
screen naming the problem and the fix, and the terminal waits for the next scan; nothing is written
until an enrolment succeeded. Success shows "Inscrit : <pharmacy>" and the terminal carries on with
the same scanner and the configuration the enrolment completed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from fmd_core.screen import ScreenModel
from fmd_terminal import config as terminal_config
from fmd_terminal.config import Config
from fmd_terminal.enrolment import Enrolled, EnrolmentFailed, enrol
from fmd_terminal.errors import ConfigError
from fmd_terminal.i18n import Translator
from fmd_terminal.scanners import CALIBRATED, END, FAULT, SCAN

log = logging.getLogger(__name__)


def needs_enrolment(config: Config) -> bool:
    """An enrolment directory is configured and no service (or no login) is known yet."""
    return bool(config.enrolment_dir) and not (config.service and config.client_id)


class EnrolmentScreen:
    """The enrolment loop over an open scanner and screen (see the module docstring)."""

    def __init__(self, directory: str, scanner: Any, screen: Any, translate: Translator, *,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.scanner = scanner
        self.screen = screen
        self.t = translate
        self.wall_clock = wall_clock
        self.shown: list[ScreenModel] = []
        self.refused: EnrolmentFailed | None = None  # the last attempt's refusal

    def show(self, model: ScreenModel) -> None:
        self.shown.append(model)
        self.screen.show(model)

    def prompt(self) -> ScreenModel:
        return ScreenModel(headline=self.t("enrol.prompt"), lines=[self.t("enrol.prompt_line")])

    def run(self, should_stop: Callable[[], bool] = lambda: False, desk: Any = None) -> Enrolled | None:
        """Until a scan enrols the terminal (its ``Enrolled``) or the scanner ends (None).

        ``desk``: the web console's enrolment (``console.enrolling.Desk``): a code an installer typed
        there is tried here, between two scans, exactly as a scanned one (same steps, same screen)."""
        self.show(self.prompt())
        while not should_stop():
            typed = desk.take() if desk is not None else None
            if typed is not None:
                done = self.attempt(typed.code, progress=typed.progress)
                typed.finished(done, self.refused)
                if done is not None:
                    return done
                continue
            event = self.scanner.read(0.5)
            if event is None:
                continue
            if event.kind == END:
                return None
            raw = event.text if event.kind == SCAN else getattr(event.check, "raw", None)
            if event.kind == FAULT and getattr(event.check, "reason", None) == CALIBRATED:
                self.show(ScreenModel(light="green", headline=self.t("scanner_ok"), lines=[self.t("enrol.prompt")]))
                continue
            if not raw:
                continue
            done = self.attempt(raw)
            if done is not None:
                return done
        return None

    def attempt(self, raw: str, progress: Callable[[str], None] = lambda step: None) -> Enrolled | None:
        """Try ``raw`` (a scan, or a code typed in the console); a refusal is kept in ``refused``."""
        self.show(ScreenModel(headline=self.t("enrol.working"), busy=True))
        self.refused = None
        try:
            enrolled = enrol(raw, self.directory, wall_clock=self.wall_clock, progress=progress)
        except EnrolmentFailed as refused:
            log.info("enrolment refused: %s", refused.reason)
            self.refused = refused
            self.show(ScreenModel(light="amber", headline=self.t("enrol.refused." + refused.reason),
                                  lines=[self.t("enrol.fix." + refused.reason)]))
            return None
        self.show(ScreenModel(light="green", headline=self.t("enrol.done", name=enrolled.pharmacy_name),
                              lines=[self.t("enrol.done_line")]))
        return enrolled


def refusal_line(refused: EnrolmentFailed, lang: str) -> str:
    """The refusal in one line, in ``lang``: the screen's headline and its fix (the CLI and the console)."""
    screen = Translator(lang)
    return f"{screen('enrol.refused.' + refused.reason)} : {screen('enrol.fix.' + refused.reason)}"


def enrol_by_scan(config: Config, stack: contextlib.ExitStack, desk: Any = None,
                  **options: Any) -> tuple[Config, Any]:
    """Run the enrolment screen; return the completed configuration and the scanner, still open.
    ``desk``: the web console's enrolment, when the console is on (``EnrolmentScreen.run``)."""
    from fmd_terminal.scanners.factory import open_scanner
    from fmd_terminal.screens.factory import open_screen_or_fallback

    directory = terminal_config.enrolment_path(config)
    assert directory is not None
    screen = open_screen_or_fallback(config.screen)
    try:
        scanner = open_scanner(config.scanner)
        stack.callback(scanner.close)
        enrolled = EnrolmentScreen(str(directory), scanner, screen, Translator(config.lang), **options).run(desk=desk)
    finally:
        screen.close()
    if enrolled is None:
        from fmd_terminal.outbox.texts import Texts

        raise ConfigError(Texts(config.lang)("not_enrolled"))
    return terminal_config.with_enrolment(config), scanner
