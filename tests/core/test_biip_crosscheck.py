"""Cross-check with biip 5.2 (dev dependency): the valid table cases biip supports, field by field.

biip parses GS1 element strings, GS1 Digital Link URIs and linear GTINs; it does not parse
ISO/IEC 15434 envelopes (IFA format 06, format 05), so those cases are not compared. Every
disagreement must be in ``EXPLAINED`` with its reason; a new one (or one that went away) fails.
"""

from __future__ import annotations

import biip
import pytest
from table_loader import load_table

from fmd_core.substitutes import DEFAULT_SUBSTITUTES

FIELDS = ("product_code", "serial", "batch", "expiry_raw", "expiry")
SUPPORTED_SCHEMES = ("GS1", "DigitalLink", "linear")

# case id -> why biip and fmd_core differ (and why fmd_core follows PACK-CODES.md).
EXPLAINED = {
    "dl-in-datamatrix": "biip reads data behind ]d1 as a GS1 element string and fails on a URI; a Data Matrix "
    "without FNC1 (]d1) may carry a Digital Link URI (GS1 GenSpecs 5.7, PACK-CODES.md input table).",
    "dl-in-qr": "biip reads data behind ]Q1 as a GS1 element string and fails on a URI; Digital Link URIs "
    "are carried in plain QR codes (]Q1), which PACK-CODES.md accepts (with warning not_data_matrix).",
    "dl-upper-case-scheme-and-host": "biip accepts only lower-case http(s)://; RFC 3986 sections 3.1 and 3.2.2 "
    "and PACK-CODES.md make scheme and host case-insensitive.",
    "gs1-dotcode": "biip raises on the AIM identifier ]J1 (GS1 DotCode, ISO/IEC 15424); PACK-CODES.md lists it "
    "as a GS1 carrier (decoded, with warning not_data_matrix).",
    "stand-in-leading-and-trailing": "biip rejects a leading separator; fmd_core reads a leading GS (or its "
    "stand-in) as the first-position FNC1 (GenSpecs 7.8.3, PACK-CODES.md: a leading GS is ignored).",
}


def _load_table():
    return load_table("pack_codes")


def _biip_fields(raw: str, substitutes, scheme: str) -> dict | str:
    """Our contract's fields as biip sees them, or a string saying why biip gave none."""
    single = [
        s for s in (DEFAULT_SUBSTITUTES if substitutes is None else ["\x1d", *substitutes]) if len(s) == 1
    ]
    multi = [s for s in (DEFAULT_SUBSTITUTES if substitutes is None else substitutes) if len(s) > 1]
    for stand_in in multi:  # biip's separator_chars takes single characters only
        raw = raw.replace(stand_in, "\x1d")
    raw = raw.rstrip("\r\n")  # biip does not strip scanner suffixes
    try:
        result = biip.parse(raw, config=biip.ParseConfig(separator_chars=tuple(single)))
    except biip.ParseError as error:
        return f"biip raised: {error}"
    source = result.gs1_message or result.gs1_digital_link_uri
    if source is not None and scheme != "linear":
        elements = {es.ai.ai: es for es in source.element_strings}
        expiry = elements.get("17")
        return {
            "product_code": elements["01"].value.zfill(14) if "01" in elements else None,
            "serial": elements["21"].value if "21" in elements else None,
            "batch": elements["10"].value if "10" in elements else None,
            "expiry_raw": expiry.value if expiry else None,
            "expiry": expiry.date.isoformat() if expiry and expiry.date else None,
        }
    if result.gtin is not None:
        return dict.fromkeys(FIELDS) | {"product_code": result.gtin.value.zfill(14)}
    return f"biip parsed nothing: {result.gs1_digital_link_uri_error or result.gs1_message_error or result.gtin_error}"


def disagreements() -> dict[str, str]:
    table = _load_table()
    found = {}
    for case in table.CASES:
        expect = case.get("expect")
        if expect is None or expect.get("scheme") not in SUPPORTED_SCHEMES:
            continue
        if case.get("current_year") is not None:
            continue  # biip's century window follows the real clock; these cases pin another year
        if "[)>" in case["raw"]:
            continue  # ISO/IEC 15434 format 05: biip has no envelope parser
        theirs = _biip_fields(case["raw"], case.get("substitutes"), expect["scheme"])
        if isinstance(theirs, str):
            found[case["id"]] = theirs
            continue
        ours = {field: expect[field] for field in FIELDS if field in expect}
        differing = [
            f"{field}: ours {ours[field]!r}, biip {theirs[field]!r}"
            for field in ours
            if ours[field] != theirs[field]
        ]
        if differing:
            found[case["id"]] = "; ".join(differing)
    return found


def test_compared_cases_are_many():
    table = _load_table()
    compared = [c for c in table.CASES if c.get("expect", {}).get("scheme") in SUPPORTED_SCHEMES]
    assert len(compared) >= 150


def test_every_disagreement_with_biip_is_explained():
    found = disagreements()
    report = "\n".join(f"  {case_id}: {what}" for case_id, what in sorted(found.items()))
    unexplained = sorted(set(found) - set(EXPLAINED))
    gone = sorted(set(EXPLAINED) - set(found))
    assert not unexplained, f"new disagreements with biip:\n{report}"
    assert not gone, f"explained disagreements that no longer occur: {gone}"


@pytest.mark.parametrize("case_id", sorted(EXPLAINED))
def test_explained_disagreement_has_a_reason(case_id):
    assert len(EXPLAINED[case_id]) > 40
