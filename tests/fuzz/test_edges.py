"""Inputs the fuzzer found mishandled, kept as plain regression tests so that a small
fuzz budget cannot miss them again."""

from __future__ import annotations

import httpx
import pytest

from tests.contract._checks import assert_problem
from tests.contract._servers import Service, ServicePool

#: Beyond PostgreSQL's integer (2**31 - 1), beyond its bigint, and beyond both.
HUGE_IDS = [2**31, 2**63, 10**25]


@pytest.mark.parametrize("after", HUGE_IDS)
def test_a_cursor_beyond_every_id_is_an_empty_page(
    service: Service, pool: ServicePool, after: int
) -> None:
    """Found on Flask + PostgreSQL: the cursor overflowed the integer column (500)."""
    with httpx.Client(base_url=service.base_url, timeout=30) as client:
        for path, token in (("/transactions", pool.api_token), ("/audit-log", pool.admin_token)):
            response = client.get(
                path, params={"after": after}, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
            assert response.json() == {"items": [], "next": None}


@pytest.mark.parametrize("parameter", ["after", "limit"])
def test_an_empty_page_parameter_is_422(
    service: Service, pool: ServicePool, parameter: str
) -> None:
    """Found on Django: ``/audit-log?after=`` was read as no cursor (200), as ``?ms=`` was."""
    with httpx.Client(base_url=service.base_url, timeout=30) as client:
        for path, token in (("/transactions", pool.api_token), ("/audit-log", pool.admin_token)):
            response = client.get(
                f"{path}?{parameter}=", headers={"Authorization": f"Bearer {token}"}
            )
            assert_problem(response, 422, fields={parameter})


@pytest.mark.parametrize("transaction_id", HUGE_IDS)
def test_an_id_beyond_every_id_is_404(
    service: Service, pool: ServicePool, transaction_id: int
) -> None:
    headers = {"Authorization": f"Bearer {pool.api_token}"}
    with httpx.Client(base_url=service.base_url, timeout=30, headers=headers) as client:
        assert_problem(client.get(f"/transactions/{transaction_id}"), 404)
        assert_problem(client.post(f"/transactions/{transaction_id}/fraud-check"), 404)


def test_a_nul_in_the_merchant_is_422(service: Service, pool: ServicePool) -> None:
    """Found on Django (which refused it while the contract allowed it); FastAPI and Flask
    accepted it and, on PostgreSQL, whose text cannot hold NUL, would have answered 500."""
    body = {"account_id": "nul", "amount": "1.00", "currency": "EUR", "merchant": "a\x00b"}
    response = httpx.post(
        f"{service.base_url}/transactions",
        json=body,
        headers={"Authorization": f"Bearer {pool.api_token}"},
        timeout=30,
    )
    assert_problem(response, 422, fields={"merchant"})


def test_an_empty_io_delay_is_422(service: Service) -> None:
    """Found on Django: ``?ms=`` fell back to the default 0 instead of being refused."""
    assert_problem(httpx.get(f"{service.base_url}/io?ms=", timeout=30), 422, fields={"ms"})
