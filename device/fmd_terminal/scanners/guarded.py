"""A scan source that applies the stored scanner profile to every scan (issue 8, items 2 and 3).

Wraps any ``ScanSource``. For each scan (its key events when the scanner is a keyboard, else its
text) it asks ``fmd_core.calibration.guard``:

- a **calibration code** (C1/C2) is never passed on: the profile it shows is merged with the stored
  one, saved, and reported as a ``FAULT`` event whose text is "Scanner OK" or what to change, with
  a ``ScannerCheck`` (reason ``CALIBRATED``, the profile's problems) for the screen;
- a scan **valid under the profile** is passed on as ``SCAN``, read with the profile's keyboard
  country (so a scanner found to be French is read as French from then on);
- a scan that is not valid under the profile but reads cleanly under another configuration, a GS1
  code while the profile says GS is dropped, and every scan while the profile has a blocking problem
  become a ``FAULT`` event (amber on the screen) saying what to do, with a ``ScannerCheck`` naming
  the reason, what to change and the held text; they never reach the service.

Without a stored profile, scans pass unguarded unless ``require_calibration`` is set (then they are
held with "scan the calibration code"); calibration codes are recognised either way.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from fmd_core.calibration import (
    CALIBRATION,
    HOLD,
    ScannerProfile,
    advice,
    changed,
    guard,
    infer_keys,
    infer_text,
    message,
    problems,
)
from fmd_terminal.errors import StorageError
from fmd_terminal.scanners import CALIBRATED, FAULT, SCAN, ScanEvent, ScannerCheck

log = logging.getLogger(__name__)


def load_profile(path: str) -> ScannerProfile | None:
    """The stored profile, or None when the scanner was never calibrated."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise StorageError.text("profile_unreadable", path=repr(path), why=error) from error
    try:
        return ScannerProfile.from_dict(data)
    except (KeyError, TypeError) as error:
        raise StorageError.text("profile_bad", path=repr(path), missing=error) from None


def save_profile(profile: ScannerProfile, path: str) -> None:
    """Write the profile atomically (a power cut leaves the old or the new one)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_text(json.dumps(profile.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        raise StorageError.text("profile_unwritable", path=repr(path), why=error.strerror or error) from error


def combine(stored: ScannerProfile | None, code: str, found: ScannerProfile) -> ScannerProfile:
    """A new calibration scan with what is already known: C1 decides the keyboard country, case,
    AIM and suffix; C2 adds how RS and EOT arrive (it cannot tell German from Spanish/Italian)."""
    if stored is None:
        return found
    if code == "C1":
        controls = dict(stored.controls)
        controls.update(found.controls)
        return ScannerProfile(
            found.interface, found.layout, found.aim, found.case, controls, found.suffix, found.equivalent
        )
    return stored.merged(found)


def _text_of(event: ScanEvent) -> str | None:
    """A held scan's text as the adapter read it (a keyboard scan: under its configured layout)."""
    return event.text if event.kind == SCAN else None


class GuardedScanSource:
    """A ``ScanSource`` that guards another with the profile stored at ``profile_path``."""

    def __init__(
        self, source: Any, profile_path: str, lang: str = "fr", require_calibration: bool = False
    ) -> None:
        self.source = source
        self.profile_path = profile_path
        self.lang = lang
        self.require_calibration = require_calibration
        self.profile = load_profile(profile_path)

    def close(self) -> None:
        self.source.close()

    def missing(self) -> str | None:
        """The guarded source's answer (``QueuedScanSource.missing``); None when it has none."""
        missing = getattr(self.source, "missing", None)
        return missing() if missing is not None else None

    def read(self, timeout_s: float) -> ScanEvent | None:
        event = self.source.read(timeout_s)
        if event is None or event.kind not in (SCAN, FAULT) or (event.kind == FAULT and event.keys is None):
            return event
        scan = event.keys if event.keys is not None else event.text
        if self.profile is None:
            return self._unguarded(event, scan)
        verdict = guard(scan, self.profile)
        if verdict.action == CALIBRATION:
            return self._calibrated(event, verdict.calibration)
        if verdict.action == HOLD:
            raw = verdict.text if verdict.text is not None else _text_of(event)
            check = ScannerCheck(verdict.reason, self._hold_problems(verdict), raw)
            return self._fault(event, self._hold_text(verdict.reason), check)
        if verdict.text is None:
            return event  # keys that no configuration reads: the adapter's own fault text
        return ScanEvent(SCAN, verdict.text, event.received_ms, event.source, event.keys)

    def _unguarded(self, event: ScanEvent, scan: Any) -> ScanEvent:
        found = infer_keys(scan) if not isinstance(scan, str) else infer_text(scan, suffix="unknown")
        if found is not None:
            return self._calibrated(event, found)
        if self.require_calibration:
            check = ScannerCheck("not_calibrated", (), _text_of(event))
            return self._fault(event, message("not_calibrated", self.lang), check)
        return event

    def _calibrated(self, event: ScanEvent, calibration: Any) -> ScanEvent:
        self.profile = combine(self.profile, calibration.code, calibration.profile)
        save_profile(self.profile, self.profile_path)
        log.info("scanner calibrated with %s: %s", calibration.code, self.profile.as_dict())
        check = ScannerCheck(CALIBRATED, problems(self.profile))
        return self._fault(event, " · ".join(advice(self.profile, self.lang)), check)

    def _hold_problems(self, verdict: Any) -> list:
        """What to change (gs_dropped, a failed calibration) or what seems changed (settings_changed)."""
        if verdict.reason == "settings_changed":
            return changed(self.profile, verdict.alternatives)
        return self.problems()

    def _hold_text(self, reason: str) -> str:
        if reason == "calibration_failed" and self.profile is not None:
            return " · ".join(advice(self.profile, self.lang))
        if reason == "gs_dropped":
            return message("gs_dropped", self.lang)
        return message("settings_changed", self.lang)

    def _fault(self, event: ScanEvent, text: str, check: ScannerCheck) -> ScanEvent:
        return ScanEvent(FAULT, text, event.received_ms, event.source, check=check)

    def problems(self) -> list:
        return problems(self.profile) if self.profile is not None else []
