"""Keyboard-wedge stand-ins for the group separator (PACK-CODES.md, "Keyboard-wedge group separators").

Scanners used as keyboards often cannot type ASCII 29 (GS); they are configured to send a stand-in
instead. The default list holds GS itself and stand-ins that cannot occur in GS1 data (they are not
in character set 82, GenSpecs Figure 7.11-1). ``<GS>`` is accepted only when configured: its four
characters are legal GS1 data. A missing separator is never guessed back.
"""

from fmd_core.errors import ConfigurationError
from fmd_core.gs1 import GS

DEFAULT_SUBSTITUTES = (GS, "|", "^", "~", "@", "{GS}", "[GS]")


def prepare(substitutes):
    """A configured list as a tuple of stand-ins, longest first (``{GS}`` before ``{``), GS excluded.

    Raises ``ConfigurationError`` when ``substitutes`` is not a list or tuple of non-empty strings.
    """
    if substitutes is None:
        substitutes = DEFAULT_SUBSTITUTES
    if not isinstance(substitutes, (list, tuple)):
        raise ConfigurationError("substitutes must be a list of strings, got %r" % (substitutes,))
    unique = []
    for stand_in in substitutes:
        if not isinstance(stand_in, str) or not stand_in:
            raise ConfigurationError("a separator stand-in must be a non-empty string, got %r" % (stand_in,))
        if stand_in != GS and stand_in not in unique:
            unique.append(stand_in)
    return tuple(sorted(unique, key=len, reverse=True))


_DEFAULT = prepare(None)


def replace_stand_ins(text: str, stand_ins):
    """``(text, replaced)``: every stand-in replaced by GS, and whether any was found."""
    replaced = False
    for stand_in in stand_ins:
        if stand_in in text:
            text = text.replace(stand_in, GS)
            replaced = True
    return text, replaced
