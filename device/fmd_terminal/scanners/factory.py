"""``open_scanner(url)``: the scanner adapter a URL names (ARCHITECTURE.md, principle 3).

| URL | adapter |
| --- | --- |
| ``evdev://<by-id name>?layout=fr&gap_ms=50`` or ``evdev:///dev/input/eventN`` | keyboard-wedge scanner (python-evdev) |
| ``serial://<by-id name>?gap_ms=50`` or ``serial:///dev/ttyACM0`` | USB-CDC serial scanner (pyserial) |
| ``stdin://`` (``?escapes=1`` forces ``\\x1d`` escapes on) | one scan per line of standard input |
| ``script://<path>`` | JSON lines replayed (``{"raw": ...}``, ``{"mode": ...}``) |
| ``keys://<path>?layout=fr&speed=0`` | a keyboard scanner's recorded key events replayed (``key_replay``) |

Query parameters: ``layout`` (us, fr, de, gb, be, es, it; SCANNERS-AND-HARDWARE.md 1.3), ``gap_ms``
(``timeout_ms`` is the same; the inter-key or inter-byte timeout of 1.7, default 200),
``max_length`` (characters in one scan, default 1024), ``baud`` (serial), ``speed`` (keys: 1 real
time, 0 as fast as possible) and ``step_ms`` (keys: the time between the keys of a plain
``[code, value]`` list, default 2). An unknown parameter or a bad value is a ``ConfigError`` naming it.

Every scheme also takes ``profile=PATH`` (the stored scanner profile of issue 8: the source is then a
``GuardedScanSource``, which recognises calibration codes, reads with the calibrated keyboard country
and holds scans a changed scanner garbles), ``lang`` (fr, en, de: the language of its messages) and
``require_calibration=1`` (hold every scan until the scanner was calibrated).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, parse_qs

from fmd_core.keyboard import KeyboardError, get_layout
from fmd_terminal.errors import ConfigError, StorageError
from fmd_terminal.urls import open_by_scheme

INTEGER_PARAMETERS = (
    "gap_ms", "timeout_ms", "max_length", "baud", "escapes", "require_calibration", "step_ms"
)
NUMBER_PARAMETERS = ("speed",)  # decimals allowed, 0 included
GUARD_PARAMETERS = ("profile", "lang", "require_calibration")


def _parameters(parts: SplitResult, allowed: tuple[str, ...]) -> dict[str, Any]:
    url = parts.geturl()
    found: dict[str, Any] = {}
    allowed = allowed + GUARD_PARAMETERS
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        if key not in allowed:
            raise ConfigError.text("scanner_parameter", url=repr(url), key=repr(key), known=", ".join(allowed))
        value = values[-1]
        if key in INTEGER_PARAMETERS:
            try:
                found[key] = int(value)
            except ValueError:
                raise ConfigError.text("scanner_whole", url=repr(url), key=key, value=repr(value)) from None
            if found[key] < 0 or (found[key] == 0 and key not in ("escapes", "require_calibration")):
                raise ConfigError.text("scanner_positive", url=repr(url), key=key, value=repr(value))
        elif key in NUMBER_PARAMETERS:
            try:
                found[key] = float(value)
            except ValueError:
                found[key] = -1.0
            if not 0 <= found[key] < float("inf"):
                raise ConfigError.text("scanner_number", url=repr(url), key=key, value=repr(value))
        else:
            found[key] = value
    if found.get("lang", "fr") not in ("fr", "en", "de"):
        raise ConfigError.text("scanner_lang", url=repr(url), value=repr(found["lang"]))
    if "timeout_ms" in found:
        found["gap_ms"] = found.pop("timeout_ms")
    if "layout" in found:
        try:
            get_layout(found["layout"])
        except KeyboardError as error:
            raise ConfigError.text("scanner_layout", url=repr(url), why=error) from None
    return found


def _device_name(parts: SplitResult, kind: str) -> str:
    name = parts.netloc + parts.path
    if not name:
        raise ConfigError.text("scanner_no_device", url=repr(parts.geturl()), kind=kind, scheme=parts.scheme)
    return name


def _guarded(source: Any, options: dict[str, Any]) -> Any:
    """Wrap ``source`` in a ``GuardedScanSource`` when the URL names a ``profile``."""
    profile = options.pop("profile", None)
    lang = options.pop("lang", "fr")
    require = bool(options.pop("require_calibration", 0))
    if not profile:
        return source
    from fmd_terminal.scanners.guarded import GuardedScanSource

    try:
        return GuardedScanSource(source, profile, lang=lang, require_calibration=require)
    except StorageError:
        source.close()
        raise


def _split_guard(options: dict[str, Any]) -> dict[str, Any]:
    return {key: options.pop(key) for key in GUARD_PARAMETERS if key in options}


def _open_evdev(parts: SplitResult, **kwargs: Any) -> Any:
    from fmd_terminal.scanners.evdev_keyboard import EvdevScanSource

    options = _parameters(parts, ("layout", "gap_ms", "timeout_ms", "max_length"))
    guard = _split_guard(options)
    return _guarded(EvdevScanSource(_device_name(parts, "input device"), **options, **kwargs).start(), guard)


def _open_serial(parts: SplitResult, **kwargs: Any) -> Any:
    from fmd_terminal.scanners.serial_port import SerialScanSource

    options = _parameters(parts, ("baud", "gap_ms", "timeout_ms", "max_length"))
    guard = _split_guard(options)
    return _guarded(SerialScanSource(_device_name(parts, "serial port"), **options, **kwargs).start(), guard)


def _open_stdin(parts: SplitResult, **kwargs: Any) -> Any:
    from fmd_terminal.scanners.stdin import StdinScanSource

    options = _parameters(parts, ("escapes", "max_length"))
    guard = _split_guard(options)
    if "escapes" in options:
        options["escapes"] = bool(options["escapes"])
    return _guarded(StdinScanSource(**options, **kwargs).start(), guard)


def _open_script(parts: SplitResult, **kwargs: Any) -> Any:
    from fmd_terminal.scanners.script import ScriptedScanSource

    guard = _split_guard(_parameters(parts, ()))
    return _guarded(ScriptedScanSource.from_file(_device_name(parts, "script file")), guard)


def _open_keys(parts: SplitResult, **kwargs: Any) -> Any:
    from fmd_terminal.scanners.key_replay import KeyReplaySource

    options = _parameters(parts, ("layout", "gap_ms", "timeout_ms", "max_length", "speed", "step_ms"))
    guard = _split_guard(options)
    source = KeyReplaySource(_device_name(parts, "key recording"), lang=guard.get("lang", "fr"), **options, **kwargs)
    return _guarded(source.start(), guard)


SCHEMES = {
    "evdev": _open_evdev,
    "serial": _open_serial,
    "stdin": _open_stdin,
    "script": _open_script,
    "keys": _open_keys,
}


def open_scanner(url: str, **kwargs: Any) -> Any:
    """Open the ``ScanSource`` that ``url`` names; keyword arguments go to the adapter (tests: clocks)."""
    return open_by_scheme("scanner", url, SCHEMES, **kwargs)
