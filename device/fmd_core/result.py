"""The decoder's result: a pack code or a failure, both plain value objects with ``as_dict()``.

PACK-CODES.md, "Result contract": ``as_dict()`` is exactly what ``fmd-terminal decode`` prints.
Reason codes are a closed list (below); warnings are extra facts about a valid code.
"""

from fmd_core.errors import CoreError

# Reason codes (PACK-CODES.md, "Result contract"), and nothing else.
BAD_CHECK_DIGIT = "bad_check_digit"
INVALID_DATE = "invalid_date"
MISSING_SERIAL = "missing_serial"
MISSING_BATCH = "missing_batch"
MISSING_EXPIRY = "missing_expiry"
MISSING_PRODUCT_CODE = "missing_product_code"
BAD_CHARSET = "bad_charset"
TOO_LONG = "too_long"
BAD_LENGTH = "bad_length"
UNKNOWN_AI = "unknown_ai"
DUPLICATE_AI = "duplicate_ai"
INVALID_AI_COMBINATION = "invalid_ai_combination"
TRUNCATED = "truncated"
EMPTY_VALUE = "empty_value"
MISSING_SEPARATOR = "missing_separator"
NOT_A_PACK_CODE = "not_a_pack_code"
INVALID_DL_URI = "invalid_dl_uri"
# A value outside its code list or format (GS1 Syntax Dictionary linters: country, currency, IBAN, ...).
INVALID_VALUE = "invalid_value"

REASON_CODES = (
    BAD_CHECK_DIGIT,
    INVALID_DATE,
    MISSING_SERIAL,
    MISSING_BATCH,
    MISSING_EXPIRY,
    MISSING_PRODUCT_CODE,
    BAD_CHARSET,
    TOO_LONG,
    BAD_LENGTH,
    UNKNOWN_AI,
    DUPLICATE_AI,
    INVALID_AI_COMBINATION,
    TRUNCATED,
    EMPTY_VALUE,
    MISSING_SEPARATOR,
    NOT_A_PACK_CODE,
    INVALID_DL_URI,
    INVALID_VALUE,
)

# Warnings on a valid result.
NOT_DATA_MATRIX = "not_data_matrix"  # Reg. 2016/161 Art. 5(1): the carrier must be a Data Matrix
POSSIBLE_MISSING_SEPARATOR = "possible_missing_separator"  # last value holds what could be an element
SEPARATOR_STAND_IN = "separator_stand_in"  # a keyboard-wedge stand-in was read as GS

WARNINGS = (NOT_DATA_MATRIX, POSSIBLE_MISSING_SEPARATOR, SEPARATOR_STAND_IN)

# Schemes and product-code schemes.
GS1 = "GS1"
IFA = "IFA"
DIGITAL_LINK = "DigitalLink"
LINEAR = "linear"
GTIN = "GTIN"
PPN = "PPN"


class Rejection(CoreError):
    """Raised inside the decoder only, turned into a ``DecodeFailure`` by ``decode_scan``.

    ``reason`` is one of ``REASON_CODES``; ``detail`` says expected versus actual, without the input;
    ``element`` is the AI or data identifier concerned, when there is one.
    """

    def __init__(self, reason: str, detail: str, element=None):
        super().__init__(reason + ": " + detail)
        self.reason = reason
        self.detail = detail
        self.element = element


class PackCode:
    """A decoded code (PACK-CODES.md, "Result contract"). Treated as immutable.

    ``is_pack_identifier`` is True when product code, serial, batch and expiry are all present
    (Reg. 2016/161 Art. 4(b)); a linear GTIN decodes but is not a pack identifier.
    """

    __slots__ = (
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
    ok = True

    def __init__(
        self,
        scheme,
        product_code,
        product_code_scheme,
        serial,
        batch,
        expiry,
        expiry_raw,
        nhrn,
        symbology,
        extra,
        warnings,
    ):
        self.scheme = scheme
        self.product_code = product_code
        self.product_code_scheme = product_code_scheme
        self.serial = serial
        self.batch = batch
        self.expiry = expiry
        self.expiry_raw = expiry_raw
        self.nhrn = nhrn
        self.symbology = symbology
        self.is_pack_identifier = serial is not None and batch is not None and expiry_raw is not None
        self.extra = extra
        self.warnings = warnings

    def as_dict(self) -> dict:
        return {
            "ok": True,
            "scheme": self.scheme,
            "product_code": self.product_code,
            "product_code_scheme": self.product_code_scheme,
            "serial": self.serial,
            "batch": self.batch,
            "expiry": self.expiry,
            "expiry_raw": self.expiry_raw,
            "nhrn": None if self.nhrn is None else dict(self.nhrn),
            "symbology": self.symbology,
            "is_pack_identifier": self.is_pack_identifier,
            "extra": dict(self.extra),
            "warnings": list(self.warnings),
        }

    def __repr__(self):
        return "PackCode(%r, product_code=%r, serial=%r, batch=%r, expiry_raw=%r)" % (
            self.scheme,
            self.product_code,
            self.serial,
            self.batch,
            self.expiry_raw,
        )


class DecodeFailure:
    """Why a scan is not a usable code: a reason code and one English sentence. Treated as immutable.

    ``element`` (not part of ``as_dict()``): the AI or data identifier concerned, or None, so that a
    screen can name it in the reader's language.
    """

    __slots__ = ("error", "message", "element")
    ok = False

    def __init__(self, error: str, message: str, element=None):
        self.error = error
        self.message = message
        self.element = element

    def as_dict(self) -> dict:
        return {"ok": False, "error": self.error, "message": self.message}

    def __repr__(self):
        return "DecodeFailure(%r, %r)" % (self.error, self.message)
