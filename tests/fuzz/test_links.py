"""The fuzzer's stateful phase follows the contract's links: the sequences the issue asks
for (create, get, list with its cursor, fraud-check, summary) must be among them, whatever
schemathesis infers on top. Checked from the schema alone, without a server."""

from __future__ import annotations

from typing import Final

import schemathesis

from tests.fuzz._schemathesis import CONTRACT

#: (source operation, status, target operation) of every link the contract must declare.
REQUIRED: Final = {
    ("POST /transactions", "201", "GET /transactions/{id}"),
    ("POST /transactions", "201", "POST /transactions/{id}/fraud-check"),
    ("POST /transactions", "201", "GET /accounts/{account_id}/summary"),
    ("POST /transactions", "201", "GET /transactions"),
    ("POST /transactions/{id}/fraud-check", "200", "GET /accounts/{account_id}/summary"),
    ("GET /transactions", "200", "GET /transactions"),
    ("GET /audit-log", "200", "GET /audit-log"),
}


def test_the_stateful_phase_has_the_contracts_links() -> None:
    machine = schemathesis.openapi.from_path(str(CONTRACT)).as_state_machine()
    declared = {
        (source, link.status_code, link.target.label)
        for source, operation in machine._transitions.operations.items()
        for link in operation.outgoing
        if not link.is_inferred
    }
    assert declared >= REQUIRED, f"missing links: {sorted(REQUIRED - declared)}"
