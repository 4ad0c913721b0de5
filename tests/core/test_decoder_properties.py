"""Property tests of ``decode_scan`` (hypothesis, derandomized so CI is reproducible).

- Arbitrary text never makes it raise, and every result keeps the contract (PACK-CODES.md).
- Random valid pack identifiers, encoded as GS1 element strings (random AI order and separator
  placement), as Digital Link URIs and as IFA format 06 envelopes, decode back to themselves.
The encoders and check digits here are written independently of ``fmd_core``.
"""

from __future__ import annotations

import calendar
import json
import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st
from table_loader import load_table

from fmd_core import decode_scan
from fmd_core.result import REASON_CODES, WARNINGS

GS, RS, EOT = "\x1d", "\x1e", "\x04"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
YEAR = 2026
PROPERTY = settings(max_examples=300, derandomize=True, deadline=None)
FUZZ = settings(max_examples=1500, derandomize=True, deadline=None)

OK_KEYS = set(load_table("pack_codes").CONTRACT_OK_KEYS)  # the contract's keys, written once


def gs1_check(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def ppn_check(data: str) -> str:
    return f"{sum(ord(c) * (i + 2) for i, c in enumerate(data)) % 97:02d}"


def full_year(yy: int) -> int:
    return 2000 + yy if yy - 26 < 51 and yy - 26 > -50 else 1900 + yy


@st.composite
def gtins(draw):
    body = draw(st.sampled_from(["0340093", "0415003", "0400638", "0540000", "0380012"]))
    body += draw(st.text("0123456789", min_size=6, max_size=6))
    return body + gs1_check(body)


@st.composite
def ppns(draw):
    while True:
        pzn7 = draw(st.text("0123456789", min_size=7, max_size=7))
        remainder = sum(int(d) * (i + 1) for i, d in enumerate(pzn7)) % 11
        if remainder != 10:
            break
    data = "11" + pzn7 + str(remainder)
    return data + ppn_check(data)


@st.composite
def expiries(draw):
    yy = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(full_year(yy), month)[1]
    day = draw(st.integers(0, last))
    raw = f"{yy:02d}{month:02d}{day:02d}"
    return raw, f"{full_year(yy):04d}-{month:02d}-{day or last:02d}"


values = st.text(CSET82, min_size=1, max_size=20)


@FUZZ
@given(st.text(st.characters(exclude_categories=())))
def test_arbitrary_text_never_raises(raw):
    """Any code point, lone surrogates included (they reach Python from broken input decoders)."""
    _assert_contract(decode_scan(raw))


PIECES = st.sampled_from(
    [
        "]d2",
        "]Q3",
        "]d1",
        "]E0",
        "[)>",
        RS,
        GS,
        EOT,
        "06",
        "05",
        "01",
        "17",
        "10",
        "21",
        "9N",
        "1T",
        "D",
        "S",
        "https://a.b/01/",
        "?17=",
        "&",
        "%",
        "%2",
        "/",
        "\r\n",
        "0",
        "9",
        "00",
        "714",
        "~",
        "|",
        "{GS}",
        "é",
        " ",
    ]
)


@FUZZ
@given(st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=12).map("".join))
def test_code_like_text_never_raises(raw):
    _assert_contract(decode_scan(raw))


def _assert_contract(result):
    data = result.as_dict()
    json.dumps(data)  # always serialisable
    if data["ok"]:
        assert set(data) == OK_KEYS
        assert set(data["warnings"]) <= set(WARNINGS)
    else:
        assert set(data) == {"ok", "error", "message"}
        assert data["error"] in REASON_CODES
        assert data["message"].startswith("Scan ")


def _assert_identity(result, product_code, serial, batch, expiry):
    assert result.ok, result.as_dict()
    assert (result.product_code, result.serial, result.batch) == (product_code, serial, batch)
    assert (result.expiry_raw, result.expiry) == expiry
    assert result.is_pack_identifier


@PROPERTY
@given(gtins(), values, values, expiries(), st.randoms(use_true_random=False), st.data())
def test_element_strings_decode_to_the_same_identifier(gtin, serial, batch, expiry, rnd, data):
    elements = [("01", gtin, True), ("17", expiry[0], True), ("10", batch, False), ("21", serial, False)]
    nhrn = data.draw(st.none() | st.tuples(st.sampled_from([f"71{n}" for n in range(8)]), values))
    if nhrn is not None:
        elements.append((nhrn[0], nhrn[1], False))
    rnd.shuffle(elements)
    text = data.draw(st.sampled_from(["]d2", "", "]d2" + GS, GS]))
    for index, (ai, value, fixed) in enumerate(elements):
        text += ai + value
        last = index == len(elements) - 1
        if (not fixed and not last) or data.draw(st.booleans()):
            text += GS  # required after a variable-length value, allowed anywhere else
    result = decode_scan(text, current_year=YEAR)
    _assert_identity(result, gtin, serial, batch, expiry)
    assert result.nhrn == (None if nhrn is None else {"ai": nhrn[0], "value": nhrn[1]})


@PROPERTY
@given(gtins(), values, values, expiries(), st.booleans())
def test_digital_links_decode_to_the_same_identifier(gtin, serial, batch, expiry, batch_in_query):
    quote = lambda value: urllib.parse.quote(value, safe="")  # noqa: E731
    if batch_in_query:
        # GS1 Digital Link 4.3: a key qualifier of the primary key belongs in the path, never the query.
        uri = f"https://id.example.com/01/{gtin}/21/{quote(serial)}?17={expiry[0]}&10={quote(batch)}"
        assert decode_scan(uri, current_year=YEAR).error == "invalid_dl_uri"
        return
    uri = f"HTTPS://Id.Example.com/01/{gtin}/10/{quote(batch)}/21/{quote(serial)}?linkType=all&17={expiry[0]}"
    _assert_identity(decode_scan(uri, current_year=YEAR), gtin, serial, batch, expiry)


@PROPERTY
@given(ppns(), values, values, expiries(), st.randoms(use_true_random=False), st.booleans())
def test_ifa_envelopes_decode_to_the_same_identifier(ppn, serial, batch, expiry, rnd, with_aim):
    fields = ["9N" + ppn, "1T" + batch, "D" + expiry[0], "S" + serial]
    rnd.shuffle(fields)
    raw = ("]d1" if with_aim else "") + "[)>" + RS + "06" + GS + GS.join(fields) + RS + EOT
    result = decode_scan(raw, current_year=YEAR)
    _assert_identity(result, ppn, serial, batch, expiry)
    assert result.product_code_scheme == "PPN"
