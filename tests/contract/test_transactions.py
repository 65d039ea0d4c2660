"""POST /transactions, GET /transactions/{id} and the keyset-paginated list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fwbench.contract import MAX_BODY_BYTES
from tests.contract._checks import CreateTransaction, assert_problem, assert_transaction, describe
from tests.contract._servers import Service


def _body(account: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "account_id": account,
        "amount": "12.50",
        "currency": "EUR",
        "merchant": "Coffee Shop",
    }
    body.update(changes)
    return body


def test_create_answers_201_with_location_and_the_pending_transaction(
    api: httpx.Client, api_headers: dict[str, str], account: str
) -> None:
    response = api.post("/transactions", headers=api_headers, json=_body(account))
    assert response.status_code == 201, describe(response)
    assert response.headers["content-type"].split(";")[0] == "application/json"
    body = assert_transaction(
        response.json(),
        account_id=account,
        amount="12.50",
        currency="EUR",
        merchant="Coffee Shop",
        status="pending",
        fraud_score=None,
    )
    assert response.headers["Location"] == f"/transactions/{body['id']}"


@pytest.mark.parametrize(
    ("amount", "rendered"),
    [
        ("12.5", "12.50"),
        ("7", "7.00"),
        ("0.01", "0.01"),
        ("1000000.00", "1000000.00"),
        ("1000000", "1000000.00"),
        ("0999.90", "999.90"),
    ],
)
def test_amount_is_rendered_with_two_fraction_digits(
    create: CreateTransaction, amount: str, rendered: str
) -> None:
    assert create(amount=amount)["amount"] == rendered


def test_field_length_limits_are_inclusive(create: CreateTransaction, account: str) -> None:
    long_account = (account + "x" * 64)[:64]
    body = create(account=long_account, merchant="m" * 128, currency="JPY")
    assert body["account_id"] == long_account
    assert body["merchant"] == "m" * 128
    short = create(account="a", merchant="m")
    assert (short["account_id"], short["merchant"]) == ("a", "m")


def test_get_returns_the_created_transaction(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction
) -> None:
    created = create(merchant="Bäckerei Müller – 東京")
    response = api.get(f"/transactions/{created['id']}", headers=api_headers)
    assert response.status_code == 200, describe(response)
    assert response.json() == created


@pytest.mark.parametrize("transaction_id", ["999999999", "0", "-1", "abc", "1.5", "1e3"])
def test_get_of_a_missing_or_invalid_id_is_404(
    api: httpx.Client, api_headers: dict[str, str], transaction_id: str
) -> None:
    response = api.get(f"/transactions/{transaction_id}", headers=api_headers)
    assert_problem(response, 404)


INVALID_FIELDS: list[tuple[str, str, object]] = [
    ("number-amount", "amount", 12.5),
    ("integer-amount", "amount", 12),
    ("zero-amount", "amount", "0"),
    ("zero-cents-amount", "amount", "0.00"),
    ("negative-amount", "amount", "-5.00"),
    ("too-large-amount", "amount", "1000000.01"),
    ("three-decimals", "amount", "12.345"),
    ("exponent-amount", "amount", "1e3"),
    ("text-amount", "amount", "abc"),
    ("empty-amount", "amount", ""),
    ("null-amount", "amount", None),
    ("lower-currency", "currency", "eur"),
    ("long-currency", "currency", "EURO"),
    ("short-currency", "currency", "EU"),
    ("number-currency", "currency", 978),
    ("empty-merchant", "merchant", ""),
    ("long-merchant", "merchant", "m" * 129),
    ("number-merchant", "merchant", 5),
    ("empty-account", "account_id", ""),
    ("long-account", "account_id", "a" * 65),
    ("space-account", "account_id", "has space"),
    ("dot-account", "account_id", "a.b"),
    ("list-account", "account_id", ["a"]),
]


@pytest.mark.parametrize(
    ("field", "value"),
    [pytest.param(field, value, id=case) for case, field, value in INVALID_FIELDS],
)
def test_an_invalid_field_is_422_naming_it(
    api: httpx.Client, api_headers: dict[str, str], account: str, field: str, value: object
) -> None:
    response = api.post("/transactions", headers=api_headers, json=_body(account, **{field: value}))
    assert_problem(response, 422, fields={field})


@pytest.mark.parametrize("field", ["account_id", "amount", "currency", "merchant"])
def test_a_missing_field_is_422_naming_it(
    api: httpx.Client, api_headers: dict[str, str], account: str, field: str
) -> None:
    body = _body(account)
    del body[field]
    response = api.post("/transactions", headers=api_headers, json=body)
    assert_problem(response, 422, fields={field})


def test_an_unknown_field_is_422_naming_it(
    api: httpx.Client, api_headers: dict[str, str], account: str
) -> None:
    response = api.post(
        "/transactions", headers=api_headers, json=_body(account, status="approved")
    )
    assert_problem(response, 422, fields={"status"})


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null", "true"])
def test_a_body_that_is_not_an_object_is_422(
    api: httpx.Client, api_headers: dict[str, str], raw: str
) -> None:
    response = api.post(
        "/transactions",
        headers={**api_headers, "Content-Type": "application/json"},
        content=raw,
    )
    body = assert_problem(response, 422)
    assert isinstance(body.get("errors"), list), describe(response)


@pytest.mark.parametrize("raw", ['{"amount": ', "{'amount': '1'}", "not json", '{"a": 1}}'])
def test_malformed_json_is_400(api: httpx.Client, api_headers: dict[str, str], raw: str) -> None:
    response = api.post(
        "/transactions",
        headers={**api_headers, "Content-Type": "application/json"},
        content=raw,
    )
    assert_problem(response, 400)


def _padded(account: str, size: int) -> bytes:
    """A valid transaction body of exactly ``size`` bytes (JSON whitespace padding)."""
    compact = json.dumps(_body(account)).encode()
    return compact[:-1] + b" " * (size - len(compact)) + b"}"


def test_a_body_of_exactly_64_kib_is_accepted(
    api: httpx.Client, api_headers: dict[str, str], account: str
) -> None:
    content = _padded(account, MAX_BODY_BYTES)
    assert len(content) == MAX_BODY_BYTES
    response = api.post(
        "/transactions",
        headers={**api_headers, "Content-Type": "application/json"},
        content=content,
    )
    assert response.status_code == 201, describe(response)


def test_a_body_over_64_kib_is_413(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    response = api.post(
        "/transactions",
        headers={**api_headers, "Content-Type": "application/json"},
        content=_padded(account, MAX_BODY_BYTES + 1),
    )
    assert_problem(response, 413)
    assert service.database.fetch(
        "SELECT COUNT(*) FROM transactions WHERE account_id = ?", (account,)
    ) == [(0,)]


def test_a_chunked_body_over_64_kib_is_413(
    api: httpx.Client, api_headers: dict[str, str], account: str, service: Service
) -> None:
    """Without Content-Length the real size counts (the body arrives chunked)."""
    content = _padded(account, 2 * MAX_BODY_BYTES)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), 8192):
            yield content[start : start + 8192]

    response = api.post(
        "/transactions",
        headers={**api_headers, "Content-Type": "application/json"},
        content=chunks(),
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert service.database.fetch(
        "SELECT COUNT(*) FROM transactions WHERE account_id = ?", (account,)
    ) == [(0,)]


# -- the list ---------------------------------------------------------------------------


def _page(api: httpx.Client, headers: dict[str, str], **params: str | int) -> dict[str, Any]:
    response = api.get("/transactions", headers=headers, params=params)
    assert response.status_code == 200, describe(response)
    body: dict[str, Any] = response.json()
    assert set(body) == {"items", "next"}, body
    return body


def test_pages_walk_every_row_exactly_once_in_id_order(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, account: str
) -> None:
    created = [create(amount=f"{index}.00") for index in range(1, 8)]
    seen: list[dict[str, Any]] = []
    cursor: int | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"account_id": account, "limit": 3}
        if cursor is not None:
            params["after"] = cursor
        page = _page(api, api_headers, **params)
        pages += 1
        seen.extend(page["items"])
        if page["next"] is None:
            break
        assert page["next"] == page["items"][-1]["id"], page
        cursor = page["next"]
        assert pages < 10, "the cursor does not advance"
    assert pages == 3
    assert seen == created


def test_next_is_null_when_the_last_page_is_exactly_full(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, account: str
) -> None:
    created = [create() for _ in range(6)]
    first = _page(api, api_headers, account_id=account, limit=3)
    assert [item["id"] for item in first["items"]] == [item["id"] for item in created[:3]]
    assert first["next"] == created[2]["id"]
    second = _page(api, api_headers, account_id=account, limit=3, after=first["next"])
    assert second["items"] == created[3:]
    assert second["next"] is None
    empty = _page(api, api_headers, account_id=account, after=created[-1]["id"])
    assert empty == {"items": [], "next": None}


def test_limit_defaults_to_50(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, account: str
) -> None:
    created = [create() for _ in range(51)]
    page = _page(api, api_headers, account_id=account)
    assert [item["id"] for item in page["items"]] == [item["id"] for item in created[:50]]
    assert page["next"] == created[49]["id"]


def test_limit_bounds_are_inclusive(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, account: str
) -> None:
    created = [create() for _ in range(2)]
    assert _page(api, api_headers, account_id=account, limit=1)["items"] == created[:1]
    assert _page(api, api_headers, account_id=account, limit=100)["items"] == created


def test_without_account_filter_the_cursor_lists_every_account(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, account: str
) -> None:
    first = create()
    others = [create(account=f"{account}-other"), create()]
    page = _page(api, api_headers, after=first["id"], limit=100)
    assert page["items"] == others
    assert page["next"] is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "-1"),
        ("limit", "abc"),
        ("limit", "2.5"),
        ("after", "-1"),
        ("after", "abc"),
        ("account_id", "has space"),
        ("account_id", "a" * 65),
    ],
    ids=[
        "limit-0",
        "limit-101",
        "limit-negative",
        "limit-text",
        "limit-fraction",
        "after-negative",
        "after-text",
        "account-space",
        "account-too-long",
    ],
)
def test_invalid_list_parameters_are_422_naming_them(
    api: httpx.Client, api_headers: dict[str, str], name: str, value: str
) -> None:
    response = api.get("/transactions", headers=api_headers, params={name: value})
    assert_problem(response, 422, fields={name})
