"""POST /transactions/{id}/fraud-check against the real downstream and its faults."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from fwbench.contract import DECLINE_THRESHOLD
from fwbench.services.downstream.faults import Faults
from tests.contract._checks import CreateTransaction, assert_problem, assert_transaction, describe
from tests.contract._servers import DOWNSTREAM_TIMEOUT, Downstream, Service

#: A downstream delay comfortably above the services' DOWNSTREAM_TIMEOUT.
SLOW_MS = int(DOWNSTREAM_TIMEOUT * 1000) + 1000


def _check(api: httpx.Client, headers: dict[str, str], transaction_id: object) -> httpx.Response:
    return api.post(f"/transactions/{transaction_id}/fraud-check", headers=headers)


def _stored(service: Service, transaction_id: int) -> tuple[Any, ...]:
    [row] = service.database.fetch(
        "SELECT status, fraud_score FROM transactions WHERE id = ?", (transaction_id,)
    )
    return tuple(row)


@pytest.mark.parametrize(
    ("score", "status"),
    [
        (0.0, "approved"),
        (0.42, "approved"),
        (0.79, "approved"),
        (DECLINE_THRESHOLD, "declined"),
        (0.95, "declined"),
        (1.0, "declined"),
    ],
)
def test_the_score_approves_below_the_threshold_and_declines_from_it(
    api: httpx.Client,
    api_headers: dict[str, str],
    create: CreateTransaction,
    faults: Downstream,
    score: float,
    status: str,
) -> None:
    created = create()
    faults.set_faults(Faults(score=score))
    response = _check(api, api_headers, created["id"])
    assert response.status_code == 200, describe(response)
    scored = assert_transaction(response.json(), id=created["id"], status=status)
    assert scored["fraud_score"] == pytest.approx(score, abs=1e-9)
    for name in ("account_id", "amount", "currency", "merchant", "created_at"):
        assert scored[name] == created[name]
    assert api.get(f"/transactions/{created['id']}", headers=api_headers).json() == scored


def test_the_deterministic_score_is_stored(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, faults: Downstream
) -> None:
    created = create()
    response = _check(api, api_headers, created["id"])
    assert response.status_code == 200, describe(response)
    scored = response.json()
    assert isinstance(scored["fraud_score"], int | float)
    assert 0.0 <= scored["fraud_score"] <= 1.0
    expected = "declined" if scored["fraud_score"] >= DECLINE_THRESHOLD else "approved"
    assert scored["status"] == expected


def test_a_scored_transaction_can_be_scored_again(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, faults: Downstream
) -> None:
    created = create()
    faults.set_faults(Faults(score=0.9))
    assert _check(api, api_headers, created["id"]).json()["status"] == "declined"
    faults.set_faults(Faults(score=0.1))
    again = _check(api, api_headers, created["id"])
    assert again.status_code == 200, describe(again)
    assert again.json()["status"] == "approved"
    assert again.json()["fraud_score"] == pytest.approx(0.1)


def test_a_slow_downstream_is_504_and_the_transaction_is_unchanged(
    api: httpx.Client,
    api_headers: dict[str, str],
    create: CreateTransaction,
    faults: Downstream,
    service: Service,
) -> None:
    created = create()
    before = _stored(service, created["id"])
    faults.set_faults(Faults(latency_ms=SLOW_MS, score=0.1))
    assert_problem(_check(api, api_headers, created["id"]), 504)
    # Wait until the downstream has answered the abandoned call, so a late write would show.
    time.sleep(SLOW_MS / 1000)
    assert api.get(f"/transactions/{created['id']}", headers=api_headers).json() == created
    assert _stored(service, created["id"]) == before


def test_a_slow_downstream_leaves_a_scored_transaction_unchanged(
    api: httpx.Client, api_headers: dict[str, str], create: CreateTransaction, faults: Downstream
) -> None:
    created = create()
    faults.set_faults(Faults(score=0.9))
    scored = _check(api, api_headers, created["id"]).json()
    faults.set_faults(Faults(latency_ms=SLOW_MS, score=0.1))
    assert_problem(_check(api, api_headers, created["id"]), 504)
    assert api.get(f"/transactions/{created['id']}", headers=api_headers).json() == scored


@pytest.mark.parametrize("status", [500, 503, 429, 404])
def test_a_failing_downstream_is_502_and_the_transaction_is_unchanged(
    api: httpx.Client,
    api_headers: dict[str, str],
    create: CreateTransaction,
    faults: Downstream,
    service: Service,
    status: int,
) -> None:
    created = create()
    before = _stored(service, created["id"])
    faults.set_faults(Faults(error_rate=1.0, status=status, score=0.1))
    assert_problem(_check(api, api_headers, created["id"]), 502)
    assert api.get(f"/transactions/{created['id']}", headers=api_headers).json() == created
    assert _stored(service, created["id"]) == before


def test_a_downstream_outage_answers_502_changes_nothing_and_heals(
    api: httpx.Client,
    api_headers: dict[str, str],
    create: CreateTransaction,
    service: Service,
    faults: Downstream,
) -> None:
    """While nothing listens on the downstream's port, fraud-check and /io answer 502 and
    the transaction keeps its state; once the downstream is back on the same port the
    next call succeeds (a pooled client must not reuse the dead keep-alive connections).

    One test rather than three because every outage costs a downstream restart."""
    scored = create()
    faults.set_faults(Faults(score=0.9))
    warm = _check(api, api_headers, scored["id"])
    assert warm.json()["status"] == "declined", describe(warm)
    pending = create()
    faults.stop()
    assert_problem(_check(api, api_headers, pending["id"]), 502)
    assert_problem(_check(api, api_headers, scored["id"]), 502)
    assert_problem(api.get("/io", params={"ms": "0"}), 502)
    assert api.get(f"/transactions/{pending['id']}", headers=api_headers).json() == pending
    assert api.get(f"/transactions/{scored['id']}", headers=api_headers).json() == warm.json()
    assert _stored(service, pending["id"]) == ("pending", None)
    faults.start()
    faults.set_faults(Faults(score=0.2))
    healed = _check(api, api_headers, pending["id"])
    assert healed.status_code == 200, describe(healed)
    assert healed.json()["status"] == "approved"
    io = api.get("/io", params={"ms": "0"})
    assert io.status_code == 200, describe(io)


@pytest.mark.parametrize("transaction_id", ["999999999", "0", "abc"])
def test_fraud_check_of_a_missing_transaction_is_404(
    api: httpx.Client, api_headers: dict[str, str], faults: Downstream, transaction_id: str
) -> None:
    assert_problem(_check(api, api_headers, transaction_id), 404)
