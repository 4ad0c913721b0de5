"""fmd_core: the portable core of the FMD scan terminal (CPython >= 3.11 and MicroPython).

No I/O, no clock, no logging (ARCHITECTURE.md, "The portable core's rules"). Pack-code decoding,
keyboard decoding, scan framing, the terminal flow and the outcome-to-feedback mapping live here.
"""

from fmd_core.decoder import decode_scan

__all__ = ["decode_scan"]
