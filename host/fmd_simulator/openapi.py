"""The OpenAPI 3.0 description of the simulator's HTTP interface (VERIFICATION-SERVICE.md, section 7).

Served at ``GET /openapi.json``; the fuzz tests (schemathesis) drive the service from it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_STATES = ["Supplied", "Destroyed", "Sample", "FreeSample", "Stolen", "Locked", "Exported", "Active"]
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: str = "Problem") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_PROBLEMS = {
    "400": _answer("malformed field (never an alert)"),
    "401": _answer("authentication"),
    "403": _answer("operation not permitted for this role"),
    "413": _answer("body over the documented limit"),
    "415": _answer("wrong content type"),
    "422": _answer("missing or invalid header"),
    "429": _answer("throttled; see Retry-After"),
    "500": _answer("injected error or timeout"),
    "503": _answer("outage; see Retry-After"),
}
_PACK_PATH = [
    {"name": "scheme", "in": "path", "required": True, "schema": {"type": "string", "enum": ["GTIN", "PPN"]}},
    {"name": "productCode", "in": "path", "required": True, "schema": {"type": "string"}},
    {"name": "serial", "in": "path", "required": True, "schema": {"type": "string"}},
]
_MODE = {"name": "emvs-data-entry-mode", "in": "header", "required": True,
         "schema": {"type": "string", "enum": ["non-manual", "manual"]}}
_ADMIN = {"tags": ["administration"]}


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The document (built once)."""
    pack_answers = {"200": _answer("processed (the body may carry an alert)", "PackResult"),
                    "409": _answer("state change refused", "PackResult"), **_PROBLEMS}
    bulk_request = {"type": "object", "required": ["requestedState", "items"], "properties": {
        "requestedState": {"type": "string", "enum": _STATES},
        "items": {"type": "array", "minItems": 1, "maxItems": 100000, "items": _ref("BulkItem")}}}
    recovery_item = {"allOf": [_ref("BulkItem"), {"type": "object", "required": ["requestedState"], "properties": {
        "requestedState": {"type": "string", "enum": _STATES}, "recordedAt": {"type": "string"}}}]}
    return {
        "openapi": "3.0.3",
        "info": {"title": "FMD verification-service simulator", "version": "1",
                 "description": "Single-pack, bulk and recovery operations of a national medicines verification "
                                "system (VERIFICATION-SERVICE.md, section 7), plus the simulator's administration."},
        "paths": {
            "/identity/connect/token": {"post": {
                "summary": "OAuth2 client credentials", "requestBody": {"required": True, "content": {
                    "application/x-www-form-urlencoded": {"schema": {
                        "type": "object", "required": ["grant_type", "client_id", "client_secret"], "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}},
                "responses": {"200": {"description": "token", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"access_token": {"type": "string"},
                                                     "token_type": {"type": "string"},
                                                     "expires_in": {"type": "integer"}}}}}}, **_PROBLEMS}}},
            "/product/{scheme}/{productCode}/pack/{serial}": {
                "get": {"summary": "Verify (G110)", "security": _BEARER, "parameters": [
                    *_PACK_PATH, _MODE,
                    {"name": "batch", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "expiry", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "nhrn", "in": "query", "required": False, "schema": {"type": "string"}}],
                    "responses": pack_answers},
                "patch": {"summary": "Change state (G120...G182) or undo", "security": _BEARER, "parameters": [
                    *_PACK_PATH, _MODE,
                    {"name": "X-Client-Trx-Id", "in": "header", "required": True,
                     "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,32}$"}}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("StateChange")}}},
                    "responses": pack_answers}},
            "/product/packs": {"post": {
                "summary": "Bulk state change (G125...G185)", "security": _BEARER, "parameters": [_MODE],
                "requestBody": {"required": True, "content": {"application/json": {"schema": bulk_request}}},
                "responses": {"202": _answer("accepted", "BulkAccepted"), **_PROBLEMS}}},
            "/product/packs/{bulkId}": {"get": {
                "summary": "Bulk results (G188)", "security": _BEARER,
                "parameters": [{"name": "bulkId", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _answer("done", "BulkResults"), "202": _answer("NMVS_FE_TX_02: not ready"),
                              "404": _answer("unknown bulk id"), **_PROBLEMS}}},
            "/recovery/packs": {"post": {
                "summary": "Recovery upload of operations recorded offline (G195)", "security": _BEARER,
                "parameters": [_MODE],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["items"], "properties": {"items": {
                        "type": "array", "minItems": 1, "maxItems": 100000, "items": recovery_item}}}}}},
                "responses": {"202": _answer("accepted", "BulkAccepted"), **_PROBLEMS}}},
            "/recovery/packs/{bulkId}": {"get": {
                "summary": "Recovery results (G196)", "security": _BEARER,
                "parameters": [{"name": "bulkId", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _answer("done", "BulkResults"), "202": _answer("NMVS_FE_TX_02: not ready"),
                              "404": _answer("unknown id"), **_PROBLEMS}}},
            "/ping": {"get": {"summary": "Ping", "responses": {"200": {"description": "ok"}, **_PROBLEMS}}},
            "/admin/alerts": {"get": {**_ADMIN, "summary": "Alert log",
                                      "responses": {"200": {"description": "alerts"}}}},
            "/admin/faults": {
                "get": {**_ADMIN, "summary": "Fault settings", "responses": {"200": {"description": "settings"}}},
                "put": {**_ADMIN, "summary": "Set faults (section 8)", "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object"}}}},
                    "responses": {"200": {"description": "settings"}, "400": _answer("bad settings")}}},
            "/admin/clock": {
                "get": {**_ADMIN, "summary": "Simulator clock", "responses": {"200": {"description": "clock"}}},
                "post": {**_ADMIN, "summary": "Move or freeze the clock", "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "advanceDays": {"type": "number"}, "now": {"type": "string"}, "frozen": {"type": "boolean"}}}}}},
                    "responses": {"200": {"description": "clock"}, "400": _answer("bad clock request")}}},
            "/admin/seed": {"post": {**_ADMIN, "summary": "Seed deterministic data", "requestBody": {
                "required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "packs": {"type": "integer", "minimum": 0, "maximum": 1000}, "seed": {"type": "integer"},
                    "market": {"type": "string", "enum": ["FR", "DE"]}}}}}},
                "responses": {"200": {"description": "the seeded packs"}, "400": _answer("bad request")}}},
            "/admin/packs": {
                "get": {**_ADMIN, "summary": "Every pack", "responses": {"200": {"description": "packs"}}},
                "post": {**_ADMIN, "summary": "Upload master data and packs", "requestBody": {"required": True,
                         "content": {"application/json": {"schema": {"type": "object", "required": ["packs"],
                                                                     "properties": {"packs": {"type": "array"}}}}}},
                         "responses": {"200": {"description": "loaded"}, "400": _answer("bad record")}}},
            "/admin/packs/{scheme}/{productCode}/{serial}": {"get": {
                **_ADMIN, "summary": "State and full history of a pack", "parameters": _PACK_PATH,
                "responses": {"200": {"description": "pack"}}}},
            "/admin/batches/{scheme}/{productCode}/{batch}/{action}": {"post": {
                **_ADMIN, "summary": "Recall or withdraw a batch", "parameters": [
                    *_PACK_PATH[:2], {"name": "batch", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "action", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": ["recall", "withdraw"]}}],
                "responses": {"200": {"description": "done"}, "404": _answer("unknown batch")}}},
            "/admin/products/{scheme}/{productCode}/withdraw": {"post": {
                **_ADMIN, "summary": "Withdraw a product", "parameters": _PACK_PATH[:2],
                "responses": {"200": {"description": "done"}, "404": _answer("unknown product")}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {"type": "object", "required": ["operationCode", "description"], "properties": {
                    "operationCode": {"type": "string"}, "description": {"type": "string"}}},
                "StateChange": {"type": "object", "required": ["batch", "expiry", "state"], "properties": {
                    "batch": {"type": "string"}, "expiry": {"type": "string"},
                    "state": {"type": "string", "enum": _STATES}, "refClientTrxId": {"type": "string"}}},
                "PackResult": {"type": "object", "required": ["operationCode", "description", "state", "reasons",
                                                              "alertId", "isIntermarket", "nmvsTrxId", "timestamp"],
                               "properties": {
                    "operationCode": {"type": "string"}, "description": {"type": "string"},
                    "state": {"type": "string", "nullable": True},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "alertId": {"type": "string", "nullable": True}, "alertCode": {"type": "string", "nullable": True},
                    "isIntermarket": {"type": "boolean"}, "productName": {"type": "string", "nullable": True},
                    "batchState": {"type": "string", "nullable": True}, "nmvsTrxId": {"type": "string"},
                    "clientTrxId": {"type": "string", "nullable": True}, "timestamp": {"type": "string"}}},
                "BulkItem": {"type": "object", "required": ["scheme", "productCode", "serial", "batch", "expiry",
                                                            "clientTrxId"], "properties": {
                    "scheme": {"type": "string"}, "productCode": {"type": "string"}, "serial": {"type": "string"},
                    "batch": {"type": "string"}, "expiry": {"type": "string"}, "clientTrxId": {"type": "string"},
                    "refClientTrxId": {"type": "string"}}},
                "BulkAccepted": {"type": "object", "required": ["bulkId", "resultsUri"], "properties": {
                    "bulkId": {"type": "string"}, "resultsUri": {"type": "string"}}},
                "BulkResults": {"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array", "items": _ref("PackResult")}}},
            },
        },
    }
