"""Deterministic demo data: products, batches and packs (VERIFICATION-SERVICE.md, section 7.4; PACK-CODES.md).

France: NTINs built from valid CIP13 codes (``0`` + ``34009`` + 7 digits + GS1 check digit; the ``34008``
range is for unit doses, not packs). Germany: PPNs (``11`` + PZN8 + two mod-97 check digits). Serials are
1-20 characters of GS1 set 82 in mixed case (mostly letters and digits, a few with ``-._*+:``), batches
1-20 upper-case characters. Each pack carries a ready-to-scan ``raw`` string: a ``]d2`` GS1 element string
with GS (ASCII 29) separators for GTIN packs, an ISO/IEC 15434 format-06 IFA envelope behind ``]d1`` for
PPN packs. The same (seed, market, month of the simulator clock) always gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from typing import Any

from fmd_simulator.identifiers import gs1_check_digit, ppn_check, pzn_check_digit
from fmd_simulator.store import Store

GS, RS, EOT = "\x1d", "\x1e", "\x04"
MARKETS = ("FR", "DE")

_MOLECULES = ("Paracétamol", "Ibuprofène", "Amoxicilline", "Oméprazole", "Metformine", "Atorvastatine",
              "Amlodipine", "Lévothyroxine", "Ramipril", "Bisoprolol", "Sertraline", "Tramadol", "Prednisolone",
              "Salbutamol", "Clopidogrel", "Simvastatine", "Losartan", "Esoméprazole", "Cétirizine", "Furosémide")
_MOLECULES_DE = ("Paracetamol", "Ibuprofen", "Amoxicillin", "Omeprazol", "Metformin", "Atorvastatin", "Amlodipin",
                 "Levothyroxin", "Ramipril", "Bisoprolol", "Sertralin", "Tramadol", "Prednisolon", "Salbutamol",
                 "Clopidogrel", "Simvastatin", "Losartan", "Esomeprazol", "Cetirizin", "Furosemid")
_STRENGTHS = ("5 mg", "10 mg", "20 mg", "25 mg", "40 mg", "50 mg", "100 mg", "250 mg", "500 mg", "1 g")
_FORMS_FR = ("comprimés", "gélules", "comprimés pelliculés", "comprimés effervescents")
_FORMS_DE = ("Tabletten", "Hartkapseln", "Filmtabletten", "Brausetabletten")
_COUNTS = (10, 14, 16, 20, 28, 30, 50, 90, 100)
_SERIAL_ALPHABET = string.ascii_letters + string.digits
_SERIAL_EXTRA = "-._*+:"
_BATCH_ALPHABET = string.ascii_uppercase + string.digits


def _name(rng: random.Random, market: str) -> str:
    molecule = rng.choice(_MOLECULES_DE if market == "DE" else _MOLECULES)
    strength, count = rng.choice(_STRENGTHS), rng.choice(_COUNTS)
    if market == "DE":
        return f"{molecule} {strength} {rng.choice(_FORMS_DE)}, {count} Stück"
    return f"{molecule} {strength}, {rng.choice(_FORMS_FR)}, boîte de {count}"


def _ntin(rng: random.Random) -> str:
    cip12 = "34009" + "".join(rng.choice(string.digits) for _ in range(7))
    return "0" + cip12 + str(gs1_check_digit(cip12))


def _ppn(rng: random.Random) -> str:
    while True:
        pzn7 = "".join(rng.choice(string.digits) for _ in range(7))
        check = pzn_check_digit(pzn7)
        if check < 10:
            body = "11" + pzn7 + str(check)
            return body + ppn_check(body)


def _serial(rng: random.Random) -> str:
    length = rng.randint(12, 20) if rng.random() < 0.9 else rng.randint(1, 11)
    chars = [rng.choice(_SERIAL_ALPHABET) for _ in range(length)]
    if length > 2 and rng.random() < 0.05:
        chars[rng.randrange(1, length - 1)] = rng.choice(_SERIAL_EXTRA)
    return "".join(chars)


def _expiry(rng: random.Random, base: dt.date) -> str:
    months = base.year * 12 + base.month - 1 + rng.randint(12, 36)
    year, month = divmod(months, 12)
    day = 0 if rng.random() < 0.1 else rng.randint(1, 28)
    return f"{year % 100:02d}{month + 1:02d}{day:02d}"


def raw_string(scheme: str, product_code: str, batch: str, expiry: str, serial: str) -> str:
    """What a scanner in AIM-prefix mode sends for this pack (GS1 GenSpecs 7.8.5 / ISO/IEC 15434 format 06)."""
    if scheme == "PPN":
        return f"]d1[)>{RS}06{GS}9N{product_code}{GS}1T{batch}{GS}D{expiry}{GS}S{serial}{RS}{EOT}"
    return f"]d201{product_code}17{expiry}10{batch}{GS}21{serial}"


def generate(packs: int, seed: int = 0, market: str = "FR", today: dt.date | None = None) -> list[dict[str, Any]]:
    """``packs`` seed records (the JSON lines of ``fmd-simulator seed``), deterministic for (seed, market, month)."""
    if market not in MARKETS:
        raise ValueError(f"market {market!r} is not one of {MARKETS}")
    rng = random.Random(f"fmd-simulator/{seed}/{market}")
    base = (today or dt.datetime.now(dt.UTC).date()).replace(day=1)
    scheme = "PPN" if market == "DE" else "GTIN"
    n_products = max(1, min(500, packs // 20))
    products: list[tuple[str, str, list[tuple[str, str]], set[str]]] = []
    codes: set[str] = set()
    while len(products) < n_products:
        code = _ppn(rng) if scheme == "PPN" else _ntin(rng)
        if code in codes:
            continue
        codes.add(code)
        batches: list[tuple[str, str]] = []
        for _ in range(rng.randint(1, 3)):
            batch = "".join(rng.choice(_BATCH_ALPHABET) for _ in range(rng.randint(4, 10)))
            if batch not in (b for b, _ in batches):
                batches.append((batch, _expiry(rng, base)))
        products.append((code, _name(rng, market), batches, set()))
    out = []
    for i in range(packs):
        code, name, batches, serials = products[i % n_products]
        batch, expiry = rng.choice(batches)
        serial = _serial(rng)
        while serial in serials:
            serial = _serial(rng)
        serials.add(serial)
        out.append({"market": market, "scheme": scheme, "productCode": code, "serial": serial, "batch": batch,
                    "expiry": expiry, "productName": name, "nhrn": None,
                    "raw": raw_string(scheme, code, batch, expiry, serial)})
    return out


def load(store: Store, records: list[dict[str, Any]]) -> None:
    """Upload master data and packs as a manufacturer would (``POST /admin/packs``); existing packs stay."""
    products: dict[tuple[str, str], tuple[str, str, Any, bool]] = {}
    batches = []
    packs = []
    for r in records:
        key = (r["scheme"], r["productCode"])
        products[key] = (r.get("market", "FR"), r.get("productName") or "", r.get("nhrn"), bool(r.get("unavailable")))
        if r.get("expiry") is not None:
            batches.append((*key, r["batch"], r["expiry"]))
        if r.get("serial") is not None:
            packs.append((*key, r["serial"], r["batch"]))
    with store.transaction():
        for key, (market, name, nhrn, unavailable) in products.items():
            store.upsert_product(*key, market, name, nhrn, unavailable)
        store.insert_batches(batches)
        store.insert_packs(packs)
