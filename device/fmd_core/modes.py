"""The terminal's modes and the texts of the mode barcodes that switch between them.

Modes (Reg. (EU) 2016/161):
  dispense  decommission as supplied to the public (Art. 25(1)); the default at a pharmacy counter
  verify    verify the safety features only (Art. 10, 25(1)); changes nothing in the repository
  undo      revert a decommissioning done by this terminal (Art. 13: same place, within 10 days)
  destroy   decommission as destroyed (Art. 25(3) with Art. 12)
  receive   hospital: verify and decommission at receipt (Art. 25(2)); sent as a dispense

A mode barcode is a Code 128 symbol printed on the mode sheet (``fmd-provision sheet``). The scanner
delivers its text, usually behind an AIM symbology identifier (``]C0``; SCANNERS-AND-HARDWARE.md
section 3), which ``mode_of_scan`` ignores. The texts use only capital letters and "-" so that they
read the same under every supported keyboard layout, and can never be taken for a pack code
(PACK-CODES.md: a GS1 element string starts with digits, an IFA code with "[)>" or "9N").
"""

DISPENSE = "dispense"
VERIFY = "verify"
UNDO = "undo"
DESTROY = "destroy"
RECEIVE = "receive"

MODES = (DISPENSE, VERIFY, UNDO, DESTROY, RECEIVE)
DEFAULT_MODE = DISPENSE

# mode -> the exact text the scanner delivers for that mode's barcode (without AIM prefix).
MODE_CODES = {
    DISPENSE: "FMD-MODE-DISPENSE",
    VERIFY: "FMD-MODE-VERIFY",
    UNDO: "FMD-MODE-UNDO",
    DESTROY: "FMD-MODE-DESTROY",
    RECEIVE: "FMD-MODE-RECEIVE",
}

_MODE_BY_CODE = {text: mode for mode, text in MODE_CODES.items()}

# The device's role (issue 17): what a site lets this terminal do. A mode barcode or the mode button
# never takes the device out of its role's modes. No role (the default) keeps every mode, and receive
# decommissions as it always did.
COUNTER = "counter"  # a pharmacy counter: dispense (Art. 25(1)), and the counter's other operations
RECEPTION = "reception"  # a community pharmacy's reception: verify only (decommission later, at the counter)
PUI_DOCK = "pui_dock"  # a hospital pharmacy's dock: verify and decommission on receipt (Art. 25(2))
ROLES = (COUNTER, RECEPTION, PUI_DOCK)
ROLE_MODES = {
    COUNTER: (DISPENSE, VERIFY, UNDO, DESTROY),
    RECEPTION: (RECEIVE, VERIFY),
    PUI_DOCK: (RECEIVE, VERIFY, UNDO, DESTROY),
}

# A delivery note's barcode (issue 17): ``FMD-NOTE-`` and the note's reference (what the note file's
# reference column, or its file name, says); scanning it starts a receiving session on that note. The
# close code ends the session and shows its tally. Printed by the pharmacy (a label on the note, or the
# mode sheet) or configured as a scanner prefix before a wholesaler's own note number.
NOTE_PREFIX = "FMD-NOTE-"
CLOSE_CODE = "FMD-RECEIVE-END"

# The mode sheet's code that asks for the quarter's figure on the screen (issue 14, item 6: the count of
# decommissions the service accepted this quarter and the date of the last one); the mode stays.
REPORT_CODE = "FMD-REPORT-QUARTER"

# The mode sheet's code that shows the web console's address on the screen as a QR code (issue 15: an
# installer or a pharmacist reaches the console with a phone, no address to type); the mode stays.
ADMIN_CODE = "FMD-MODE-ADMIN"

# The outbox operation kind (OFFLINE-QUEUE.md section 3) each mode requests.
OP_KIND = {
    DISPENSE: "dispense",
    VERIFY: "verify",
    UNDO: "undo_dispense",
    DESTROY: "destroy",
    RECEIVE: "dispense",
}


def modes_of(role):
    """The modes a device of ``role`` may be in, in button order (every mode without a role)."""
    return ROLE_MODES.get(role or "", MODES)


def op_kind(mode, role=None):
    """The outbox op kind a scan in ``mode`` requests: at a reception, receive only verifies."""
    if mode == RECEIVE and role == RECEPTION:
        return VERIFY
    return OP_KIND[mode]


def _strip_aim(text):
    """Drop a leading AIM symbology identifier ``]`` + letter + modifier character (ISO/IEC 15424)."""
    if len(text) >= 3 and text[0] == "]":
        return text[3:]
    return text


def mode_of_scan(text):
    """The mode a scanned text switches to, or None when the text is not a mode barcode.

    Trailing CR/LF (a scanner suffix) and surrounding spaces are ignored; case is not.
    """
    return _MODE_BY_CODE.get(_strip_aim(text.strip()))


def is_report_scan(text):
    """True when a scanned text is the mode sheet's quarter report code (same rules as ``mode_of_scan``)."""
    return _strip_aim(text.strip()) == REPORT_CODE


def is_admin_scan(text):
    """True when a scanned text is the mode sheet's console address code (same rules as ``mode_of_scan``)."""
    return _strip_aim(text.strip()) == ADMIN_CODE


def note_reference_of_scan(text):
    """The delivery note reference a scanned text names (``FMD-NOTE-<reference>``), else None."""
    code = _strip_aim(text.strip())
    if code.startswith(NOTE_PREFIX) and len(code) > len(NOTE_PREFIX):
        return code[len(NOTE_PREFIX):]
    return None


def is_close_scan(text):
    """True when a scanned text is the receiving session's close code."""
    return _strip_aim(text.strip()) == CLOSE_CODE


def is_mode(name):
    return name in MODES
