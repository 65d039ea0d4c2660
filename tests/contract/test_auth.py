"""Bearer tokens: API token on /transactions* and /accounts*, admin token everywhere."""

from __future__ import annotations

import httpx
import pytest

from tests.contract._checks import CreateTransaction, assert_problem, describe

VALID_BODY = {"account_id": "auth", "amount": "1.00", "currency": "EUR", "merchant": "m"}

PROTECTED: list[tuple[str, str]] = [
    ("POST", "/transactions"),
    ("GET", "/transactions"),
    ("GET", "/transactions/1"),
    ("POST", "/transactions/1/fraud-check"),
    ("GET", "/accounts/someone/summary"),
    ("GET", "/audit-log"),
]

BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "missing": {},
    "wrong-token": {"Authorization": "Bearer not-the-token"},
    "scheme-only": {"Authorization": "Bearer"},
    "basic-scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "token-without-scheme": {"Authorization": "not-the-token"},
}


def _send(api: httpx.Client, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = VALID_BODY if method == "POST" and path == "/transactions" else None
    return api.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS))
@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m}-{p}" for m, p in PROTECTED])
def test_missing_or_wrong_credentials_are_401_with_a_bearer_challenge(
    api: httpx.Client, method: str, path: str, credentials: str
) -> None:
    response = _send(api, method, path, BAD_CREDENTIALS[credentials])
    assert_problem(response, 401)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(response)


def test_the_api_token_cannot_read_the_audit_log(
    api: httpx.Client, api_headers: dict[str, str]
) -> None:
    assert_problem(api.get("/audit-log", headers=api_headers), 403)


def test_the_admin_token_is_accepted_everywhere(
    api: httpx.Client, admin_headers: dict[str, str], create: CreateTransaction
) -> None:
    created = create()
    response = api.post("/transactions", headers=admin_headers, json=VALID_BODY)
    assert response.status_code == 201, describe(response)
    for path in (
        f"/transactions/{created['id']}",
        "/transactions?limit=1",
        "/accounts/auth/summary",
        "/audit-log?limit=1",
    ):
        response = api.get(path, headers=admin_headers)
        assert response.status_code == 200, describe(response)


def test_the_api_token_is_accepted_on_the_api_routes(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction
) -> None:
    created = create()
    for path in (f"/transactions/{created['id']}", "/transactions?limit=1", "/accounts/a/summary"):
        response = api.get(path, headers=api_headers)
        assert response.status_code == 200, describe(response)


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        pytest.param("POST", "/transactions", '{"amount": 1}', id="invalid-body"),
        pytest.param("POST", "/transactions", '{"amount": ', id="malformed-json"),
        pytest.param("GET", "/transactions?limit=0", None, id="invalid-limit"),
        pytest.param("GET", "/transactions/abc", None, id="invalid-id"),
        pytest.param("GET", "/transactions/999999999", None, id="missing-id"),
        pytest.param("POST", "/transactions/999999999/fraud-check", None, id="missing-check"),
        pytest.param("GET", "/accounts/a.b/summary", None, id="invalid-account"),
        pytest.param("GET", "/audit-log?limit=0", None, id="invalid-audit-limit"),
    ],
)
def test_authentication_is_checked_before_validation(
    api: httpx.Client, method: str, path: str, content: str | None
) -> None:
    headers = {"Content-Type": "application/json"} if content is not None else {}
    response = api.request(method, path, headers=headers, content=content)
    assert_problem(response, 401)


@pytest.mark.parametrize("path", ["/json", "/plaintext", "/db", "/healthz", "/readyz", "/metrics"])
def test_operations_and_benchmark_endpoints_need_no_token(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 200, describe(response)
