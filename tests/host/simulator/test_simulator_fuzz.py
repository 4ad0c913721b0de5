"""Fuzzing the OpenAPI surface with schemathesis: no input produces a 500 (issue 3, item 6).

Fault injection and the clock are left out of the fuzzed operations (their whole point is to produce
500/503 answers or to move time), and seeding too (it is bounded only by what a test machine can store).
Examples per operation are bounded to keep the suite within its time budget.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from fmd_simulator.openapi import openapi_document
from fmd_simulator.testing import running_simulator


@pytest.fixture(scope="module")
def fuzz_sim():
    with running_simulator(seed_packs=20) as sim:
        yield sim


# The document the server serves (GET /openapi.json, checked below), loaded statically so the test cases are
# known at collection time (schemathesis' lazy fixture loader does not support pytest 9 yet).
schema = schemathesis.openapi.from_dict(openapi_document()).exclude(path_regex="^/admin/(faults|clock|seed)")


def test_served_document_is_the_fuzzed_one(fuzz_sim):
    assert fuzz_sim.request("GET", "/openapi.json")[2] == json.loads(json.dumps(openapi_document()))


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_produces_a_server_error(case, fuzz_sim):
    headers = dict(case.headers or {})
    headers["Authorization"] = "Bearer " + fuzz_sim.token()  # authentication has its own tests
    response = case.call(base_url=fuzz_sim.base_url, headers=headers, timeout=30)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert body["operationCode"].startswith("NMVS_") and body["description"], body


@pytest.fixture(scope="module")
def seeded(fuzz_sim):
    return fuzz_sim.seeded_packs()


def test_fuzzed_operations_include_the_single_pack_calls():
    paths = {op.path for op in (result.ok() for result in schema.get_all_operations())}
    assert {"/product/{scheme}/{productCode}/pack/{serial}", "/product/packs", "/recovery/packs",
            "/identity/connect/token", "/admin/packs"} <= paths
