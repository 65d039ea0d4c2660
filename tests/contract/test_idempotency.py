"""Idempotency-Key on POST /transactions: replays, conflicts and concurrent repeats."""

from __future__ import annotations

import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.contract._checks import assert_problem, assert_transaction, describe
from tests.contract._servers import Service

CONCURRENT_CLIENTS = 20


def _body(account: str, amount: str = "42.00") -> dict[str, str]:
    return {"account_id": account, "amount": amount, "currency": "EUR", "merchant": "Books"}


def _rows(service: Service, account: str) -> int:
    [(count,)] = service.database.fetch(
        "SELECT COUNT(*) FROM transactions WHERE account_id = ?", (account,)
    )
    return int(count)


def _key() -> str:
    return f"key-{secrets.token_hex(8)}"


def test_a_repeat_with_the_same_key_and_body_returns_the_original(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    headers = {**api_headers, "Idempotency-Key": _key()}
    first = api.post("/transactions", headers=headers, json=_body(account))
    assert first.status_code == 201, describe(first)
    again = api.post("/transactions", headers=headers, json=_body(account))
    assert again.status_code == 201, describe(again)
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert _rows(service, account) == 1


def test_the_key_and_a_body_fingerprint_are_stored_on_the_row(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    key = _key()
    response = api.post(
        "/transactions", headers={**api_headers, "Idempotency-Key": key}, json=_body(account)
    )
    assert response.status_code == 201, describe(response)
    [(stored_key, request_hash)] = service.database.fetch(
        "SELECT idempotency_key, request_hash FROM transactions WHERE id = ?",
        (response.json()["id"],),
    )
    assert stored_key == key
    assert request_hash


def test_the_fingerprint_is_of_the_canonical_body(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    """Key order and whitespace do not make a different body."""
    headers = {**api_headers, "Idempotency-Key": _key(), "Content-Type": "application/json"}
    body = _body(account)
    first = api.post("/transactions", headers=headers, content=json.dumps(body))
    assert first.status_code == 201, describe(first)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = api.post("/transactions", headers=headers, content=reordered)
    assert again.status_code == 201, describe(again)
    assert again.json() == first.json()
    assert _rows(service, account) == 1


def test_the_same_key_with_a_different_body_is_409(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    headers = {**api_headers, "Idempotency-Key": _key()}
    first = api.post("/transactions", headers=headers, json=_body(account))
    assert first.status_code == 201, describe(first)
    conflict = api.post("/transactions", headers=headers, json=_body(account, amount="43.00"))
    assert_problem(conflict, 409)
    assert _rows(service, account) == 1
    original = api.get(first.headers["Location"], headers=api_headers)
    assert original.json() == first.json()


def test_requests_without_a_key_are_not_deduplicated(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    first = api.post("/transactions", headers=api_headers, json=_body(account))
    second = api.post("/transactions", headers=api_headers, json=_body(account))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert _rows(service, account) == 2


def test_keys_are_independent_of_each_other(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    first = api.post(
        "/transactions", headers={**api_headers, "Idempotency-Key": _key()}, json=_body(account)
    )
    second = api.post(
        "/transactions", headers={**api_headers, "Idempotency-Key": _key()}, json=_body(account)
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert _rows(service, account) == 2


def test_a_key_longer_than_255_characters_is_422(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    longest = (_key() + "k" * 255)[:255]
    accepted = api.post(
        "/transactions", headers={**api_headers, "Idempotency-Key": longest}, json=_body(account)
    )
    assert accepted.status_code == 201, describe(accepted)
    response = api.post(
        "/transactions",
        headers={**api_headers, "Idempotency-Key": longest + "k"},
        json=_body(account),
    )
    body = assert_problem(response, 422)
    fields = {error["field"].lower().replace("_", "-") for error in body["errors"]}
    assert fields == {"idempotency-key"}, body
    assert _rows(service, account) == 1


def test_concurrent_repeats_create_exactly_one_row(
    service: Service, api_headers: dict[str, str], account: str
) -> None:
    """20 clients send the same key and body at the same moment: one row, twenty 201s
    carrying the same transaction."""
    headers = {**api_headers, "Idempotency-Key": _key()}
    barrier = threading.Barrier(CONCURRENT_CLIENTS)

    def post(_: int) -> httpx.Response:
        # One connection per client so the requests spread over the worker processes.
        with httpx.Client(base_url=service.base_url, timeout=60.0) as client:
            barrier.wait()
            return client.post("/transactions", headers=headers, json=_body(account))

    with ThreadPoolExecutor(CONCURRENT_CLIENTS) as executor:
        responses = list(executor.map(post, range(CONCURRENT_CLIENTS)))
    for response in responses:
        assert response.status_code == 201, describe(response)
    bodies = [response.json() for response in responses]
    assert_transaction(bodies[0], account_id=account, amount="42.00", status="pending")
    assert all(body == bodies[0] for body in bodies), bodies
    assert _rows(service, account) == 1
