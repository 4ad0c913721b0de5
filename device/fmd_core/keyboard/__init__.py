"""Keyboard-wedge scanners: evdev key events to text, and text to the key events a scanner types.

A keyboard-wedge scanner reports physical keys, never characters; the characters depend on the
*scanner's* keyboard country (SCANNERS-AND-HARDWARE.md 1.2), so decoding uses the layout the scanner
is set to. Rules implemented (SCANNERS-AND-HARDWARE.md 1.3 to 1.5):

- characters are decoded on key-down (value 1) only; autorepeat (2) is ignored;
- column = AltGr if held, else Shift if held, else base; letters are upper case when Shift XOR Caps
  Lock, and ``KEY_CAPSLOCK`` toggles the lock for the rest of the scan;
- keypad keys are decoded at key-code level whatever the NumLock state;
- GS, RS and EOT arrive as Ctrl+] / Ctrl+^ / Ctrl+D (key-code level: ``KEY_RIGHTBRACE``, ``KEY_6``,
  ``KEY_D``; or Ctrl + the layout's own ``]``, ``^``, ``d``), or as Alt + keypad decimal codes
  ("Alt 029"), or through an optional per-scanner function-key map. Any other control character, a
  dead key or a key without a character makes the scan invalid: the decoder says why.

``type_text`` is the reverse: the key events a scanner set to a layout sends for a text. Tests,
calibration (issue 8) and the latency benchmark use it.
"""

from fmd_core.errors import CoreError
from fmd_core.keyboard import codes
from fmd_core.keyboard.layouts import KPDOT, LAYOUTS

GS = "\x1d"
RS = "\x1e"
EOT = "\x04"
CR = "\r"
CONTROL_NAMES = {GS: "GS", RS: "RS", EOT: "EOT"}

# The 82 characters of GS1 AI encodable character set 82 (GS1 General Specifications 7.11, figure 7.11-1).
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

LAYOUT_NAMES = {
    "us": "US",
    "fr": "French (AZERTY)",
    "de": "German (QWERTZ)",
    "gb": "UK",
    "be": "Belgian (AZERTY)",
    "es": "Spanish",
    "it": "Italian",
}

# How a scanner sends GS, RS and EOT (SCANNERS-AND-HARDWARE.md 1.5)
CTRL = "ctrl"  # Ctrl + the US key positions: Ctrl+KEY_RIGHTBRACE, Ctrl+Shift+KEY_6, Ctrl+KEY_D
CTRL_LAYOUT = "ctrl_layout"  # Ctrl + the keys that type ], ^ and d on the scanner's layout
ALT = "alt"  # Alt held, keypad decimal code with a leading 0 (Alt 029), Alt released
DROP = "drop"  # control output off: nothing is sent
CONTROL_MODES = (CTRL, CTRL_LAYOUT, ALT, DROP)
FUNCTION = "function"  # a key of the scanner's function-key map (decoding only)

BASE = 0
SHIFT = 1
ALTGR = 2

# caret notation: Ctrl + the key of this character gives this control character
_CARET = {"]": GS, "^": RS, "d": EOT, "D": EOT}
# key-code level Ctrl combinations, whatever the layout (SCANNERS-AND-HARDWARE.md 1.5)
_CTRL_KEYS = {codes.KEY_RIGHTBRACE: GS, codes.KEY_6: RS, codes.KEY_D: EOT}
_CTRL_TYPED = {
    GS: (codes.KEY_RIGHTBRACE, ()),
    RS: (codes.KEY_6, (codes.KEY_LEFTSHIFT,)),
    EOT: (codes.KEY_D, ()),
}
_SHIFTS = (codes.KEY_LEFTSHIFT, codes.KEY_RIGHTSHIFT)
_CTRLS = (codes.KEY_LEFTCTRL, codes.KEY_RIGHTCTRL)
_MODIFIERS = (
    _SHIFTS + _CTRLS + (codes.KEY_LEFTALT, codes.KEY_RIGHTALT, codes.KEY_LEFTMETA, codes.KEY_RIGHTMETA)
)


_MODIFIER_SET = set(_MODIFIERS)


class KeyboardError(CoreError):
    """A text cannot be typed on a layout, or a layout name is unknown."""


def describe(text):
    """A text with its control characters named, for messages: ``'01<GS>21'``."""
    out = []
    for ch in text:
        if ch in CONTROL_NAMES:
            out.append("<" + CONTROL_NAMES[ch] + ">")
        elif ch == CR:
            out.append("<CR>")
        else:
            out.append(ch)
    return "".join(out)


class Layout:
    """One keyboard country: key code -> (base, Shift, AltGr, Caps Lock applies), and the reverse."""

    __slots__ = ("name", "keys", "kpdot", "has_altgr", "reverse")

    def __init__(self, name):
        if name not in LAYOUTS:
            raise KeyboardError(
                "unknown keyboard layout %r: expected one of %s" % (name, ", ".join(sorted(LAYOUTS)))
            )
        self.name = name
        self.keys = LAYOUTS[name]
        self.kpdot = KPDOT[name]
        self.has_altgr = False
        reverse = {}
        for level in (BASE, SHIFT, ALTGR):
            for code in sorted(self.keys):
                ch = self.keys[code][level]
                if level == ALTGR and ch:
                    self.has_altgr = True
                if ch and ch not in reverse:
                    reverse[ch] = (code, level)
        self.reverse = reverse

    def title(self):
        return LAYOUT_NAMES.get(self.name, self.name)


_LAYOUT_CACHE: dict = {}


def get_layout(name):
    """The ``Layout`` called ``name`` (``"us"``, ``"fr"``, ``"de"``, ``"gb"``, ``"be"``, ``"es"``, ``"it"``)."""
    if isinstance(name, Layout):
        return name
    found = _LAYOUT_CACHE.get(name)
    if found is None:
        found = _LAYOUT_CACHE[name] = Layout(name)
    return found


class KeyDecoder:
    """Turns one scanner's key events into characters (SCANNERS-AND-HARDWARE.md 1.4, 1.5).

    ``key(code, value)`` returns the text that key event produced (often ``""``), or None when the
    event makes the scan invalid; ``error`` then says why. ``function_keys`` maps a key code to the
    control character a scanner's "function key mapping" sends with it (empty by default).
    """

    __slots__ = (
        "layout",
        "keys",
        "function_keys",
        "held",
        "column",
        "ctrl",
        "caps",
        "alt_code",
        "error",
        "control_method",
    )

    def __init__(self, layout="us", function_keys=None):
        self.layout = get_layout(layout)
        self.keys = self.layout.keys
        self.function_keys = function_keys or {}
        self.held = set()
        self.column = BASE  # from the held modifiers, updated when one changes
        self.ctrl = False
        self.caps = False
        self.alt_code = None
        self.error = ""
        # how the last control character came (CTRL, CTRL_LAYOUT, ALT or FUNCTION), for calibration
        self.control_method = ""

    def reset(self, active_keys=()):
        """Forget the scan's state; modifiers held now are ``active_keys`` (after SYN_DROPPED, 1.7)."""
        self.held = set(code for code in active_keys if code in _MODIFIERS)
        self._modifiers_changed()
        self.caps = False
        self.alt_code = None
        self.error = ""

    def _is_alt(self, code):
        return code == codes.KEY_LEFTALT or (code == codes.KEY_RIGHTALT and not self.layout.has_altgr)

    def _has(self, keys):
        for code in keys:
            if code in self.held:
                return True
        return False

    def _fail(self, message):
        self.error = message
        return None

    def key(self, code, value):
        if value != codes.DOWN:
            if value == codes.UP and code in _MODIFIER_SET:
                return self._modifier(code, value)
            return ""
        if code in _MODIFIER_SET:
            return self._modifier(code, value)
        entry = self.keys.get(code)
        if entry is not None and not self.ctrl and self.alt_code is None and code not in self.function_keys:
            # the common case, kept short: a printable key without Ctrl or an Alt code
            column = self.column
            if self.caps and entry[3] and column != ALTGR:
                column = 1 - column
            return entry[column] or self._printable(code)
        if code == codes.KEY_CAPSLOCK:
            self.caps = not self.caps
            return ""
        if self.alt_code is not None:
            return self._alt_digit(code)
        if code in self.function_keys:
            self.control_method = FUNCTION
            return self.function_keys[code]
        if code == codes.KEY_ENTER or code == codes.KEY_KPENTER:
            return CR
        if code == codes.KEY_TAB:
            return "\t"
        if code in codes.KEYPAD:
            return codes.KEYPAD[code]
        if code == codes.KEY_KPDOT:
            return self.layout.kpdot
        if self.ctrl:
            return self._control(code)
        return self._printable(code)

    def _modifiers_changed(self):
        self.ctrl = self._has(_CTRLS)
        if self.layout.has_altgr and codes.KEY_RIGHTALT in self.held:
            self.column = ALTGR
        elif self._has(_SHIFTS):
            self.column = SHIFT
        else:
            self.column = BASE

    def _modifier(self, code, value):
        if value == codes.DOWN:
            self.held.add(code)
            self._modifiers_changed()
            if self._is_alt(code):
                self.alt_code = ""
            return ""
        self.held.discard(code)
        self._modifiers_changed()
        if not self._is_alt(code) or self.alt_code is None:
            return ""
        digits, self.alt_code = self.alt_code, None
        if not digits:
            return ""
        number = int(digits)
        if number > 127:
            return self._fail("Alt+keypad code %s is not an ASCII character (expected 0 to 127)" % digits)
        self.control_method = ALT
        return chr(number)

    def _alt_digit(self, code):
        for digit, keypad_code in enumerate(codes.KEYPAD_DIGITS):
            if keypad_code == code:
                self.alt_code += str(digit)
                return ""
        return self._fail("Alt+key code %d: only keypad digits are expected while Alt is held" % code)

    def _character(self, code):
        entry = self.keys.get(code)
        if entry is None:
            return ""
        column = self.column
        if self.caps and entry[3] and column != ALTGR:
            column = 1 - column
        return entry[column]

    def _control(self, code):
        ch = self._character(code)
        if self.column != ALTGR and code in _CTRL_KEYS:
            self.control_method = CTRL
            return _CTRL_KEYS[code]
        if ch in _CARET:
            self.control_method = CTRL_LAYOUT
            return _CARET[ch]
        return self._fail(
            "Ctrl+%r (key code %d) on the %s layout is not GS, RS or EOT: only Ctrl+], Ctrl+^ and Ctrl+D "
            "are expected" % (ch, code, self.layout.title())
        )

    def _printable(self, code):
        ch = self._character(code)
        if ch:
            return ch
        if code in self.keys:
            return self._fail(
                "key code %d is a dead key on the %s layout: no GS1 character is typed there"
                % (code, self.layout.title())
            )
        return self._fail("key code %d types no character on the %s layout" % (code, self.layout.title()))


def decode_keys(events, layout="us", function_keys=None):
    """Decode a whole list of ``(code, value)`` events: ``(text, "")`` or ``(None, error)``.

    Enter is kept as CR; framing (``fmd_core.framing``) is what splits scans.
    """
    decoder = KeyDecoder(layout, function_keys)
    out = []
    for code, value in events:
        ch = decoder.key(code, value)
        if ch is None:
            return None, decoder.error
        out.append(ch)
    return "".join(out), ""


def _press(events, code, modifiers):
    for modifier in modifiers:
        events.append((modifier, codes.DOWN))
    events.append((code, codes.DOWN))
    events.append((code, codes.UP))
    for modifier in reversed(modifiers):
        events.append((modifier, codes.UP))


_LEVEL_MODIFIERS = {BASE: (), SHIFT: (codes.KEY_LEFTSHIFT,), ALTGR: (codes.KEY_RIGHTALT,)}


def _type_control(events, layout, ch, control):
    if control == DROP:
        return
    if control == ALT:
        events.append((codes.KEY_LEFTALT, codes.DOWN))
        number = "%03d" % ord(ch)
        for digit in number:
            _press(events, codes.KEYPAD_DIGITS[int(digit)], ())
        events.append((codes.KEY_LEFTALT, codes.UP))
        return
    if control == CTRL:
        code, modifiers = _CTRL_TYPED[ch]
        _press(events, code, (codes.KEY_LEFTCTRL,) + modifiers)
        return
    if control == CTRL_LAYOUT:
        for caret in _CARET:
            if _CARET[caret] == ch and caret in layout.reverse:
                code, level = layout.reverse[caret]
                _press(events, code, (codes.KEY_LEFTCTRL,) + _LEVEL_MODIFIERS[level])
                return
        # the layout has no such key (``^`` is a dead key on DE): scanners fall back to the US position
        _type_control(events, layout, ch, CTRL)
        return
    raise KeyboardError(
        "unknown control-character mode %r: expected one of %s" % (control, ", ".join(CONTROL_MODES))
    )


def type_text(
    text, layout="us", control=CTRL, suffix=CR, caps_inverted=False, substitutes=None, function_keys=None
):
    """The ``(code, value)`` key events a scanner set to ``layout`` sends for ``text`` then ``suffix``.

    ``control`` is how GS, RS and EOT are sent (``CONTROL_MODES``); ``substitutes`` maps a control
    character to the printable character a scanner's formatter sends instead (``{GS: "|"}``).
    ``caps_inverted`` types letters with Shift inverted, as a scanner does when it compensates for a
    Caps Lock it believes is on (SCANNERS-AND-HARDWARE.md 1.4). ``suffix`` is ``"\\r"`` (Enter),
    ``"\\t"`` (Tab) or ``""``. ``function_keys`` maps a control character to the key a scanner's
    function-key mapping sends for it (``{GS: KEY_DOWN}``).
    """
    keyboard = get_layout(layout)
    events = []
    for ch in text + suffix:
        if substitutes and ch in substitutes:
            ch = substitutes[ch]
        if function_keys and ch in function_keys:
            _press(events, function_keys[ch], ())
        elif ch in CONTROL_NAMES:
            _type_control(events, keyboard, ch, control)
        elif ch == CR:
            _press(events, codes.KEY_ENTER, ())
        elif ch == "\t":
            _press(events, codes.KEY_TAB, ())
        elif ch in keyboard.reverse:
            code, level = keyboard.reverse[ch]
            if caps_inverted and level != ALTGR and keyboard.keys[code][3]:
                level = 1 - level
            _press(events, code, _LEVEL_MODIFIERS[level])
        else:
            raise KeyboardError("character %r cannot be typed on the %s layout" % (ch, keyboard.title()))
    return events
