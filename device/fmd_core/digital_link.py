"""GS1 Digital Link URIs carrying a GTIN (GS1 Digital Link Standard: URI Syntax, release 1.2).

The rules, by the standard's topics (and the GS1 Barcode Syntax Dictionary attributes it uses):

- Path: ``{scheme}://{host}[/prefix]/01/{gtin}[/22/..][/10/..][/21/..]``: the primary key, then its
  key qualifiers in the order the Syntax Dictionary's ``dlpkey=22,10,21|235`` gives. Qualifiers
  out of order, a trailing ``/`` or an empty segment is ``invalid_dl_uri``. A GTIN-8/12/13 is
  padded to 14 digits (section 4.6).
- Query string: data attributes only, the AIs the Syntax Dictionary flags ``?``; non-numeric keys
  (``linkType``, ...) are not data and are ignored, a numeric key that is no AI is ``unknown_ai``.
  A key qualifier of the path's primary key may not be in the query: it belongs in the path (GS1's
  Syntax Engine: "should be in the path info"), so ``/01/../10/..?21=..`` is ``invalid_dl_uri``.
- Each AI at most once in the whole URI, path and query together (the Syntax Engine: "AI is
  duplicated"): a repeat is ``duplicate_ai``, even with the same value.
- Values are percent-decoded (RFC 3986 section 2.1); in the query ``+`` is a space (which then
  fails character set 82). Scheme and host are case-insensitive (RFC 3986 3.1, 3.2.2); any host is
  accepted; the fragment is ignored (RFC 3986 3.5).
"""

from fmd_core import result as R
from fmd_core.ai_table import AI_TABLE
from fmd_core.gs1 import DIGITS, check_value
from fmd_core.quoting import quote

_HEX = "0123456789abcdefABCDEF"
_GTIN_LENGTHS = (8, 12, 13, 14)


def is_digital_link(text: str) -> bool:
    head = text[:8].lower()
    return head.startswith("http://") or head.startswith("https://")


def _percent_decode(text: str, plus_is_space: bool) -> str:
    """RFC 3986 percent-decoding into UTF-8 text; a broken escape is ``invalid_dl_uri``.

    Runs of escapes are decoded as UTF-8 together; the characters between them are kept as they
    are (a non-ASCII one then fails character set 82 with the value quoted).
    """
    if plus_is_space and "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    pieces = text.split("%")
    out = [pieces[0]]
    pending = bytearray()
    for piece in pieces[1:]:
        pair = piece[:2]
        if len(pair) != 2 or pair[0] not in _HEX or pair[1] not in _HEX:
            raise R.Rejection(R.INVALID_DL_URI, "%s is not a percent-escape (expected %%XX)" % quote("%" + pair))
        pending.append(int(pair, 16))
        if len(piece) > 2:
            out.append(_utf8(pending, text))
            pending = bytearray()
            out.append(piece[2:])
    if pending:
        out.append(_utf8(pending, text))
    return "".join(out)


def _utf8(data: bytearray, text: str) -> str:
    decoded = None
    try:
        decoded = bytes(data).decode("utf-8")
    except UnicodeError:
        pass  # raised below, outside the handler (no exception chaining in the portable core)
    if decoded is None:
        raise R.Rejection(R.BAD_CHARSET, "percent-escaped value %s is not UTF-8 text" % quote(text))
    return decoded


def parse_digital_link(uri: str, current_year: int):
    """Split and check a Digital Link URI into a dict AI -> value (GTIN padded to 14 digits)."""
    rest = uri[uri.index("://") + 3 :]
    hash_at = rest.find("#")
    if hash_at >= 0:
        rest = rest[:hash_at]  # the fragment is not sent to the resolver (RFC 3986 section 3.5)
    query = ""
    query_at = rest.find("?")
    if query_at >= 0:
        query = rest[query_at + 1 :]
        rest = rest[:query_at]
    slash = rest.find("/")
    if slash <= 0:
        raise R.Rejection(R.NOT_A_PACK_CODE, "the URI has no path, expected /01/{GTIN}")
    segments = rest[slash + 1 :].split("/")
    start = -1
    for index in range(len(segments)):
        # The primary key: the first "01" that leaves key-value pairs after it (path prefix allowed).
        if segments[index] == "01" and (len(segments) - index) % 2 == 0:
            start = index
            break
    if start < 0:
        if segments[-1] == "" and len(segments) > 1:
            raise R.Rejection(R.INVALID_DL_URI, "the path ends with '/', expected /01/{GTIN}/... without it")
        raise R.Rejection(R.NOT_A_PACK_CODE, "the path has no /01/{GTIN} primary key")
    elements: dict = {}
    gtin = _percent_decode(segments[start + 1], False)
    if not gtin:
        raise R.Rejection(R.INVALID_DL_URI, "the path has an empty segment after /01/")
    if len(gtin) in _GTIN_LENGTHS and DIGITS.issuperset(gtin):
        gtin = "00000000000000"[len(gtin) :] + gtin  # GS1 Digital Link 1.2 section 4.6: GTIN-14
    check_value("01", gtin, current_year)
    elements["01"] = gtin
    qualifiers = AI_TABLE["01"][5] or ()
    sequence = None
    expected = 0
    for index in range(start + 2, len(segments), 2):
        ai = segments[index]
        value = _percent_decode(segments[index + 1], False)
        if not ai or not value:
            raise R.Rejection(R.INVALID_DL_URI, "the path has an empty segment, expected /{AI}/{value} pairs")
        if sequence is None:
            for candidate in qualifiers:
                if ai in candidate:
                    sequence = candidate
                    break
        if sequence is None or ai not in sequence or sequence.index(ai) < expected:
            raise R.Rejection(
                R.INVALID_DL_URI,
                "path AI %s is not a key qualifier in the order %s"
                % (quote(ai), " or ".join("/".join(s) for s in qualifiers)),
            )
        expected = sequence.index(ai) + 1
        check_value(ai, value, current_year)
        elements[ai] = value
    if query:
        _parse_query(query, elements, qualifiers, current_year)
    return elements


def _belongs_in_path(key: str, path_ais, qualifiers) -> bool:
    """Whether query AI ``key`` would extend the path's key-qualifier sequence (section 4.3)."""
    for sequence in qualifiers:
        if key not in sequence:
            continue
        fits = True
        for ai in path_ais:
            if ai != "01" and ai not in sequence:
                fits = False
        if fits:
            return True
    return False


def _parse_query(query: str, elements, qualifiers, current_year: int) -> None:
    path_ais = tuple(elements)
    for pair in query.split("&"):
        if not pair:
            continue
        equals = pair.find("=")
        key = pair if equals < 0 else pair[:equals]
        if not key or not DIGITS.issuperset(key):
            continue  # linkType, context, ... are not data
        if key not in AI_TABLE:
            raise R.Rejection(R.UNKNOWN_AI, "query key %s is not a GS1 AI" % quote(key))
        if not AI_TABLE[key][1]:
            raise R.Rejection(
                R.INVALID_DL_URI, "AI (%s) may not be a query attribute (it is a key or qualifier)" % key, key
            )
        previous = elements.get(key)
        if previous is not None:
            where = "in the path" if key in path_ais else "in the query"
            raise R.Rejection(
                R.DUPLICATE_AI,
                "AI (%s) appears twice, %s (%s) and in the query (%s)"
                % (key, where, quote(previous), quote(pair[equals + 1 :] if equals >= 0 else "")),
                key,
            )
        if _belongs_in_path(key, path_ais, qualifiers):
            raise R.Rejection(
                R.INVALID_DL_URI,
                "AI (%s) is a key qualifier of (01): it belongs in the path, before any later qualifier, "
                "not in the query" % key,
                key,
            )
        value = _percent_decode("" if equals < 0 else pair[equals + 1 :], True)
        check_value(key, value, current_year)
        elements[key] = value
