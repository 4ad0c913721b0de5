"""Round trip per layout (issue 4 item 1; SCANNERS-AND-HARDWARE.md 1.3 "Adding a layout", 7.1).

Every character of GS1 character set 82, ``]`` (the AIM prefix) and each control character GS, RS
and EOT, typed as a scanner set to that layout types it (``type_text``), decodes back exactly, for
every way of sending control characters, with and without a Caps Lock the scanner compensates for.
A case: ``{"id", "layout", "control", "caps", "text"}``; caps means the stream starts with a Caps
Lock press and the scanner inverts Shift on letters to compensate.
"""

from fmd_core.keyboard import (
    ALT,
    CONTROL_MODES,
    CSET82,
    CTRL,
    CTRL_LAYOUT,
    EOT,
    GS,
    RS,
    codes,
    decode_keys,
    type_text,
)
from fmd_core.keyboard.layouts import LAYOUTS

CALIBRATION_TEXT = "]d2" + CSET82 + GS + "91" + RS + EOT + "]"

CASES = []
for _layout in sorted(LAYOUTS):
    for _ch in CSET82 + "]" + GS + RS + EOT:
        CASES.append(
            {
                "id": f"{_layout}-char-{ord(_ch)}",
                "layout": _layout,
                "control": CTRL,
                "caps": False,
                "text": _ch,
            }
        )
    for _control in (CTRL, CTRL_LAYOUT, ALT):
        for _caps in (False, True):
            CASES.append(
                {
                    "id": "{}-{}-{}".format(_layout, _control, "caps" if _caps else "nocaps"),
                    "layout": _layout,
                    "control": _control,
                    "caps": _caps,
                    "text": CALIBRATION_TEXT,
                }
            )


def check(case):
    layout, control, caps, text = case["layout"], case["control"], case["caps"], case["text"]
    if control not in CONTROL_MODES:
        return f"unknown control mode {control!r}"
    events = type_text(text, layout, control, caps_inverted=caps)
    if caps:
        events = [(codes.KEY_CAPSLOCK, codes.DOWN), (codes.KEY_CAPSLOCK, codes.UP)] + events
    got, error = decode_keys(events, layout)
    if got != text + "\r":
        return f"{layout}/{control} caps={caps}: typed {text!r}, decoded {got!r} ({error})"
    return None
