"""Scan framing: where one scan ends (SCANNERS-AND-HARDWARE.md 1.7 and 2).

Pure and clock-free: every event carries its own time stamp in milliseconds, and the adapter calls
``expire(now_ms)`` with its own clock when it has waited ``deadline_ms()`` without input.

- **Enter suffix**: ``KEY_ENTER``/``KEY_KPENTER`` (keyboard) or CR/LF (serial) ends the scan at once.
- **Inter-key timeout**: a gap of more than ``gap_ms`` (default 200) since the last key ends a scan
  whose suffix is missing. Fragments shorter than ``min_length`` are dropped as stray keys.
- **SYN_DROPPED**: keys were lost. The cut scan is discarded, never decoded: what came before and
  what follows up to its Enter or its gap (a tail alone could still look like a code). Events are
  ignored up to the next ``SYN_REPORT``; the adapter re-seeds modifiers with ``resync(active_keys)``.
- **Length cap**: a scan longer than ``max_length`` characters (a keystroke burst, a stuck key) is
  reported once as a fault and the rest of it is thrown away, so memory stays bounded.

``push`` returns a list of ``Frame``: kind ``"scan"`` with the text (suffix removed, GS/RS/EOT kept),
or kind ``"fault"`` with a sentence for the log and ``reason`` for the screen.
"""

from fmd_core.keyboard import CR, KeyDecoder, codes

SCAN = "scan"
FAULT = "fault"

# fault reasons (the screen shows its own message per reason, in the user's language)
KEYS_LOST = "keys_lost"
TOO_LONG = "too_long"
BAD_KEYS = "bad_keys"

DEFAULT_GAP_MS = 200
DEFAULT_MAX_LENGTH = 1024
DEFAULT_MIN_LENGTH = 3


class Frame:
    """One framed scan or one framing fault; ``t_ms`` is the time stamp of its last event."""

    __slots__ = ("kind", "text", "t_ms", "reason", "keys")

    def __init__(self, kind, text, t_ms, reason="", keys=None):
        self.kind = kind
        self.text = text
        self.t_ms = t_ms
        self.reason = reason
        self.keys = keys  # the scan's (code, value) key events, when the framer keeps them

    def __repr__(self):
        return "Frame(%r, %r, %r, %r)" % (self.kind, self.text, self.t_ms, self.reason)

    def __eq__(self, other):
        return isinstance(other, Frame) and (self.kind, self.text, self.reason) == (
            other.kind,
            other.text,
            other.reason,
        )


class _Framer:
    """What keyboard and byte framing share: the pending text, the gap timer and the length cap."""

    __slots__ = ("gap_ms", "max_length", "min_length", "parts", "length", "last_ms", "discard", "invalid")

    def __init__(self, gap_ms=DEFAULT_GAP_MS, max_length=DEFAULT_MAX_LENGTH, min_length=DEFAULT_MIN_LENGTH):
        self.gap_ms = gap_ms
        self.max_length = max_length
        self.min_length = min_length
        self.parts = []
        self.length = 0
        self.last_ms = None
        self.discard = False
        self.invalid = ""

    def _clear(self):
        self.parts = []
        self.length = 0
        self.last_ms = None
        self.discard = False
        self.invalid = ""

    def pending(self):
        """True while a scan has started and not ended."""
        return self.last_ms is not None

    def deadline_ms(self):
        """When the pending scan times out, or None when nothing is pending."""
        if self.last_ms is None:
            return None
        return self.last_ms + self.gap_ms

    def expire(self, now_ms):
        """End the pending scan if ``now_ms`` is past its inter-key timeout."""
        if self.last_ms is not None and now_ms - self.last_ms > self.gap_ms:
            return self._end(self.last_ms)
        return []

    def _gap(self, t_ms, out):
        if self.last_ms is not None and t_ms - self.last_ms > self.gap_ms:
            out.extend(self._end(self.last_ms))

    def _add(self, text, t_ms, out):
        self.last_ms = t_ms
        if self.discard or self.invalid or not text:
            return
        if self.length + len(text) > self.max_length:
            self.discard = True
            self.parts = []
            out.append(
                Frame(
                    FAULT,
                    "scan longer than %d characters: discarded up to its end" % self.max_length,
                    t_ms,
                    TOO_LONG,
                )
            )
            return
        self.parts.append(text)
        self.length += len(text)

    def _end(self, t_ms):
        text = "".join(self.parts)
        invalid = self.invalid
        discard = self.discard
        self._clear()
        if discard:
            return []
        if invalid:
            return [Frame(FAULT, invalid, t_ms, BAD_KEYS)]
        if len(text) < self.min_length:
            return []
        return [Frame(SCAN, text, t_ms)]


class KeyFramer(_Framer):
    """Frames evdev events ``(type, code, value, t_ms)`` into scans, decoding with ``KeyDecoder``.

    With ``keep_keys`` each scan frame, and each ``BAD_KEYS`` fault, also carries its ``(code,
    value)`` key events (Enter included when it ended the scan), which calibration and the scan guard read under other
    layouts (``fmd_core.calibration``); they are capped with the text.
    """

    __slots__ = ("decoder", "dropping", "keep_keys", "keys")

    def __init__(
        self,
        layout="us",
        gap_ms=DEFAULT_GAP_MS,
        max_length=DEFAULT_MAX_LENGTH,
        min_length=DEFAULT_MIN_LENGTH,
        function_keys=None,
        keep_keys=False,
    ):
        _Framer.__init__(self, gap_ms, max_length, min_length)
        self.decoder = KeyDecoder(layout, function_keys)
        self.dropping = False
        self.keep_keys = keep_keys
        self.keys = []

    def _clear(self):
        _Framer._clear(self)
        self.keys = []

    def _end(self, t_ms):
        keys = self.keys
        frames = _Framer._end(self, t_ms)
        if self.keep_keys:
            for frame in frames:
                # keys that do not decode under this layout may under another: calibration reads them
                if frame.kind == SCAN or frame.reason == BAD_KEYS:
                    frame.keys = keys
        return frames

    def push(self, type_, code, value, t_ms):
        out = []
        if type_ == codes.EV_SYN:
            if code == codes.SYN_DROPPED:
                reported = self.discard and self.dropping
                self._clear()
                self.decoder.reset()
                self.dropping = True
                # the rest of the cut scan is discarded too, up to its Enter or its gap
                self.discard = True
                self.last_ms = t_ms
                if not reported:
                    out.append(
                        Frame(
                            FAULT,
                            "keys were lost (SYN_DROPPED): the partial scan was discarded",
                            t_ms,
                            KEYS_LOST,
                        )
                    )
            elif code == codes.SYN_REPORT:
                self.dropping = False
            return out
        if type_ != codes.EV_KEY or self.dropping:
            return out
        self._gap(t_ms, out)
        if self.last_ms is None and value != codes.DOWN:
            # releases after a scan ended (a modifier let go after Enter) keep the state right
            self.decoder.key(code, value)
            return out
        if self.keep_keys and not self.discard and len(self.keys) < 16 * self.max_length:
            self.keys.append((code, value))
        ch = self.decoder.key(code, value)
        if ch is None:
            if not self.invalid:
                self.invalid = self.decoder.error
            self.last_ms = t_ms
        elif ch == CR:
            self.last_ms = t_ms
            out.extend(self._end(t_ms))
            self.decoder.reset(self.decoder.held)
        else:
            self._add(ch, t_ms, out)
        return out

    def expire(self, now_ms):
        frames = _Framer.expire(self, now_ms)
        if frames or not self.pending():
            self.decoder.reset(self.decoder.held)
        return frames

    def resync(self, active_keys):
        """After SYN_DROPPED: modifiers held now, from the device (``active_keys()``)."""
        self.decoder.reset(active_keys)


class ByteFramer(_Framer):
    """Frames the text of a byte stream (serial scanners, SCANNERS-AND-HARDWARE.md 2).

    CR or LF ends a scan; an LF right after a CR is part of the same CRLF suffix. Chunks may split a
    scan anywhere; the gap timer ends a scan without a suffix.
    """

    __slots__ = ("after_cr",)

    def __init__(self, gap_ms=DEFAULT_GAP_MS, max_length=DEFAULT_MAX_LENGTH, min_length=DEFAULT_MIN_LENGTH):
        _Framer.__init__(self, gap_ms, max_length, min_length)
        self.after_cr = False

    def push(self, text, t_ms):
        out = []
        if not text:
            return out
        self._gap(t_ms, out)
        start = 0
        for index in range(len(text)):
            ch = text[index]
            if ch != "\r" and ch != "\n":
                continue
            if index > start:
                self._add(text[start:index], t_ms, out)
            start = index + 1
            if (
                ch == "\n"
                and self.after_cr
                and index == 0
                or ch == "\n"
                and index > 0
                and text[index - 1] == "\r"
            ):
                self.after_cr = False
                continue
            self.last_ms = t_ms
            out.extend(self._end(t_ms))
            self.after_cr = ch == "\r"
        if start < len(text):
            self._add(text[start:], t_ms, out)
            self.after_cr = False
        return out
