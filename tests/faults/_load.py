"""Closed-loop load of idempotent creates, and the check that a fault lost nothing.

Each request is ``POST /transactions`` with an ``Idempotency-Key`` and an
``X-Request-ID`` of its own, so that afterwards every key can be traced to at most one
transaction row and every request to its audit row.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from tests.contract._checks import assert_problem
from tests.contract._servers import Service

#: Concurrent clients: more than the workers, so each worker has requests in flight.
CLIENTS: Final = 4


@dataclass
class Attempt:
    """One request and what came back (status None: the connection failed)."""

    key: str
    request_id: str
    body: dict[str, Any]
    status: int | None = None
    transaction_id: int | None = None


@dataclass
class CreateLoad:
    """Clients creating transactions for ``account`` until :meth:`stop`.

    Args:
        service: the service under load.
        token: its API token.
        account: the account every transaction is for.
    """

    service: Service
    token: str
    account: str = field(default_factory=lambda: f"fault-{uuid.uuid4().hex[:12]}")
    attempts: list[Attempt] = field(default_factory=list)
    #: X-Request-ID of every request sent, and of those answered 201.
    sent: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for _ in range(CLIENTS):
            thread = threading.Thread(target=self._client, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _client(self) -> None:
        # Generous: a sync worker waiting for a database that is down answers slowly.
        with httpx.Client(base_url=self.service.base_url, timeout=60) as client:
            while not self._stop.is_set():
                attempt = Attempt(
                    key=uuid.uuid4().hex,
                    request_id=uuid.uuid4().hex,
                    body={
                        "account_id": self.account,
                        "amount": f"{len(self.attempts) % 500 + 1}.25",
                        "currency": "EUR",
                        "merchant": "fault test",
                    },
                )
                self.send(client, attempt)
                with self._lock:
                    self.attempts.append(attempt)

    def send(self, client: httpx.Client, attempt: Attempt) -> httpx.Response | None:
        """Send ``attempt`` (again) and record the outcome; None on a connection error."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Idempotency-Key": attempt.key,
            "X-Request-ID": attempt.request_id,
        }
        with self._lock:
            self.sent.add(attempt.request_id)
        try:
            response = client.post("/transactions", json=attempt.body, headers=headers)
        except httpx.TransportError:
            attempt.status = None
            return None
        attempt.status = response.status_code
        if response.status_code == 201:
            attempt.transaction_id = response.json()["id"]
            with self._lock:
                self.created.add(attempt.request_id)
        else:
            assert_problem(response, response.status_code)
        return response

    def statuses(self) -> Counter[int | None]:
        """How many attempts ended with each status (None: connection error)."""
        with self._lock:
            return Counter(attempt.status for attempt in self.attempts)

    def wait_for(self, statuses: set[int | None], count: int, timeout: float) -> None:
        """Wait until at least ``count`` more attempts end with one of ``statuses``."""

        def seen() -> int:
            counts = self.statuses()
            return sum(counts[status] for status in statuses)

        before = seen()
        deadline = time.monotonic() + timeout
        while seen() - before < count:
            assert time.monotonic() < deadline, (
                f"none of {statuses} in {timeout} s: {self.statuses()}"
            )
            time.sleep(0.05)


def assert_nothing_lost(load: CreateLoad) -> dict[str, int]:
    """After the fault: retry what failed, replay what succeeded, and check the database.

    Every key ends with exactly one transaction row; a replayed key answers the same
    transaction (idempotency honoured across the fault). Every request has at most one
    audit row, every audit row belongs to a request the load sent, and every request
    answered 201 has its 201 row. For each key, whichever request created the transaction
    (the first if the transaction is older than the retry, else the retry) has a 201 audit
    row, and a first request that did not create it has none: no transaction without its
    audit row and no audit row of a create without its transaction, even for a request
    that the fault cut short after (or before) its commit. (Which request created it: ids
    only grow, and the load has stopped, so a transaction whose id is at most the largest
    before the retries is the first request's.)
    Returns counts for the report: ``retried``, ``replayed``, and ``committed_unanswered``
    (first requests whose transaction and audit row committed although their answer
    was not a 201).
    """
    retried = replayed = 0
    database = load.service.database
    [(last_before,)] = database.fetch("SELECT coalesce(max(id), 0) FROM transactions")
    #: First request id of each key -> whether that request created the transaction.
    created_by_first: dict[str, bool] = {}
    with httpx.Client(base_url=load.service.base_url, timeout=30) as client:
        for attempt in load.attempts:
            first_id, first_request = attempt.transaction_id, attempt.request_id
            if attempt.status != 201:
                retried += 1
            else:
                replayed += 1
            # A new request id for the retry: the audit log records each request.
            attempt.request_id = uuid.uuid4().hex
            response = load.send(client, attempt)
            assert response is not None and response.status_code == 201, attempt
            assert attempt.transaction_id is not None
            if first_id is not None:
                assert attempt.transaction_id == first_id, attempt
            created_by_first[first_request] = attempt.transaction_id <= last_before
    rows = database.fetch(
        "SELECT idempotency_key, id FROM transactions WHERE account_id = ?", (load.account,)
    )
    stored = dict(rows)
    assert len(stored) == len(rows), "a key has two rows"
    assert stored == {a.key: a.transaction_id for a in load.attempts}
    audit = database.fetch(
        "SELECT request_id, status FROM audit_log WHERE method = 'POST' AND path = ?",
        ("/transactions",),
    )
    audited = Counter(request_id for request_id, _ in audit)
    twice = {request_id for request_id, count in audited.items() if count > 1}
    assert not twice, f"{len(twice)} requests have more than one audit row"
    strangers = set(audited) - load.sent
    assert not strangers, f"{len(strangers)} audit rows belong to no request sent"
    audited_201 = {request_id for request_id, status in audit if status == 201}
    missing = load.created - audited_201
    assert not missing, f"{len(missing)} requests answered 201 have no 201 audit row"
    unaudited = {r for r, created in created_by_first.items() if created} - audited_201
    assert not unaudited, f"{len(unaudited)} transactions were committed without their audit row"
    phantom = {r for r, created in created_by_first.items() if not created} & audited_201
    assert not phantom, f"{len(phantom)} requests have a 201 audit row but created nothing"
    committed_unanswered = sum(
        1
        for request_id, created in created_by_first.items()
        if created and request_id not in load.created
    )
    return {
        "retried": retried,
        "replayed": replayed,
        "committed_unanswered": committed_unanswered,
    }
