"""GET /accounts/{account_id}/summary."""

from __future__ import annotations

import httpx
import pytest

from tests.contract._checks import CreateTransaction, assert_problem, describe
from tests.contract._servers import Downstream, Faults


def test_the_summary_counts_and_totals_exactly(
    api: httpx.Client,
    api_headers: dict[str, str],
    create: CreateTransaction,
    account: str,
    faults: Downstream,
) -> None:
    # 0.10 + 0.20 is the classic float trap; 999999.99 + 0.01 + 1000000.00 checks that
    # large sums keep their cents.
    for amount, currency in [
        ("12.50", "EUR"),
        ("0.10", "EUR"),
        ("0.20", "EUR"),
        ("999999.99", "USD"),
        ("0.01", "USD"),
        ("1000000.00", "USD"),
        ("7", "JPY"),
    ]:
        create(amount=amount, currency=currency)
    declined = create(amount="5.05", currency="EUR")
    faults.set_faults(Faults(score=0.9))
    check = api.post(f"/transactions/{declined['id']}/fraud-check", headers=api_headers)
    assert check.json()["status"] == "declined", describe(check)
    approved = create(amount="0.05", currency="EUR")
    faults.set_faults(Faults(score=0.1))
    check = api.post(f"/transactions/{approved['id']}/fraud-check", headers=api_headers)
    assert check.json()["status"] == "approved", describe(check)
    create(amount="1.00", currency="EUR", account=f"{account}-other")

    response = api.get(f"/accounts/{account}/summary", headers=api_headers)
    assert response.status_code == 200, describe(response)
    assert response.json() == {
        "account_id": account,
        "transactions": 9,
        "declined": 1,
        "totals": {"EUR": "17.90", "USD": "2000000.00", "JPY": "7.00"},
    }


def test_an_unknown_account_has_zero_counts_and_no_totals(
    api: httpx.Client, api_headers: dict[str, str], account: str
) -> None:
    response = api.get(f"/accounts/{account}/summary", headers=api_headers)
    assert response.status_code == 200, describe(response)
    assert response.json() == {
        "account_id": account,
        "transactions": 0,
        "declined": 0,
        "totals": {},
    }


@pytest.mark.parametrize(
    "account_id",
    [
        pytest.param("a" * 65, id="too-long"),
        pytest.param("has%20space", id="space"),
        pytest.param("a.b", id="dot"),
        pytest.param("caf%C3%A9", id="non-ascii"),
    ],
)
def test_an_invalid_account_id_is_422(
    api: httpx.Client, api_headers: dict[str, str], account_id: str
) -> None:
    response = api.get(f"/accounts/{account_id}/summary", headers=api_headers)
    assert_problem(response, 422, fields={"account_id"})
