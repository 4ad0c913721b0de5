"""The delivery note's checks (``fmd_core.receiving``): portable cases, also replayed under MicroPython.

A check case: ``{"id", "entries": [[code, quantity, batch, expiry]], "short": days, "today": iso,
"scans": [[code, key, batch, expiry]], "expect": [[line, [problems], counted, decommission]]}`` (one
expected check per scan, in order); ``"restored": [[key, line, [problems]]]`` puts back packs checked
before a restart first. A summary case: ``{"id", "summary": True, "entries", "packs":
[[line, [problems], code, state, alert]], "expect": {row index: {key: value}}}``.
"""

from fmd_core.receiving import NoteEntry, Receipt, summarise

DOLI = "3400930000007"
DOLI14 = "03400930000007"
SPAS = "03400936000001"
OTHER = "03400935555555"

CASES = [
    {"id": "match-counts", "entries": [[DOLI, 2, "AB12", "2027-12-31"]], "short": 0, "today": "2026-12-03",
     "scans": [[DOLI14, "k1", "AB12", "2027-12-31"], [DOLI14, "k2", "AB12", "2027-12-31"]],
     "expect": [[0, [], 1, True], [0, [], 2, True]]},
    {"id": "cip13-note-gtin-pack", "entries": [[DOLI, 1, None, None]], "short": 0, "today": None,
     "scans": [[DOLI14, "k1", "X", "2027-01-31"]], "expect": [[0, [], 1, True]]},
    {"id": "wrong-product", "entries": [[DOLI, 1, None, None]], "short": 0, "today": None,
     "scans": [[OTHER, "k1", "X", "2027-01-31"]], "expect": [[None, ["wrong_product"], 0, False]]},
    {"id": "quantity-exceeded", "entries": [[DOLI, 1, None, None]], "short": 0, "today": None,
     "scans": [[DOLI14, "k1", "X", "2027-01-31"], [DOLI14, "k2", "X", "2027-01-31"]],
     "expect": [[0, [], 1, True], [0, ["quantity_exceeded"], 1, False]]},
    {"id": "batch-and-expiry-differ", "entries": [[DOLI, 3, "AB12", "2027-12-31"]], "short": 0, "today": None,
     "scans": [[DOLI14, "k1", "ZZ99", "2027-12-31"], [DOLI14, "k2", "AB12", "2028-01-31"]],
     "expect": [[0, ["batch_differs"], 1, False], [0, ["expiry_differs"], 2, False]]},
    {"id": "already-scanned-not-counted", "entries": [[DOLI, 3, None, None]], "short": 0, "today": None,
     "scans": [[DOLI14, "k1", "X", "2027-01-31"], [DOLI14, "k1", "X", "2027-01-31"]],
     "expect": [[0, [], 1, True], [0, ["already_scanned"], 1, False]]},
    {"id": "short-expiry", "entries": [[DOLI, 3, None, None]], "short": 90, "today": "2026-12-03",
     "scans": [[DOLI14, "k1", "X", "2027-03-02"], [DOLI14, "k2", "X", "2027-03-03"]],
     "expect": [[0, ["short_expiry"], 1, False], [0, [], 2, True]]},
    {"id": "short-expiry-needs-a-trusted-clock", "entries": [[DOLI, 1, None, None]], "short": 90,
     "today": None, "scans": [[DOLI14, "k1", "X", "2026-12-04"]], "expect": [[0, [], 1, True]]},
    {"id": "second-line-by-batch", "entries": [[DOLI, 1, "A", None], [DOLI, 1, "B", None]], "short": 0,
     "today": None, "scans": [[DOLI14, "k1", "B", "2027-01-31"], [DOLI14, "k2", "A", "2027-01-31"],
                              [DOLI14, "k3", "A", "2027-01-31"]],
     "expect": [[1, [], 1, True], [0, [], 1, True], [0, ["quantity_exceeded"], 1, False]]},
    {"id": "restored-after-restart", "entries": [[DOLI, 3, "AB12", None]], "short": 0, "today": None,
     "restored": [["k1", 0, []], ["k2", 0, ["batch_differs"]], ["k9", None, ["wrong_product"]]],
     "scans": [[DOLI14, "k1", "AB12", "2027-01-31"], [OTHER, "k9", "X", "2027-01-31"],
               [DOLI14, "k3", "AB12", "2027-01-31"], [DOLI14, "k4", "AB12", "2027-01-31"]],
     "expect": [[0, ["already_scanned"], 2, False], [None, ["already_scanned"], 0, False], [0, [], 3, True],
                [0, ["quantity_exceeded"], 3, False]]},
    {"id": "summary-every-column", "summary": True,
     "entries": [[DOLI, 4, "AB12", None], [SPAS, 2, None, None], [OTHER[:-1] + "2", 1, None, None]],
     "packs": [[0, [], DOLI14, "accepted", None], [0, ["batch_differs"], DOLI14, "accepted", None],
               [0, [], DOLI14, "refused", "NMVS_FE_LOT_01"], [0, ["quantity_exceeded"], DOLI14, "accepted", None],
               [1, ["short_expiry"], SPAS, "pending", None], [None, ["wrong_product"], OTHER, "accepted", None],
               [None, ["wrong_product"], OTHER, "refused", "A7"]],
     "expect": {0: {"accepted": 2, "refused": 1, "pending": 0, "missing": 1, "extra": 1,
                    "batch_differs": 1, "alerts": ["NMVS_FE_LOT_01"]},
                1: {"accepted": 0, "pending": 1, "missing": 1, "short_expiry": 1},
                2: {"ordered": 1, "missing": 1, "extra": 0},
                3: {"line": None, "product_code": OTHER, "ordered": 0, "extra": 2, "alerts": ["A7"]}}},
]


def _entries(case):
    return [NoteEntry(code, quantity, batch, expiry) for code, quantity, batch, expiry in case["entries"]]


def check(case):
    """None when the case holds, else what differs."""
    if case.get("summary"):
        rows = summarise(_entries(case), [tuple(p) for p in case["packs"]])
        if len(rows) != len(case["expect"]):
            return "rows %r" % (rows,)
        for index, wanted in case["expect"].items():
            for key, value in wanted.items():
                if rows[index].get(key, "absent") != value:
                    return "row %d %s: %r, expected %r" % (index, key, rows[index][key], value)
        return None
    receipt = Receipt(_entries(case), case["short"])
    for key, line, problems in case.get("restored", ()):  # packs checked before a restart
        receipt.restore(key, line, tuple(problems))
    for scan, wanted in zip(case["scans"], case["expect"]):
        got = receipt.check(scan[0], scan[1], scan[2], scan[3], case["today"])
        actual = [got.line, list(got.problems), got.counted, got.decommission]
        if actual != wanted:
            return "scan %r: %r, expected %r" % (scan, actual, wanted)
    return None


def outcome(case):
    return check(case)


