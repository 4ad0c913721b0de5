"""Subscription and enrolment: how a pharmacy gets its account and a terminal its certificate (issue 14).

What is public (France MVO's onboarding letter of January 2020; the Ordre's connector): each pharmacy
received a letter with a unique identifier, entered it on a subscription site, keyed on its FINESS
géographique number, and chose the Ordre's connector or a direct connection. Everything past that is
the project's design, played here by the simulator:

- ``letters(seed, n)``: the seeded onboarding letters (identifier, FINESS, pharmacy name), printed by
  ``fmd-simulator seed --letters N``; the same seed gives the same letters the server accepts.
- ``Enrolment.subscribe``: identifier + FINESS + route -> the pharmacy's account (a client of the
  engine with role ``pharmacy``, location = the FINESS number), then ``new_code``: a one-time
  **enrolment code**, valid 15 minutes of the simulator clock, usable once.
- ``Enrolment.redeem``: the terminal sends the code, a CSR for a key it made itself, and its clock;
  the simulator's enrolment CA signs a certificate valid 2 years and the account's credentials come
  back. Refusals: unknown (or foreign) code, bad check character, used, expired, terminal clock off by
  more than 5 minutes.

The code's text (``code_text``; parsed by ``fmd_terminal.enrolment``)::

    FMD-ENROL/1 <token> <sha256 of the enrolment CA certificate, hex> <enrolment base URL>

The token (``fmd_core.enrolment_code``) is 12 letters typed alike on QWERTY, AZERTY and QWERTZ
keyboards and a check letter, so a garbled read is refused before anything is sent. ASSUMED: the real systems' enrolment
exchange is not public; this layout, the 15-minute life and the clock tolerance are the project's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
import threading
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from fmd_core.enrolment_code import CODE_PREFIX, TOKEN_ALPHABET, TOKEN_LENGTH, check_letter, token_valid
from fmd_simulator.engine import Client
from fmd_simulator.errors import ConfigurationError

CODE_LIFE_S = 15 * 60
CLOCK_TOLERANCE_S = 5 * 60
CERT_DAYS = 730  # direct route: the client certificate is renewed every 2 years
ROUTES = ("direct", "connector")

_NAMES = ("Pharmacie du Marché", "Pharmacie de la Gare", "Pharmacie des Remparts", "Grande Pharmacie de Lyon",
          "Pharmacie Saint-Michel", "Pharmacie du Port", "Pharmacie des Écoles", "Pharmacie de l'Hôtel de Ville")
_TOWNS = (("Lyon", "69"), ("Nantes", "44"), ("Avignon", "84"), ("Lille", "59"), ("Rennes", "35"),
          ("Bordeaux", "33"), ("Dijon", "21"), ("Toulouse", "31"))


def new_token(rng: Any = None) -> str:
    pick = (rng or secrets.SystemRandom()).choice
    body = "".join(pick(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    return body + check_letter(body)


def luhn_digit(digits: str) -> str:
    """Luhn check digit. ASSUMED for the FINESS key: its published rule is not at hand."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


class Letter:
    """One onboarding letter: the identifier to enter on the subscription site, and the pharmacy."""

    __slots__ = ("identifier", "finess", "name", "town")

    def __init__(self, identifier: str, finess: str, name: str, town: str) -> None:
        self.identifier = identifier
        self.finess = finess
        self.name = name
        self.town = town

    def as_dict(self) -> dict[str, str]:
        return {"identifier": self.identifier, "finess": self.finess, "name": self.name, "town": self.town}


def letters(seed: int, n: int) -> list[Letter]:
    """``n`` deterministic letters for ``seed`` (the demo data ``fmd-simulator seed --letters`` prints)."""
    rng = random.Random(f"fmd-letters-{seed}")
    out = []
    for i in range(n):
        town, department = _TOWNS[i % len(_TOWNS)]
        body = department + "0" + f"{rng.randrange(10**5):05d}"
        ident = "FR-" + "-".join("".join(rng.choice("BCDFGHJKLMNPRSTVWXZ23456789") for _ in range(4)) for _ in range(3))
        out.append(Letter(ident, body + luhn_digit(body), _NAMES[i % len(_NAMES)], town))
    return out


class EnrolmentRefused(Exception):
    """A refusal with its HTTP status and a stable code the terminal maps to a screen."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class EnrolmentCA:
    """The CA that signs terminals' certificates (in tests, the same CA as the server's certificate)."""

    def __init__(self, cert_pem: bytes | None = None, key_pem: bytes | None = None) -> None:
        if cert_pem is None or key_pem is None:
            cert_pem, key_pem = _new_ca()
        self.cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ConfigurationError("enrolment CA: the key must be an EC or RSA private key")
        self.key = key
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.fingerprint = hashlib.sha256(self.cert.public_bytes(serialization.Encoding.DER)).hexdigest()

    @classmethod
    def from_files(cls, cert_path: str, key_path: str) -> EnrolmentCA:
        try:
            with open(cert_path, "rb") as c, open(key_path, "rb") as k:
                return cls(c.read(), k.read())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"enrolment CA {cert_path!r}, {key_path!r}: {exc}") from exc

    def sign(self, csr: x509.CertificateSigningRequest, subject: x509.Name, now: float, days: int = CERT_DAYS,
             extensions: tuple[x509.ExtensionType, ...] = ()) -> bytes:
        """A client certificate for the CSR's key, valid ``days`` from ``now`` (real time: TLS checks it)."""
        start = dt.datetime.fromtimestamp(now, dt.UTC) - dt.timedelta(minutes=5)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.cert.subject)
                   .public_key(csr.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _new_ca() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FMD simulator enrolment CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def stored_ca(store: Any) -> EnrolmentCA:
    """The enrolment CA kept in the simulator's store (made on first use), so that a restart keeps the
    fingerprint printed in the codes already issued and the issuer of the certificates already signed.
    The key sits in the database: a file database is made readable by its owner only (with its WAL)."""
    import os

    kept = store.get_meta("enrolment_ca")
    if kept is None:
        cert_pem, key_pem = _new_ca()
        if store.path != ":memory:":
            for path in (store.path, store.path + "-wal", store.path + "-shm"):
                if os.path.exists(path):
                    os.chmod(path, 0o600)
        with store.transaction():
            store.set_meta("enrolment_ca", [cert_pem.decode("ascii"), key_pem.decode("ascii")])
        return EnrolmentCA(cert_pem, key_pem)
    return EnrolmentCA(kept[0].encode("ascii"), kept[1].encode("ascii"))


def parse_csr(pem: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise EnrolmentRefused(400, "ENROL_BAD_CSR", "the certificate request is not a PEM CSR") from exc
    if not csr.is_signature_valid:
        raise EnrolmentRefused(400, "ENROL_BAD_CSR", "the certificate request's signature is not valid")
    return csr


class Subscription:
    __slots__ = ("letter", "route", "client")

    def __init__(self, letter: Letter, route: str, client: Client) -> None:
        self.letter = letter
        self.route = route
        self.client = client


class Enrolment:
    """Subscriptions and one-time codes over the engine's clients (state in memory: a demo service)."""

    def __init__(self, engine: Any, ca: EnrolmentCA | None = None, seed: int = 0, n_letters: int = 8) -> None:
        self.engine = engine
        self.ca = ca or EnrolmentCA()
        self.letters = {letter.identifier: letter for letter in letters(seed, n_letters)}
        self.subscriptions: dict[str, Subscription] = {}
        self.codes: dict[str, tuple[str, float]] = {}  # token -> (identifier, expires at, simulator clock)
        self.used: set[str] = set()
        self.lock = threading.Lock()
        self.store = engine.store  # subscriptions and codes are written through to the simulator's SQLite
        self._load()
        # Where enrolled terminals send their requests; None: the enrolment server's own address. The
        # subscription site of a real system is not its verification endpoint: a terminal has no client
        # certificate when it enrols, so enrolment is served where none is required.
        self.service_url: str | None = None

    def _load(self) -> None:
        """The subscriptions and codes of an earlier run (a restart keeps them; a used code stays used)."""
        for identifier, route, client_id, secret in self.store.subscriptions():
            letter = self.letters.get(identifier)
            if letter is None:
                continue  # a letter of another seed: not served by this run
            client = Client(client_id, secret or secrets.token_urlsafe(18), letter.finess, "pharmacy")
            self.subscriptions[identifier] = Subscription(letter, route, client)
            self.engine.clients[client_id] = client
        for token, identifier, expires, used in self.store.codes():
            self.codes[token] = (identifier, expires)
            if used:
                self.used.add(token)

    def now(self) -> float:
        return float(self.engine.clock.now())

    def subscribe(self, identifier: str, finess: str, route: str) -> Subscription:
        """The account of the letter ``identifier`` (made on first subscription); FINESS must match."""
        letter = self.letters.get(identifier.strip().upper())
        if letter is None or letter.finess != finess.strip().replace(" ", ""):
            raise EnrolmentRefused(404, "SUBSCRIBE_UNKNOWN", "unknown identifier, or FINESS not that of the letter")
        if route not in ROUTES:
            raise EnrolmentRefused(400, "SUBSCRIBE_ROUTE", f"route must be one of {ROUTES}")
        with self.lock:
            current = self.subscriptions.get(letter.identifier)
            if current is None or current.route != route:
                client_id = current.client.client_id if current else "ph-" + letter.finess
                client = current.client if current else Client(client_id, secrets.token_urlsafe(18), letter.finess,
                                                               "pharmacy")
                current = self.subscriptions[letter.identifier] = Subscription(letter, route, client)
                self.engine.clients[client.client_id] = client
                with self.store.transaction():
                    self.store.save_subscription(letter.identifier, route, client.client_id, client.secret)
            return current

    def connector_account(self, finess: str) -> tuple[str, str] | None:
        """The login of the pharmacy ``finess`` subscribed on the connector route (``connector.py``)."""
        with self.lock:
            for subscription in self.subscriptions.values():
                if subscription.letter.finess == finess and subscription.route == "connector":
                    return subscription.client.client_id, subscription.client.secret
        return None

    def new_code(self, subscription: Subscription) -> tuple[str, float]:
        token = new_token()
        expires = self.now() + CODE_LIFE_S
        with self.lock:
            self.codes[token] = (subscription.letter.identifier, expires)
            with self.store.transaction():
                self.store.add_code(token, subscription.letter.identifier, expires)
        return token, expires

    def code_text(self, token: str, base_url: str) -> str:
        return f"{CODE_PREFIX} {token} {self.ca.fingerprint} {base_url.rstrip('/')}"

    def redeem(self, token: str, csr_pem: str, terminal_time: Any, base_url: str) -> dict[str, Any]:
        """Sign the terminal's CSR and hand over the account, once (see the module docstring)."""
        token = token.strip().upper()
        if not token_valid(token):
            raise EnrolmentRefused(400, "ENROL_GARBLED", "the enrolment code is misread (check letter)")
        now = self.now()
        if not isinstance(terminal_time, int | float) or abs(terminal_time - now) > CLOCK_TOLERANCE_S:
            raise EnrolmentRefused(409, "ENROL_CLOCK", "the terminal's clock is off by more than 5 minutes")
        csr = parse_csr(csr_pem)
        with self.lock:
            if token in self.used:
                raise EnrolmentRefused(410, "ENROL_USED", "this enrolment code was used already")
            entry = self.codes.get(token)
            if entry is None:
                raise EnrolmentRefused(404, "ENROL_UNKNOWN", "this enrolment code was not issued by this service")
            if now > entry[1]:
                raise EnrolmentRefused(410, "ENROL_EXPIRED", "this enrolment code has expired (15 minutes)")
            self.used.add(token)
            with self.store.transaction():
                self.store.use_code(token)
            subscription = self.subscriptions[entry[0]]
        return dict(self.credentials(subscription, csr), serviceUrl=self.service_url or base_url)

    def credentials(self, subscription: Subscription, csr: x509.CertificateSigningRequest) -> dict[str, Any]:
        letter, client = subscription.letter, subscription.client
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, client.client_id),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, letter.name),
                             x509.NameAttribute(NameOID.SERIAL_NUMBER, letter.finess)])
        certificate = self.ca.sign(csr, subject, time.time())
        return {"clientId": client.client_id, "clientSecret": client.secret, "certificate": certificate.decode(),
                "caCertificate": self.ca.cert_pem.decode(), "pharmacyName": letter.name, "finess": letter.finess,
                "route": subscription.route}
