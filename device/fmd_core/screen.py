"""The screen model: what the terminal shows, independent of the device that draws it.

The flow (fmd_core.flow) produces a ``ScreenModel``; every screen adapter (OLED through luma.oled,
the console, the recording twin) draws the same model (ARCHITECTURE.md, principle 1). Texts are
already translated when they reach the model; the model holds at most what a 128x64 OLED shows
legibly: a light, a headline, up to three detail lines, a mode label and a badge
(SCANNERS-AND-HARDWARE.md section 4; VERIFICATION-SERVICE.md section 10).
"""

LIGHTS = ("green", "amber", "red")


class ScreenModel:
    """One screenful. Treated as immutable.

    light:    "green", "amber", "red" or None (idle, working or neutral screens)
    headline: the verdict in a few words ("Boîte authentique")
    lines:    up to three short detail lines (product code, serial tail, service code ...)
    mode:     the active mode's label ("DÉLIVRER", "VÉRIFIER" ...)
    badge:    short status text shown in a corner, e.g. the pending count "3 en attente", or ""
    busy:     True while waiting for the service ("CHECKING"), so a screen may animate
    qr:       a text to draw as a QR code beside the lines (the web console's address, issue 15), or ""
    """

    __slots__ = ("light", "headline", "lines", "mode", "badge", "busy", "qr")

    def __init__(self, light=None, headline="", lines=(), mode="", badge="", busy=False, qr=""):
        self.light = light
        self.headline = headline
        self.lines = tuple(lines)
        self.mode = mode
        self.badge = badge
        self.busy = busy
        self.qr = qr

    def as_dict(self):
        return {
            "light": self.light,
            "headline": self.headline,
            "lines": list(self.lines),
            "mode": self.mode,
            "badge": self.badge,
            "busy": self.busy,
            "qr": self.qr,
        }

    def __eq__(self, other):
        return isinstance(other, ScreenModel) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return "ScreenModel(%r)" % (self.as_dict(),)
