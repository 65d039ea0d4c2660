"""Fuzzing from the contract: schemathesis generates requests from openapi.yaml and sends
them to each implementation on each database; every response must follow the contract.

The budget is small by default (a few cases per operation and phase, CI-sized);
``scripts/fuzz`` runs the same test with a time budget per target. Environment knobs:
``FWBENCH_FUZZ_EXAMPLES`` (cases per operation and phase, default 5),
``FWBENCH_FUZZ_SECONDS`` (time budget per target; replaces the example budget),
``FWBENCH_FUZZ_SEED`` and ``FWBENCH_FUZZ_LOG`` (a JSON-lines file receiving one line
per target: cases generated, failures, errors, seconds). The tokens must appear in no
response (hooks.py) and in no line of the service's log.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx

from tests.contract._servers import Service, ServicePool
from tests.fuzz._schemathesis import run_fuzz
from tests.jsonl import append_line

#: Cases per operation and phase when no time budget is given.
DEFAULT_EXAMPLES: Final = 5

#: Accounts whose summary is checked against their transactions after a run (the fuzzer
#: invents many; a sample keeps the check quick).
SUMMARIES_CHECKED: Final = 100


def test_every_operation_follows_the_contract_under_fuzzing(
    service: Service, pool: ServicePool, tmp_path: Path
) -> None:
    seconds = os.environ.get("FWBENCH_FUZZ_SECONDS")
    seed = os.environ.get("FWBENCH_FUZZ_SEED")
    started = time.monotonic()
    run = run_fuzz(
        service.base_url,
        api_token=pool.api_token,
        admin_token=pool.admin_token,
        workdir=tmp_path,
        max_examples=None
        if seconds
        else int(os.environ.get("FWBENCH_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES),
        max_time_s=int(seconds) if seconds else None,
        seed=int(seed) if seed else None,
    )
    append_line(
        "FWBENCH_FUZZ_LOG",
        {
            "target": service.target.id,
            "generated": run.generated,
            "failures": list(run.failures),
            "errors": list(run.errors),
            "seconds": round(time.monotonic() - started, 1),
        },
    )
    assert run.generated > 0, run.output
    assert run.clean, "\n".join([*run.failures, *run.errors, run.output[-6000:]])
    _assert_consistent(service.base_url, pool)
    log = service.server.log_path.read_text(encoding="utf-8", errors="replace")
    for token in (pool.api_token, pool.admin_token):
        assert token not in log, "a bearer token was written to the service's log"


def _pages(client: httpx.Client, path: str, token: str) -> Iterator[dict[str, Any]]:
    """Every item of a keyset-paginated list, following ``next``."""
    after: int | None = 0
    while after is not None:
        response = client.get(
            path,
            params={"limit": 100, "after": after},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        page = response.json()
        yield from page["items"]
        after = page["next"]


def _assert_consistent(base_url: str, pool: ServicePool) -> None:
    """What the fuzzer created adds up: each account's summary matches its transactions,
    and every transaction has the audit row of the request that created it."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        transactions = list(_pages(client, "/transactions", pool.api_token))
        by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for transaction in transactions:
            by_account[transaction["account_id"]].append(transaction)
        for account in sorted(by_account)[:SUMMARIES_CHECKED]:
            rows = by_account[account]
            totals: dict[str, Decimal] = defaultdict(Decimal)
            for row in rows:
                totals[row["currency"]] += Decimal(row["amount"])
            response = client.get(
                f"/accounts/{account}/summary",
                headers={"Authorization": f"Bearer {pool.api_token}"},
            )
            assert response.status_code == 200, response.text
            summary = response.json()
            assert summary["transactions"] == len(rows), (account, summary)
            assert summary["declined"] == sum(row["status"] == "declined" for row in rows)
            assert {c: Decimal(v) for c, v in summary["totals"].items()} == totals, summary
        audit = Counter(
            (entry["method"], entry["path"], entry["status"])
            for entry in _pages(client, "/audit-log", pool.admin_token)
        )
        created = audit[("POST", "/transactions", 201)]
        # A replayed Idempotency-Key answers 201 with the original: more rows, never fewer.
        assert created >= len(transactions), (created, len(transactions))
