"""The simulator keeps its subscriptions, enrolment codes and account state in its SQLite store (issue 14):
a restart keeps the pharmacy's account and its password, a used code stays used, an unused one stays
valid until it expires, and the terms published and accepted are still known."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fmd_simulator.enrolment import EnrolmentRefused, letters
from fmd_simulator.errors import SimulatorError
from fmd_simulator.testing import running_simulator

LETTER = letters(0, 8)[3]


def _csr() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "terminal")])).sign(key, hashes.SHA256()))
    return request.public_bytes(serialization.Encoding.PEM).decode()


def test_a_restart_keeps_subscriptions_codes_and_accounts(tmp_path):
    with running_simulator(db=tmp_path / "sim.sqlite") as sim:
        form = f"identifier={LETTER.identifier}&finess={LETTER.finess}&route=connector".encode()
        status, _, _ = sim.request("POST", "/subscribe", body=form,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200
        enrolment = sim.app.enrolment
        (used, kept) = sorted(enrolment.codes)[:1] + [enrolment.new_code(enrolment.subscriptions[LETTER.identifier])[0]]
        account = enrolment.redeem(used, _csr(), enrolment.now(), sim.base_url)
        client = sim.app.engine.clients[account["clientId"]]
        sim.app.accounts.publish_terms({"version": "2027-01", "deadline": "2027-03-01T00:00:00Z"})
        sim.app.accounts.accept_terms(client, "2027-01")
        sim.app.accounts.change_password(client, "a-new-password-of-the-pharmacy")
        changed = sim.app.accounts.status(client)["passwordChangedAt"]
        fingerprint = enrolment.ca.fingerprint

        sim.restart()

        enrolment, accounts = sim.app.enrolment, sim.app.accounts
        assert enrolment.ca.fingerprint == fingerprint  # the codes' fingerprint and the certificates' issuer
        assert stat.S_IMODE(os.stat(tmp_path / "sim.sqlite").st_mode) == 0o600  # it holds the CA's key
        assert enrolment.subscriptions[LETTER.identifier].route == "connector"
        assert enrolment.connector_account(LETTER.finess) == (account["clientId"], "a-new-password-of-the-pharmacy")
        assert sim.token(account["clientId"], "a-new-password-of-the-pharmacy")
        with pytest.raises(SimulatorError):
            sim.token(account["clientId"], account["clientSecret"])  # the old password stays replaced
        status = accounts.status(sim.app.engine.clients[account["clientId"]])
        assert status["passwordChangedAt"] == changed
        assert status["terms"] == {"version": "2027-01", "accepted": True, "deadline": "2027-03-01T00:00:00Z"}
        with pytest.raises(EnrolmentRefused) as refused:
            enrolment.redeem(used, _csr(), enrolment.now(), sim.base_url)
        assert refused.value.code == "ENROL_USED"
        again = enrolment.redeem(kept, _csr(), enrolment.now(), sim.base_url)  # issued before, used after
        assert again["clientId"] == account["clientId"]
        with pytest.raises(EnrolmentRefused):
            enrolment.redeem(kept, _csr(), enrolment.now(), sim.base_url)
