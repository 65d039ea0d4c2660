"""The audit log: one row per request to /transactions* and /accounts*, nothing else."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from fwbench.contract import MAX_BODY_BYTES
from fwbench.services.downstream.faults import Faults
from tests.contract._checks import (
    AUDIT_FIELDS,
    CreateTransaction,
    assert_generated_request_id,
    assert_problem,
    assert_timestamp_now,
    describe,
)
from tests.contract._servers import Downstream


def _audit_rows(
    api: httpx.Client, admin_headers: dict[str, str], *, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Every audit row with an id above ``after``, walking the pages with ``next``."""
    rows: list[dict[str, Any]] = []
    cursor = after
    while True:
        response = api.get(
            "/audit-log", headers=admin_headers, params={"after": cursor, "limit": limit}
        )
        assert response.status_code == 200, describe(response)
        page = response.json()
        assert set(page) == {"items", "next"}, page
        assert len(page["items"]) <= limit
        rows.extend(page["items"])
        if page["next"] is None:
            return rows
        assert page["next"] == page["items"][-1]["id"], page
        cursor = page["next"]


def _last_id(api: httpx.Client, admin_headers: dict[str, str]) -> int:
    rows = _audit_rows(api, admin_headers)
    return int(rows[-1]["id"]) if rows else 0


def test_every_audited_request_writes_exactly_one_row(
    api: httpx.Client,
    api_headers: dict[str, str],
    admin_headers: dict[str, str],
    create: CreateTransaction,
    account: str,
    faults: Downstream,
) -> None:
    """Each outcome (201, 200, 401, 404, 405, 409, 413, 422, 502, 504) leaves one row with
    the request's id, method, path without query, status and actor, in request order."""
    created = create()
    start = _last_id(api, admin_headers)
    tag = secrets.token_hex(4)
    expected: list[tuple[str, str, str, int, str | None]] = []

    def send(
        method: str,
        url: str,
        status: int,
        actor: str | None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        request_id = f"audit-{tag}-{len(expected)}"
        response = api.request(
            method, url, headers={**(headers or {}), "X-Request-ID": request_id}, **kwargs
        )
        assert response.status_code == status, describe(response)
        expected.append((request_id, method, url.split("?")[0], status, actor))

    body = {"account_id": account, "amount": "3.00", "currency": "EUR", "merchant": "m"}
    key = {"Idempotency-Key": f"audit-{tag}"}
    send("POST", "/transactions", 201, "api", headers={**api_headers, **key}, json=body)
    send("POST", "/transactions", 201, "api", headers={**api_headers, **key}, json=body)
    other = {**body, "amount": "4.00"}
    send("POST", "/transactions", 409, "api", headers={**api_headers, **key}, json=other)
    send("GET", f"/transactions/{created['id']}", 200, "admin", headers=admin_headers)
    send("GET", f"/transactions?account_id={account}&limit=2", 200, "api", headers=api_headers)
    send("GET", "/transactions", 401, None)
    send("GET", "/transactions", 401, None, headers={"Authorization": "Bearer wrong"})
    send("GET", "/transactions/999999999", 404, "api", headers=api_headers)
    send("GET", "/transactions/1/nope", 404, "api", headers=api_headers)
    send("DELETE", "/transactions", 405, "api", headers=api_headers)
    send("GET", "/transactions?limit=0", 422, "api", headers=api_headers)
    send("POST", "/transactions", 422, "api", headers=api_headers, json={**body, "amount": 1})
    send(
        "POST",
        "/transactions",
        400,
        "api",
        headers={**api_headers, "Content-Type": "application/json"},
        content=b"{",
    )
    send(
        "POST",
        "/transactions",
        413,
        "api",
        headers={**api_headers, "Content-Type": "application/json"},
        content=b" " * (MAX_BODY_BYTES + 1),
    )
    send("GET", f"/accounts/{account}/summary", 200, "api", headers=api_headers)
    send("GET", "/accounts/a.b/summary", 422, "admin", headers=admin_headers)
    send("GET", f"/accounts/{account}/summary", 401, None)
    faults.set_faults(Faults(error_rate=1.0, status=500))
    send("POST", f"/transactions/{created['id']}/fraud-check", 502, "api", headers=api_headers)
    faults.set_faults(Faults(latency_ms=1500, score=0.1))
    send("POST", f"/transactions/{created['id']}/fraud-check", 504, "api", headers=api_headers)
    faults.set_faults(Faults(score=0.1))
    send("POST", f"/transactions/{created['id']}/fraud-check", 200, "api", headers=api_headers)

    rows = _audit_rows(api, admin_headers, after=start)
    observed = [
        (row["request_id"], row["method"], row["path"], row["status"], row["actor"]) for row in rows
    ]
    assert observed == expected
    for row in rows:
        assert set(row) == AUDIT_FIELDS, row
        assert isinstance(row["id"], int), row
        assert isinstance(row["duration_ms"], int | float) and row["duration_ms"] >= 0, row
        assert_timestamp_now(row["created_at"])
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)


def test_a_generated_request_id_is_the_one_audited(
    api: httpx.Client, api_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    start = _last_id(api, admin_headers)
    response = api.get("/transactions?limit=1", headers=api_headers)
    assert response.status_code == 200, describe(response)
    generated = response.headers["X-Request-ID"]
    assert_generated_request_id(generated)
    [row] = _audit_rows(api, admin_headers, after=start)
    assert row["request_id"] == generated


def test_operations_benchmark_and_audit_requests_are_not_audited(
    api: httpx.Client, admin_headers: dict[str, str], api_headers: dict[str, str]
) -> None:
    start = _last_id(api, admin_headers)
    for path in (
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/json",
        "/plaintext",
        "/db",
        "/queries?queries=2",
        "/updates?queries=2",
        "/fortunes",
        "/io?ms=0",
        "/audit-log?limit=1",
        "/nope",
    ):
        response = api.get(path, headers=admin_headers)
        assert response.status_code in {200, 404}, describe(response)
    assert_problem(api.get("/audit-log", headers=api_headers), 403)
    assert_problem(api.get("/audit-log"), 401)
    assert _audit_rows(api, admin_headers, after=start) == []


def test_small_pages_walk_the_same_rows_as_large_ones(
    api: httpx.Client, api_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    for _ in range(5):
        api.get("/transactions?limit=1", headers=api_headers)
    everything = _audit_rows(api, admin_headers)
    assert len(everything) >= 5
    assert [row["id"] for row in _audit_rows(api, admin_headers, limit=3)] == [
        row["id"] for row in everything
    ]
    first = api.get("/audit-log", headers=admin_headers).json()
    assert first["items"] == everything[:50]
    assert first["next"] == (everything[49]["id"] if len(everything) > 50 else None)


@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", "0"), ("limit", "101"), ("limit", "x"), ("after", "-1"), ("after", "x")],
)
def test_invalid_audit_log_parameters_are_422(
    api: httpx.Client, admin_headers: dict[str, str], name: str, value: str
) -> None:
    response = api.get("/audit-log", headers=admin_headers, params={name: value})
    assert_problem(response, 422, fields={name})
