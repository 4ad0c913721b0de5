"""Pack-code decoder cases, written from PACK-CODES.md and the GS1 rules it cites (not from the code).

A case: ``{"id", "raw", "expect": {field: value, ...}}`` for a valid code (only the fields named are
compared with ``as_dict()``), or ``{"id", "raw", "error": reason}`` for a rejected one. Optional
``"substitutes"`` (list of stand-ins) and ``"current_year"`` are passed to ``decode_scan``.
Check digits of the GTINs and PPNs below were computed by hand / an independent one-liner; the
expected ISO dates are written out, not computed.
"""

from fmd_core import decode_scan
from fmd_core.quoting import quote

GS = "\x1d"
RS = "\x1e"
EOT = "\x04"

# French NTINs (CIP13 behind 0, GS1 France prefix 03400), German NTINs (04150 + PZN8), others.
FR = "03400930012345"
FR2 = "03400930000120"
FR_CIP13 = "3400930012345"
DE = "04150037528643"  # NTIN of PZN 03752864
DE2 = "04150123456782"  # NTIN of PZN 12345678
BE = "05400000000010"
IT = "03800123456787"
EAN13 = "4006381333931"
EAN8 = "96385074"
UPCA = "614141000012"
PPN1 = "110375286414"  # published valid PPN (PZN 03752864)
PPN2 = "111234567842"  # published valid PPN (PZN 12345678)

CONTRACT_OK_KEYS = (
    "ok",
    "scheme",
    "product_code",
    "product_code_scheme",
    "serial",
    "batch",
    "expiry",
    "expiry_raw",
    "nhrn",
    "symbology",
    "is_pack_identifier",
    "extra",
    "warnings",
)
CONTRACT_ERROR_KEYS = ("ok", "error", "message")


def gs1(gtin=FR, expiry="270630", batch="B123", serial="S456", prefix="]d2", tail=""):
    """01, 17 (fixed, no GS), 10 + GS, 21, then ``tail`` (which brings its own GS)."""
    return prefix + "01" + gtin + "17" + expiry + "10" + batch + GS + "21" + serial + tail


def ifa(fields, prefix="]d1", trailer=RS + EOT):
    return prefix + "[)>" + RS + "06" + GS + GS.join(fields) + trailer


def pack(scheme="GS1", gtin=FR, serial="S456", batch="B123", expiry="2027-06-30", raw="270630", **more):
    expect = {
        "scheme": scheme,
        "product_code": gtin,
        "product_code_scheme": "PPN" if scheme == "IFA" else "GTIN",
        "serial": serial,
        "batch": batch,
        "expiry": expiry,
        "expiry_raw": raw,
        "is_pack_identifier": True,
    }
    expect.update(more)
    return expect


CASES = []


def ok(case_id, raw, expect, **options):
    case = {"id": case_id, "raw": raw, "expect": expect}
    case.update(options)
    CASES.append(case)


def bad(case_id, raw, error, **options):
    case = {"id": case_id, "raw": raw, "error": error}
    case.update(options)
    CASES.append(case)


# --- input kinds -------------------------------------------------------------------------------
ok("gs1-datamatrix", gs1(), pack(symbology="]d2", nhrn=None, extra={}, warnings=[]))
ok("gs1-no-aim-prefix", gs1(prefix=""), pack(symbology=None, warnings=[]))
ok("gs1-qr", gs1(prefix="]Q3"), pack(symbology="]Q3", warnings=["not_data_matrix"]))
ok("gs1-128", gs1(prefix="]C1"), pack(symbology="]C1", warnings=["not_data_matrix"]))
ok("gs1-dotcode", gs1(prefix="]J1"), pack(symbology="]J1", warnings=["not_data_matrix"]))
ok(
    "gs1-ai-order-serial-first",
    "]d221S456" + GS + "0103400930012345" + "10B123" + GS + "17270630",
    pack(),
)
ok("gs1-ai-order-batch-last", "]d201" + FR + "21S456" + GS + "17270630" + "10B123", pack())
ok(
    "gs1-every-element-separated",
    "]d201" + FR + GS + "17270630" + GS + "10B123" + GS + "21S456",
    pack(),
)
ok(
    "dl-https",
    "https://id.gs1.org/01/" + FR + "/10/B123/21/S456?17=270630",
    pack("DigitalLink", symbology=None, warnings=[]),
)
ok("dl-http", "http://example.com/01/" + FR + "/10/B123/21/S456?17=270630", pack("DigitalLink"))
ok(
    "dl-upper-case-scheme-and-host",
    "HTTPS://ID.GS1.ORG/01/" + FR + "/10/B123/21/S456?17=270630",
    pack("DigitalLink"),
)
ok(
    "dl-in-qr",
    "]Q1https://id.gs1.org/01/" + FR + "/10/B123/21/S456?17=270630",
    pack("DigitalLink", symbology="]Q1", warnings=["not_data_matrix"]),
)
ok(
    "dl-in-datamatrix",
    "]d1https://id.gs1.org/01/" + FR + "/10/B123/21/S456?17=270630",
    pack("DigitalLink", symbology="]d1", warnings=[]),
)
bad(
    "dl-batch-in-query-belongs-in-path",
    "https://example.org/01/" + FR + "/21/S456?17=270630&10=B123",
    "invalid_dl_uri",
)
ok(
    "dl-path-prefix",
    "https://brand.example/products/01/" + FR + "/10/B123/21/S456?17=270630",
    pack("DigitalLink"),
)
ok(
    "dl-linktype-ignored",
    "https://id.gs1.org/01/" + FR + "/10/B123/21/S456?linkType=gs1:pip&17=270630",
    pack("DigitalLink", extra={}),
)
ok(
    "dl-gtin13-padded",
    "https://id.gs1.org/01/" + FR_CIP13 + "/10/B123/21/S456?17=270630",
    pack("DigitalLink"),
)
ok(
    "dl-percent-encoded-serial",
    "https://id.gs1.org/01/" + FR + "/10/B123/21/S%2F4%2556?17=270630",
    pack("DigitalLink", serial="S/4%56"),
)
ok(
    "dl-plus-literal-in-path",
    "https://id.gs1.org/01/" + FR + "/10/B+1/21/S+2?17=270630",
    pack("DigitalLink", batch="B+1", serial="S+2"),
)
ok(
    "dl-nhrn-in-query",
    "https://id.gs1.org/01/" + FR + "/10/B123/21/S456?17=270630&714=AB1234",
    pack("DigitalLink", nhrn={"ai": "714", "value": "AB1234"}),
)
ok(
    "dl-fragment-ignored",
    "https://id.gs1.org/01/" + FR + "/10/B123/21/S456?17=270630#top",
    pack("DigitalLink"),
)
ok(
    "ifa-format-06",
    ifa(["9N" + PPN1, "1TB123", "D270630", "SS456"]),
    pack("IFA", gtin=PPN1, symbology="]d1", nhrn=None, extra={}, warnings=[]),
)
ok(
    "ifa-format-06-no-aim",
    ifa(["9N" + PPN2, "SS456", "1TB123", "D270630"], prefix=""),
    pack("IFA", gtin=PPN2, symbology=None),
)
ok(
    "ifa-format-06-without-eot",
    ifa(["9N" + PPN1, "1TB123", "D270630", "SS456"], trailer=RS),
    pack("IFA", gtin=PPN1),
)
ok(
    "ifa-extras-kept",
    ifa(["9N" + PPN1, "1TB123", "D270630", "SS456", "16D20250115", "8P" + DE, "Q10"]),
    pack("IFA", gtin=PPN1, extra={"16D": "20250115", "8P": DE, "Q": "10"}),
)
ok(
    "ifa-expiry-day-00",
    ifa(["9N" + PPN1, "1TB123", "D270200", "SS456"]),
    pack("IFA", gtin=PPN1, expiry="2027-02-28", raw="270200"),
)
ok(
    "iso15434-format-05",
    "]d1[)>" + RS + "05" + GS + "01" + FR + "17270630" + "10B123" + GS + "21S456" + RS + EOT,
    pack("GS1", symbology="]d1"),
)
ok(
    "iso15434-format-05-no-aim",
    "[)>" + RS + "05" + GS + "01" + DE + "17270630" + "10B123" + GS + "21S456" + RS + EOT,
    pack("GS1", gtin=DE, symbology=None),
)
LINEAR = {
    "scheme": "linear",
    "product_code_scheme": "GTIN",
    "serial": None,
    "batch": None,
    "expiry": None,
    "expiry_raw": None,
    "nhrn": None,
    "is_pack_identifier": False,
}


def linear(gtin, **more):
    expect = dict(LINEAR)
    expect["product_code"] = gtin
    expect.update(more)
    return expect


ok("linear-ean13-cip13", FR_CIP13, linear(FR, symbology=None))
ok("linear-ean13-aim", "]E0" + EAN13, linear("0" + EAN13, symbology="]E0", warnings=["not_data_matrix"]))
ok("linear-ean8", EAN8, linear("000000" + EAN8))
ok("linear-ean8-aim", "]E4" + EAN8, linear("000000" + EAN8, symbology="]E4"))
ok("linear-upca-12", UPCA, linear("00" + UPCA))
ok("linear-gtin14", DE, linear(DE))
ok("linear-with-crlf", FR_CIP13 + "\r\n", linear(FR))
bad("linear-bad-check-digit", "3400930012346", "bad_check_digit")
bad("linear-aim-wrong-length", "]E034009300123", "bad_length")
bad("linear-aim-letters", "]E0340093001234X", "bad_charset")
# AIM payload shapes (ISO/IEC 15424 identifiers of EAN/UPC): ]E0 exactly 13 digits, ]E4 exactly 8.
bad("linear-aim-e0-gtin14", "]E0" + DE, "bad_length")
bad("linear-aim-e0-upca-12", "]E0" + UPCA, "bad_length")
bad("linear-aim-e0-ean8", "]E0" + EAN8, "bad_length")
bad("linear-aim-e4-ean13", "]E4" + EAN13, "bad_length")
bad("linear-aim-e4-7-digits", "]E4" + EAN8[:7], "bad_length")
bad("linear-aim-e0-letter", "]E0400638133393X", "bad_charset")
ok("linear-aim-e0-upca-as-13", "]E00" + UPCA, linear("00" + UPCA, symbology="]E0"))
# GS1 carriers (]d2 ]Q3 ]C1 ]J1 ]e0) carry a GS1 element string, starting with an AI; ]d1 and ]Q1
# carry an ISO/IEC 15434 envelope or a Digital Link URI, never bare AI data (no FNC1 first).
ok("gs1-databar-e0", gs1(prefix="]e0"), pack(symbology="]e0", warnings=["not_data_matrix"]))
bad("aim-q3-carrying-a-uri", "]Q3https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630", "unknown_ai")
bad("aim-c1-carrying-an-envelope", "]C1[)>" + RS + "06" + GS + "9N" + PPN1 + GS + "1TB" + RS + EOT, "unknown_ai")
bad("aim-d1-carrying-ai-data", gs1(prefix="]d1"), "not_a_pack_code")
bad("aim-q1-carrying-ai-data", gs1(prefix="]Q1"), "not_a_pack_code")

# --- every reason code, at least twice ---------------------------------------------------------
bad("check-digit-gtin", gs1(gtin="03400930012346"), "bad_check_digit")
bad("check-digit-gtin-de", gs1(gtin="04150037528644"), "bad_check_digit")
bad("check-digit-dl", "https://id.gs1.org/01/03400930012340/10/B/21/S?17=270630", "bad_check_digit")
bad("check-digit-ppn", ifa(["9N110375286415", "1TB", "D270630", "SS"]), "bad_check_digit")
bad("check-digit-pzn-inside-ppn", ifa(["9N110415005257", "1TB", "D270630", "SS"]), "bad_check_digit")
bad("date-month-13", gs1(expiry="271301"), "invalid_date")
bad("date-month-00", gs1(expiry="270001"), "invalid_date")
bad("date-day-32", gs1(expiry="270132"), "invalid_date")
bad("date-feb-30", gs1(expiry="270230"), "invalid_date")
bad("date-feb-29-non-leap", gs1(expiry="270229"), "invalid_date")
bad("date-ifa-month-13", ifa(["9N" + PPN1, "1TB", "D271300", "SS"]), "invalid_date")
bad("date-dl-query", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=271331", "invalid_date")
bad("date-ai-11", gs1(tail=GS + "11251301"), "invalid_date")
bad("missing-serial", "]d201" + FR + "17270630" + "10B123", "missing_serial")
bad("missing-serial-dl", "https://id.gs1.org/01/" + FR + "/10/B123?17=270630", "missing_serial")
bad("missing-serial-ifa", ifa(["9N" + PPN1, "1TB", "D270630"]), "missing_serial")
bad("missing-batch", "]d201" + FR + "17270630" + "21S456", "missing_batch")
bad("missing-batch-ifa", ifa(["9N" + PPN1, "SS", "D270630"]), "missing_batch")
bad("missing-batch-dl", "https://id.gs1.org/01/" + FR + "/21/S456?17=270630", "missing_batch")
bad("missing-expiry", "]d201" + FR + "10B123" + GS + "21S456", "missing_expiry")
bad("missing-expiry-ifa", ifa(["9N" + PPN1, "SS", "1TB"]), "missing_expiry")
bad("missing-expiry-dl", "https://id.gs1.org/01/" + FR + "/10/B/21/S", "missing_expiry")
bad("missing-product-code", "]d217270630" + "10B123" + GS + "21S456", "missing_product_code")
bad("missing-product-code-ifa", ifa(["SS", "1TB", "D270630"]), "missing_product_code")
bad("gtin-only-element-string", "]d201" + FR, "missing_serial")
bad("charset-space-in-serial", gs1(serial="S 456"), "bad_charset")
bad("charset-letter-in-gtin", gs1(gtin="0340093001234A"), "bad_charset")
bad("date-letter-in-expiry", gs1(expiry="27O630"), "invalid_date")
bad("date-letter-in-ai-11", gs1(tail=GS + "1125O115"), "invalid_date")
bad("date-letter-in-ifa-expiry", ifa(["9N" + PPN1, "1TB", "D27O630", "SS"]), "invalid_date")
bad("charset-non-ascii-batch", gs1(batch="B\u00e9"), "bad_charset")
bad(
    "charset-space-from-plus-in-query",
    "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&714=A+1",
    "bad_charset",
)
bad("charset-ifa-serial", ifa(["9N" + PPN1, "1TB", "D270630", "SS 1"]), "bad_charset")
bad("too-long-serial-21", gs1(serial="123456789012345678901"), "too_long")
bad("too-long-batch-21", gs1(batch="ABCDEFGHIJKLMNOPQRSTU"), "too_long")
bad("too-long-ifa-serial", ifa(["9N" + PPN1, "1TB", "D270630", "S" + "X" * 21]), "too_long")
bad("too-long-batch-swallowed-serial", "]d201" + FR + "17270630" + "10BATCH12345678921SERIAL", "too_long")
bad("bad-length-ifa-expiry", ifa(["9N" + PPN1, "1TB", "D2706", "SS"]), "bad_length")
bad("bad-length-gtin-before-gs", "]d20103400930012" + GS + "17270630", "bad_length")
bad("bad-length-ppn-short", ifa(["9N11037528641", "1TB", "D270630", "SS"]), "bad_check_digit")
bad("bad-length-ai-422", gs1(tail=GS + "42225"), "bad_length")
bad("unknown-ai-23", gs1(tail=GS + "23ABC"), "unknown_ai")
bad("unknown-ai-after-gs", gs1(tail=GS + "ABC"), "unknown_ai")
bad("unknown-ai-at-start", "]d2" + "0" + "5" + FR, "unknown_ai")
bad("unknown-ai-in-dl-query", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&99999=1", "unknown_ai")
bad("unknown-data-identifier-ifa", ifa(["9N" + PPN1, "1TB", "D270630", "SS", "12345"]), "unknown_ai")
bad("duplicate-ai-different-serial", gs1(tail=GS + "21OTHER"), "duplicate_ai")
bad("duplicate-ai-different-expiry", gs1(tail=GS + "17280630"), "duplicate_ai")
bad("duplicate-ai-ifa", ifa(["9N" + PPN1, "1TB", "D270630", "SS", "SS2"]), "duplicate_ai")
bad(
    "duplicate-ai-dl-path-and-query",
    "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&10=C",
    "duplicate_ai",
)
ok("duplicate-ai-same-value-accepted", gs1(tail=GS + "21S456"), pack())
ok("duplicate-ai-same-expiry-accepted", gs1(tail=GS + "17270630"), pack())
bad("exclusive-01-02", gs1(tail=GS + "02" + FR2 + "37" + "5"), "invalid_ai_combination")
bad("exclusive-21-235", gs1(tail=GS + "235ABC"), "invalid_ai_combination")
bad("exclusive-01-37", gs1(tail=GS + "3710"), "invalid_ai_combination")
bad("exclusive-01-255", gs1(tail=GS + "2550614141000012"), "invalid_ai_combination")
bad(
    "required-companion-250-needs-21-with-01",
    "]d201" + FR + "17270630" + "10B" + GS + "250X",
    "missing_serial",
)
bad("truncated-expiry", "]d201" + FR + "172706", "truncated")
bad("truncated-gtin", "]d2010340093001", "truncated")
bad("truncated-envelope", "]d1[)>" + RS + "06" + GS + "9N" + PPN1 + GS + "1TB", "truncated")
bad("truncated-aim-only", "]d2", "truncated")
bad("truncated-lone-ai-digit", gs1(tail=GS + "1"), "truncated")
bad("empty-value-batch", "]d201" + FR + "17270630" + "10" + GS + "21S", "empty_value")
bad("empty-value-serial-at-end", "]d201" + FR + "17270630" + "10B" + GS + "21", "empty_value")
bad("empty-value-ifa", ifa(["9N" + PPN1, "1T", "D270630", "SS"]), "empty_value")
bad("empty-value-dl-query", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=", "empty_value")
bad("missing-separator-after-fixed-ai-422", gs1(tail=GS + "42225021X"), "missing_separator")
bad("missing-separator-after-fixed-ai-8005", gs1(tail=GS + "800512345610C"), "missing_separator")
bad("not-a-pack-code-text", "hello world", "not_a_pack_code")
bad("not-a-pack-code-empty", "", "not_a_pack_code")
bad("not-a-pack-code-only-newline", "\r\n", "not_a_pack_code")
bad("not-a-pack-code-code39-aim", "]A0ABC123", "not_a_pack_code")
bad("not-a-pack-code-mode-barcode", "]C0FMD-MODE-VERIFY", "not_a_pack_code")
bad("not-a-pack-code-url-without-gtin", "https://example.com/", "not_a_pack_code")
bad("not-a-pack-code-dl-sscc", "https://id.gs1.org/00/106141412345678908", "not_a_pack_code")
bad("not-a-pack-code-envelope-format-07", "[)>" + RS + "07" + GS + "XYZ" + RS + EOT, "not_a_pack_code")
bad("not-a-pack-code-datamatrix-plain-text", "]d1hello", "not_a_pack_code")
bad("not-a-pack-code-none", None, "not_a_pack_code")
bad("not-a-pack-code-bytes", b"]d2010340093001234517270630", "not_a_pack_code")
bad("dl-serial-in-query", "https://id.gs1.org/01/" + FR + "/10/B?17=270630&21=S", "invalid_dl_uri")
bad("dl-qualifiers-out-of-order", "https://id.gs1.org/01/" + FR + "/21/S/10/B?17=270630", "invalid_dl_uri")
bad("dl-trailing-slash", "https://id.gs1.org/01/" + FR + "/10/B/21/S/?17=270630", "invalid_dl_uri")
bad("dl-trailing-slash-after-gtin", "https://id.gs1.org/01/" + FR + "/", "invalid_dl_uri")
bad(
    "dl-repeated-query-ai", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&17=270630", "duplicate_ai"
)
bad("dl-repeated-query-ai-other-value", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&17=280630", "duplicate_ai")
bad("dl-path-ai-repeated-in-query-same-value", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&10=B", "duplicate_ai")
bad("dl-gtin-repeated-in-query", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&01=" + FR, "duplicate_ai")
bad("dl-qualifier-22-in-query", "https://id.gs1.org/01/" + FR + "/10/B/21/S?17=270630&22=V1", "invalid_dl_uri")
bad("dl-serial-in-query-without-batch", "https://id.gs1.org/01/" + FR + "?17=270630&10=B&21=S", "invalid_dl_uri")
bad("dl-bad-percent-escape", "https://id.gs1.org/01/" + FR + "/10/B%2/21/S?17=270630", "invalid_dl_uri")
bad(
    "dl-repeated-path-qualifier",
    "https://id.gs1.org/01/" + FR + "/10/B/10/B/21/S?17=270630",
    "invalid_dl_uri",
)
bad("dl-unknown-path-qualifier", "https://id.gs1.org/01/" + FR + "/17/270630/10/B/21/S", "invalid_dl_uri")
bad("dl-empty-segment", "https://id.gs1.org/01/" + FR + "//B/21/S?17=270630", "invalid_dl_uri")

# --- every NHRN AI (710-717): returned as nhrn; 20 characters at most ---------------------------
for _index in range(8):
    _ai = "71" + str(_index)
    ok(
        "nhrn-" + _ai,
        gs1(tail=GS + _ai + "NAT" + _ai),
        pack(nhrn={"ai": _ai, "value": "NAT" + _ai}, extra={}),
    )
    bad("nhrn-" + _ai + "-too-long", gs1(tail=GS + _ai + "N" * 21), "too_long")
ok(
    "nhrn-de-pzn-with-de-ntin",
    gs1(gtin=DE, tail=GS + "71003752864"),
    pack(gtin=DE, nhrn={"ai": "710", "value": "03752864"}),
)
ok(
    "nhrn-fr-cip-first",
    "]d2" + "7113400930012345" + GS + gs1(prefix=""),
    pack(nhrn={"ai": "711", "value": "3400930012345"}),
)
ok("nhrn-20-characters", gs1(tail=GS + "714" + "A" * 20), pack(nhrn={"ai": "714", "value": "A" * 20}))
ok("nhrn-absent-is-null", gs1(), pack(nhrn=None))

# --- dates: DD=00 is the last day of the month (28-, 29-, 30- and 31-day months) ---------------
_LAST_2027 = ("31", "28", "31", "30", "31", "30", "31", "31", "30", "31", "30", "31")
for _month in range(1, 13):
    _mm = ("0" + str(_month)) if _month < 10 else str(_month)
    _last = _LAST_2027[_month - 1]
    ok(
        "dd00-2027-" + _mm,
        gs1(expiry="27" + _mm + "00"),
        pack(expiry="2027-" + _mm + "-" + _last, raw="27" + _mm + "00"),
    )
    ok(
        "last-day-2027-" + _mm,
        gs1(expiry="27" + _mm + _last),
        pack(expiry="2027-" + _mm + "-" + _last, raw="27" + _mm + _last),
    )
    bad("day-after-last-2027-" + _mm, gs1(expiry="27" + _mm + str(int(_last) + 1)), "invalid_date")
ok("dd00-feb-leap-2028", gs1(expiry="280200"), pack(expiry="2028-02-29", raw="280200"))
ok("feb-29-leap-2028", gs1(expiry="280229"), pack(expiry="2028-02-29", raw="280229"))
ok("dd00-feb-2100-not-leap", gs1(expiry="000200"), pack(expiry="2100-02-28", raw="000200"), current_year=2090)
ok("dd00-feb-2000-leap", gs1(expiry="000200"), pack(expiry="2000-02-29", raw="000200"), current_year=2010)
ok(
    "dd00-dl",
    "https://id.gs1.org/01/" + FR + "/10/B123/21/S456?17=270400",
    pack("DigitalLink", expiry="2027-04-30", raw="270400"),
)
ok("raw-expiry-kept-distinct-from-iso", gs1(expiry="270228"), pack(expiry="2027-02-28", raw="270228"))

# --- sliding century window (GenSpecs 7.12) ----------------------------------------------------
ok(
    "century-current-2026-yy76",
    gs1(expiry="760630"),
    pack(expiry="2076-06-30", raw="760630"),
    current_year=2026,
)
ok(
    "century-current-2026-yy77-previous",
    gs1(expiry="770630"),
    pack(expiry="1977-06-30", raw="770630"),
    current_year=2026,
)
ok(
    "century-current-2090-yy40-next",
    gs1(expiry="400630"),
    pack(expiry="2140-06-30", raw="400630"),
    current_year=2090,
)
ok(
    "century-current-2090-yy39-next",
    gs1(expiry="390630"),
    pack(expiry="2139-06-30", raw="390630"),
    current_year=2090,
)
ok(
    "century-current-2090-yy41-next",
    gs1(expiry="410630"),
    pack(expiry="2041-06-30", raw="410630"),
    current_year=2090,
)
ok("century-default-year", gs1(expiry="990630"), pack(expiry="1999-06-30", raw="990630"))

# --- every special character of character set 82 in serials and batches ------------------------
_SPECIALS = "!\"%&'()*+,-./:;<=>?_"
for _index in range(len(_SPECIALS)):
    _char = _SPECIALS[_index]
    ok("cset82-serial-" + str(ord(_char)), gs1(serial="S" + _char + "1"), pack(serial="S" + _char + "1"))
    ok("cset82-batch-" + str(ord(_char)), gs1(batch=_char + "B"), pack(batch=_char + "B"))
ok("cset82-all-specials-serial", gs1(serial=_SPECIALS), pack(serial=_SPECIALS))

# --- characters outside set 82 -----------------------------------------------------------------
_OUTSIDE = " #$[\\]`{}\u00e9\u20ac\t"
for _index in range(len(_OUTSIDE)):
    _char = _OUTSIDE[_index]
    bad("outside-cset82-serial-" + str(ord(_char)), gs1(serial="S" + _char + "1"), "bad_charset")
for _char in "@^|~":
    # Default stand-ins: with none configured (GS only) they are just characters outside set 82.
    bad(
        "outside-cset82-no-stand-ins-" + str(ord(_char)),
        gs1(serial="S" + _char + "1"),
        "bad_charset",
        substitutes=[],
    )

# --- 20-character limits, case preserved, opaque values ---------------------------------------
ok("serial-20", gs1(serial="ABCDEFGHIJ0123456789"), pack(serial="ABCDEFGHIJ0123456789"))
ok("batch-20", gs1(batch="abcdefghij0123456789"), pack(batch="abcdefghij0123456789"))
ok("serial-1", gs1(serial="Z"), pack(serial="Z"))
ok("case-preserved", gs1(serial="aBcDeF", batch="xYz"), pack(serial="aBcDeF", batch="xYz"))
ok("leading-zeros-kept", gs1(serial="000123", batch="0010"), pack(serial="000123", batch="0010"))
ok("numeric-looking-serial-stays-text", gs1(serial="1E5"), pack(serial="1E5"))
ok(
    "ifa-serial-20",
    ifa(["9N" + PPN1, "1T" + "b" * 20, "D270630", "S" + "Q" * 20]),
    pack("IFA", gtin=PPN1, serial="Q" * 20, batch="b" * 20),
)
ok(
    "dl-case-preserved",
    "https://id.gs1.org/01/" + FR + "/10/bAtCh/21/sErIaL?17=270630",
    pack("DigitalLink", serial="sErIaL", batch="bAtCh"),
)

# --- keyboard-wedge separator stand-ins -------------------------------------------------------
for _stand_in in ("|", "^", "~", "@", "{GS}", "[GS]"):
    ok(
        "stand-in-default-" + _stand_in,
        "01" + FR + "17270630" + "10B123" + _stand_in + "21S456",
        pack(warnings=["separator_stand_in"]),
    )
ok(
    "stand-in-lt-gs-gt-configured",
    "01" + FR + "17270630" + "10B123<GS>21S456",
    pack(warnings=["separator_stand_in"]),
    substitutes=["<GS>"],
)
ok(
    "stand-in-lt-gs-gt-not-default-is-data",
    "01" + FR + "17270630" + "21S456" + GS + "10B<GS>",
    pack(batch="B<GS>", warnings=[]),
)
ok(
    "stand-in-custom-only",
    "01" + FR + "17270630" + "10B123#21S456",
    pack(warnings=["separator_stand_in"]),
    substitutes=["#"],
)
bad("stand-in-not-configured", "01" + FR + "17270630" + "10B123|21S456", "bad_charset", substitutes=["~"])
ok("stand-in-real-gs-always", gs1(), pack(warnings=[]), substitutes=[])
ok(
    "stand-in-in-ifa",
    "]d1[)>" + RS + "06|9N" + PPN1 + "|1TB123|D270630|SS456" + RS + EOT,
    pack("IFA", gtin=PPN1, warnings=["separator_stand_in"]),
)
ok(
    "stand-in-leading-and-trailing",
    "|01" + FR + "17270630" + "10B123|21S456|",
    pack(warnings=["separator_stand_in"]),
)

# --- suffixes and leading / trailing GS -------------------------------------------------------
ok("suffix-cr", gs1() + "\r", pack())
ok("suffix-lf", gs1() + "\n", pack())
ok("suffix-crlf", gs1() + "\r\n", pack())
bad("suffix-two-crlf-only-one-stripped", gs1() + "\r\n\r\n", "bad_charset")
ok("suffix-lf-after-dl", "https://id.gs1.org/01/" + FR + "/10/B123/21/S456?17=270630\n", pack("DigitalLink"))
ok("suffix-cr-after-ifa", ifa(["9N" + PPN1, "1TB123", "D270630", "SS456"]) + "\r", pack("IFA", gtin=PPN1))
ok("leading-gs-fnc1", GS + gs1(prefix=""), pack())
ok("leading-gs-after-aim", "]d2" + GS + gs1(prefix=""), pack())
ok("trailing-gs", gs1() + GS, pack())
ok("trailing-gs-then-crlf", gs1() + GS + "\r\n", pack())
ok("gs-after-fixed-ai-tolerated", "]d201" + FR + GS + "17270630" + GS + "10B123" + GS + "21S456", pack())

# --- extras kept, warnings ---------------------------------------------------------------------
ok("extra-ai-11", gs1(tail=GS + "11250115"), pack(extra={"11": "250115"}))
ok("extra-ai-240", gs1(tail=GS + "240ADD-ID"), pack(extra={"240": "ADD-ID"}))
ok("extra-ai-91-and-99", gs1(tail=GS + "91INT1" + GS + "99INT9"), pack(extra={"91": "INT1", "99": "INT9"}))
ok(
    "extra-fixed-ai-11-without-gs",
    "]d201" + FR + "11250115" + "17270630" + "10B123" + GS + "21S456",
    pack(extra={"11": "250115"}),
)
ok(
    "extra-second-nhrn-kept",
    gs1(tail=GS + "710PZN1" + GS + "714AIM1"),
    pack(nhrn={"ai": "710", "value": "PZN1"}, extra={"714": "AIM1"}),
)
ok(
    "possible-missing-separator-nhrn-in-serial",
    gs1(serial="S456714ABC"),
    pack(serial="S456714ABC", warnings=["possible_missing_separator"]),
)
ok(
    "no-warning-when-serial-ends-with-gs",
    gs1(serial="S456714ABC", tail=GS),
    pack(serial="S456714ABC", warnings=[]),
)
ok("no-warning-plain-serial", gs1(serial="XY12"), pack(serial="XY12", warnings=[]))

# --- a stand-in character typed inside a serial or batch (garbled keyboard layout) -------------
bad("stand-in-inside-serial-is-charset", "01" + FR + "17270630" + "10B123" + GS + "21CS@X01", "bad_charset")
bad("stand-in-inside-batch-is-charset", "01" + FR + "17270630" + "21S456" + GS + "10B~1", "bad_charset")
bad("stand-in-inside-serial-aim", "]d201" + FR + "17270630" + "10B" + GS + "21S^Z", "bad_charset")
ok("stand-in-between-elements-still-gs", "01" + FR + "17270630" + "10B~21S456", pack(batch="B", warnings=["separator_stand_in"]))

# --- every linter of the Syntax Dictionary, on AIs a pack may also carry -----------------------
SSCC = "00" + "106141412345678908"
ok("linter-iso3166-origin", gs1(tail=GS + "422250"), pack(extra={"422": "250"}))
bad("linter-iso3166-origin-unknown", gs1(tail=GS + "422999"), "invalid_value")
ok("linter-iso3166999-processing", gs1(tail=GS + "7030999ABC"), pack(extra={"7030": "999ABC"}))
bad("linter-iso3166999-processing-unknown", gs1(tail=GS + "7030000ABC"), "invalid_value")
ok("linter-iso4217-price", gs1(tail=GS + "39309781250" + GS + "305"), pack(extra={"3930": "9781250", "30": "5"}))
bad("linter-iso4217-price-unknown", gs1(tail=GS + "39300001250" + GS + "305"), "invalid_value")
ok("linter-alpha2-ship-to", gs1(tail=GS + SSCC + "4307FR"), pack(extra={"00": SSCC[2:], "4307": "FR"}))
bad("linter-alpha2-ship-to-unknown", gs1(tail=GS + SSCC + "4307XX"), "invalid_value")
bad("linter-pcenc-ship-to", gs1(tail=GS + SSCC + "4300A%2G"), "invalid_value")
bad("linter-yesno-dangerous-goods", gs1(tail=GS + SSCC + "43212"), "invalid_value")
bad("linter-hyphen-max-temperature", gs1(tail=GS + SSCC + "4330001234A"), "invalid_value")
bad("linter-latitude", gs1(tail=GS + SSCC + "4309" + "1800000001" + "0000000000"), "invalid_value")
ok("linter-csumalpha-mudi", gs1(tail=GS + "80141987654Ad4X4bL5ttr2310c2K"), pack(extra={"8014": "1987654Ad4X4bL5ttr2310c2K"}))
bad("linter-csumalpha-mudi-wrong-pair", gs1(tail=GS + "80141987654Ad4X4bL5ttr2310cXK"), "bad_check_digit")
bad("linter-gcppos1-mudi", gs1(tail=GS + "8014A987654Ad4X4bL5ttr2310c9K"), "invalid_value")
bad("linter-nonzero-dimensions", gs1(tail=GS + "8001" + "0000" + "00100" + "001" + "1" + "1"), "invalid_value")
bad("linter-winding-dimensions", gs1(tail=GS + "8001" + "0010" + "00100" + "001" + "2" + "1"), "invalid_value")
bad("linter-importeridx", gs1(tail=GS + "70401AB!"), "invalid_value")
ok("linter-couponcode", gs1(tail=GS + "8110012345612345611110123"), pack(extra={"8110": "012345612345611110123"}))
bad("linter-couponcode-bad-vli", gs1(tail=GS + "811071234567890123"), "invalid_value")
bad("linter-couponposoffer-excess", gs1(tail=GS + "81120012345612345601234567"), "invalid_value")
bad(
    "linter-iban",
    gs1(tail=GS + "4150614141000418" + "8020REF1" + GS + "8007BE71096123456760"),
    "bad_check_digit",
)
bad("linter-dd00-not-allowed-yymmdd", gs1(tail=GS + "7006" + "270100"), "invalid_date")

# --- national product codes -------------------------------------------------------------------
for _name, _gtin in (("fr", FR), ("fr2", FR2), ("de", DE), ("de2", DE2), ("be", BE), ("it", IT)):
    ok("ntin-" + _name, gs1(gtin=_gtin), pack(gtin=_gtin))
    ok(
        "ntin-dl-" + _name,
        "https://id.gs1.org/01/" + _gtin + "/10/B123/21/S456?17=270630",
        pack("DigitalLink", gtin=_gtin),
    )
for _name, _ppn in (("1", PPN1), ("2", PPN2)):
    ok("ppn-" + _name, ifa(["9N" + _ppn, "1TB123", "D270630", "SS456"]), pack("IFA", gtin=_ppn))
bad("ppn-lower-case", ifa(["9N11abc", "1TB", "D270630", "SS"]), "bad_charset")
bad("ppn-pzn-prefix-wrong-length", ifa(["9N11ABC73", "1TB", "D270630", "SS"]), "bad_length")


def outcome(case):
    """The whole result, messages included: the MicroPython replay requires the same as CPython."""
    return decode_scan(case["raw"], substitutes=case.get("substitutes"), current_year=case.get("current_year")).as_dict()


def check(case):
    """None when ``decode_scan`` does what the case says, else what differed (see tables/__init__)."""
    raw = case["raw"]
    result = decode_scan(raw, substitutes=case.get("substitutes"), current_year=case.get("current_year"))
    got = result.as_dict()
    if "error" in case:
        if got["ok"] or result.ok:
            return "expected error {}, got a valid result {!r}".format(case["error"], got)
        if tuple(sorted(got)) != tuple(sorted(CONTRACT_ERROR_KEYS)):
            return f"error keys {sorted(got)!r} are not the contract's"
        if got["error"] != case["error"]:
            return "expected error {}, got {} ({})".format(case["error"], got["error"], got["message"])
        if result.error != got["error"] or result.message != got["message"]:
            return "attributes differ from as_dict()"
        if quote(raw) not in got["message"]:
            return "message {!r} does not quote the input".format(got["message"])
        return None
    if not got["ok"] or not result.ok:
        return "expected a valid code, got {} ({})".format(got.get("error"), got.get("message"))
    if tuple(sorted(got)) != tuple(sorted(CONTRACT_OK_KEYS)):
        return f"result keys {sorted(got)!r} are not the contract's"
    for key, value in case["expect"].items():
        if got[key] != value:
            return f"{key}: expected {value!r}, got {got[key]!r}"
        if key != "ok" and getattr(result, key) != value:
            return f"attribute {key} is {getattr(result, key)!r} but as_dict() has {value!r}"
    return None
