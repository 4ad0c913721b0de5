"""``quote(text)``: the raw scan or a value in a message, the same on CPython and MicroPython.

``repr`` differs between the two (CPython shows printable non-ASCII characters as they are,
MicroPython escapes them), so decoder messages quote with this instead: single quotes (double
quotes when the text holds ``'`` and no ``"``, as ``repr`` does), ASCII printable characters as they
are, ``\\t`` ``\\n`` ``\\r`` ``\\\\``, and every other character as ``\\xHH``, ``\\uHHHH`` or
``\\UHHHHHHHH`` (the escapes of Python's ``ascii()``).
"""

_SIMPLE = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def quote(text) -> str:
    """``text`` quoted as Python's ``ascii()`` would (one portable spelling of any string)."""
    if not isinstance(text, str):
        return repr(text)
    mark = '"' if ("'" in text and '"' not in text) else "'"
    out = [mark]
    for char in text:
        code = ord(char)
        if char in _SIMPLE:
            out.append(_SIMPLE[char])
        elif char == mark:
            out.append("\\" + char)
        elif 32 <= code < 127:
            out.append(char)
        elif code < 0x100:
            out.append("\\x%02x" % code)
        elif code < 0x10000:
            out.append("\\u%04x" % code)
        else:
            out.append("\\U%08x" % code)
    out.append(mark)
    return "".join(out)
