"""Error responses outside validation (404, 405) and X-Request-ID on every response."""

from __future__ import annotations

import httpx
import pytest

from tests.contract._checks import assert_generated_request_id, assert_problem, describe

UNKNOWN_PATHS = ["/nope", "/json/extra", "/transactions/1/nope", "/accounts/a", "/TRANSACTIONS"]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_an_unknown_route_is_a_404_problem(
    api: httpx.Client, admin_headers: dict[str, str], path: str
) -> None:
    assert_problem(api.get(path, headers=admin_headers), 404)


WRONG_METHODS: list[tuple[str, str, set[str]]] = [
    ("DELETE", "/transactions", {"GET", "POST"}),
    ("PUT", "/transactions/1", {"GET"}),
    ("GET", "/transactions/1/fraud-check", {"POST"}),
    ("POST", "/accounts/a/summary", {"GET"}),
    ("DELETE", "/audit-log", {"GET"}),
    ("POST", "/json", {"GET"}),
    ("PUT", "/plaintext", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/fortunes", {"GET"}),
]


@pytest.mark.parametrize(
    ("method", "path", "allowed"), WRONG_METHODS, ids=[f"{m} {p}" for m, p, _ in WRONG_METHODS]
)
def test_a_wrong_method_is_a_405_problem_with_allow(
    api: httpx.Client, admin_headers: dict[str, str], method: str, path: str, allowed: set[str]
) -> None:
    response = api.request(method, path, headers=admin_headers)
    assert_problem(response, 405)
    allow = {value.strip().upper() for value in response.headers.get("Allow", "").split(",")}
    assert allowed <= allow, describe(response)
    assert method not in allow, describe(response)


@pytest.mark.parametrize(
    "request_id", ["abc", "a.B_c-9", "r" * 128, "0", "550e8400-e29b-41d4-a716-446655440000"]
)
@pytest.mark.parametrize(
    ("path", "status"),
    [("/healthz", 200), ("/json", 200), ("/transactions", 401), ("/nope", 404)],
)
def test_a_valid_request_id_is_echoed(
    api: httpx.Client, request_id: str, path: str, status: int
) -> None:
    response = api.get(path, headers={"X-Request-ID": request_id})
    assert response.status_code == status, describe(response)
    assert response.headers.get_list("X-Request-ID") == [request_id]


@pytest.mark.parametrize(
    "request_id",
    [
        pytest.param("r" * 129, id="too-long"),
        pytest.param("has space", id="space"),
        pytest.param("a/b", id="slash"),
        pytest.param("a;b", id="semicolon"),
        pytest.param("{x}", id="braces"),
        pytest.param("", id="empty"),
    ],
)
@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/transactions", 401)])
def test_an_invalid_request_id_is_replaced_by_a_uuid4(
    api: httpx.Client, request_id: str, path: str, status: int
) -> None:
    response = api.get(path, headers={"X-Request-ID": request_id})
    assert response.status_code == status, describe(response)
    [generated] = response.headers.get_list("X-Request-ID")
    assert_generated_request_id(generated)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/plaintext", 200),
        ("GET", "/fortunes", 200),
        ("GET", "/metrics", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/transactions", 401),
        ("GET", "/nope", 404),
        ("POST", "/json", 405),
    ],
)
def test_a_missing_request_id_is_generated_as_a_fresh_uuid4(
    api: httpx.Client, method: str, path: str, status: int
) -> None:
    first = api.request(method, path)
    second = api.request(method, path)
    assert first.status_code == second.status_code == status, describe(first)
    assert_generated_request_id(first.headers.get("X-Request-ID"))
    assert_generated_request_id(second.headers.get("X-Request-ID"))
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
