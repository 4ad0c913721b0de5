"""Recordings of a keyboard-wedge scanner's key events, read line by line (SCANNERS-AND-HARDWARE.md 7.4).

Two formats, one JSON value per line (blank lines are skipped):

- **timed**, as ``fmd-terminal calibrate --record`` writes it: a header object first (``scanner``,
  ``expected``, ``profile``, ...), then one ``[sec, usec, type, code, value]`` per event, every event
  of the device (``EV_KEY``, ``EV_SYN``, ``EV_MSC``) with its own time stamp;
- **plain**: ``[code, value]`` (or ``{"code": .., "value": .., "type": 1}``) per key event, with a
  fixed inter-key time ``step_ms``; each key is followed by the ``SYN_REPORT`` a device sends.

``read_recording`` yields ``RecordedEvent`` and, for a line it cannot use, a ``RecordingProblem``
naming the line and what is wrong, in file order: the caller decides whether a bad line stops it
(``fmd-terminal calibrate --keys``) or only discards the scan it belongs to (the ``keys://`` replay).
``message`` says it in French, English or German, the line number first (the screen shows the
beginning of a scanner fault; the log has all of it). Like ``commands.calibrate``, these texts for
the log and the command line are a table of their own; the gettext catalogues hold the screen's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from fmd_core.keyboard import codes

DEFAULT_STEP_MS = 2  # a plain list's time between two key events (scanners type 1 to 5 ms apart)
EV_MAX = 0x1F  # linux/input-event-codes.h
KEY_MAX = 0x2FF
SYN_MAX = codes.SYN_DROPPED  # SYN_REPORT, SYN_CONFIG, SYN_MT_REPORT, SYN_DROPPED
KEY_VALUES = (codes.UP, codes.DOWN, codes.REPEAT)
SHOWN = 40  # characters of a bad line quoted in its message


MESSAGES = {
    "fr": {
        "not_json": "Ligne {line} : pas du JSON (enregistrement de touches)",
        "bad_line": "Ligne {line} : [sec, usec, type, code, valeur] ou [code, valeur] attendu dans "
        "l'enregistrement, lu {got}",
        "unknown_event": "Ligne {line} : touche inconnue (type {type}, code {code}, valeur {value}) dans "
        "l'enregistrement",
        "cut_scan": "Lignes {first}-{line} : le dernier scan de l'enregistrement est coupé (pas d'Entrée) ; "
        "l'enregistrer à nouveau",
        "scan_discarded": "ce scan est écarté, non envoyé",
    },
    "en": {
        "not_json": "Line {line}: not JSON (key recording)",
        "bad_line": "Line {line}: expected [sec, usec, type, code, value] or [code, value] in a key recording, "
        "got {got}",
        "unknown_event": "Line {line}: unknown key event (type {type}, code {code}, value {value}) in the "
        "key recording",
        "cut_scan": "Lines {first}-{line}: the recording's last scan is cut off (no Enter); record it again",
        "scan_discarded": "that scan is discarded, not sent",
    },
    "de": {
        "not_json": "Zeile {line}: kein JSON (Tastenaufzeichnung)",
        "bad_line": "Zeile {line}: [sec, usec, type, code, value] oder [code, value] in der Aufzeichnung "
        "erwartet, gelesen {got}",
        "unknown_event": "Zeile {line}: unbekanntes Tastenereignis (Typ {type}, Code {code}, Wert {value}) in "
        "der Aufzeichnung",
        "cut_scan": "Zeilen {first}-{line}: der letzte Scan der Aufzeichnung ist abgeschnitten (kein Enter); "
        "neu aufzeichnen",
        "scan_discarded": "dieser Scan wird verworfen, nicht gesendet",
    },
}


def message(key: str, lang: str = "fr", **fields: object) -> str:
    """A text of ``MESSAGES`` in ``lang`` (French when unknown)."""
    return MESSAGES.get(lang, MESSAGES["fr"])[key].format(**fields)


class RecordedEvent(NamedTuple):
    line: int
    type: int
    code: int
    value: int
    t_ms: int


class RecordingProblem(NamedTuple):
    """A line that is no usable event: ``problem`` (a key of ``MESSAGES``) with its ``fields``."""

    line: int
    problem: str
    fields: dict[str, Any]

    def text(self, lang: str = "fr") -> str:
        return message(self.problem, lang, line=self.line, **self.fields)


def _whole(*values: Any) -> bool:
    """Whole numbers, not booleans (JSON ``true`` is no key code)."""
    for value in values:
        if type(value) is not int:
            return False
    return True


def _unknown(type_: int, code: int, value: int) -> bool:
    """Not an event a Linux input device sends (``linux/input-event-codes.h``)."""
    if not 0 <= type_ <= EV_MAX or code < 0:
        return True
    if type_ == codes.EV_KEY:
        return code > KEY_MAX or value not in KEY_VALUES
    if type_ == codes.EV_SYN:
        return code > SYN_MAX
    return False


def _event_of(item: Any) -> tuple[int | None, int, int, int] | None:
    """``(t_ms or None for a plain key, type, code, value)``, or None when the line has another shape."""
    if type(item) is list:
        if len(item) == 5 and _whole(*item):
            sec, usec, type_, code, value = item
            if sec >= 0 and 0 <= usec < 1_000_000:
                return sec * 1000 + usec // 1000, type_, code, value
        elif len(item) == 2 and _whole(*item):
            return None, codes.EV_KEY, item[0], item[1]
    elif isinstance(item, dict):
        fields: tuple[Any, ...] = (item.get("type", codes.EV_KEY), item.get("code"), item.get("value"))
        if _whole(*fields):
            return None, fields[0], fields[1], fields[2]
    return None


def read_recording(lines: Iterable[str], step_ms: int = DEFAULT_STEP_MS) -> Iterator[RecordedEvent | RecordingProblem]:
    """The events (and problems) of a recording's lines, in order; see the module docstring.

    A header object on the first line is skipped here (``header_of`` reads it).
    """
    t_ms = 0
    first = True
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            yield RecordingProblem(number, "not_json", {})
            first = False
            continue
        if first and isinstance(item, dict) and "code" not in item:
            first = False
            continue  # the header
        first = False
        event = _event_of(item)
        if event is None:
            yield RecordingProblem(number, "bad_line", {"got": repr(line.strip()[:SHOWN])})
            continue
        timed, type_, code, value = event
        if _unknown(type_, code, value):
            yield RecordingProblem(number, "unknown_event", {"type": type_, "code": code, "value": value})
            continue
        t_ms = timed if timed is not None else t_ms + step_ms
        yield RecordedEvent(number, type_, code, value, t_ms)
        if timed is None and type_ == codes.EV_KEY:
            yield RecordedEvent(number, codes.EV_SYN, codes.SYN_REPORT, 0, t_ms)


def header_of(lines: list[str]) -> dict[str, Any]:
    """The header object of a timed recording (``{}`` when there is none)."""
    for line in lines:
        if line.strip():
            try:
                item = json.loads(line)
            except ValueError:
                return {}
            return item if isinstance(item, dict) and "code" not in item else {}
    return {}
