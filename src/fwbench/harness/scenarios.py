"""The load scenarios ``fwbench run --scenarios`` accepts: what wrk requests, and which
statuses count as success.

Every scenario but ``transactions`` GETs one URL (``lua/get.lua``); ``transactions``
drives the contract's domain endpoints with a Lua mix (``lua/transactions.lua``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Scenario:
    """One workload.

    Attributes:
        name: the name used on the command line and in results files.
        script: the wrk Lua script under ``fwbench/harness/lua`` (without ``.lua``).
        path: the request path for ``get`` scripts; for ``io`` it is completed with the
            downstream latency (see :meth:`url_path`); empty for scripted mixes.
        expected_statuses: non-2xx statuses the scenario sends on purpose; any other
            non-2xx response, or any socket error, invalidates a measurement.
        needs_downstream: whether requests reach the downstream service.
        description: one line for plans and reports.
    """

    name: str
    script: str
    path: str
    expected_statuses: frozenset[int]
    needs_downstream: bool
    description: str

    def url_path(self, downstream_latency_ms: int) -> str:
        """The path and query wrk requests (``/`` for scripted mixes).

        Args:
            downstream_latency_ms: the ``io`` scenario's ``?ms=`` value; other scenarios
                ignore it.
        """
        if self.name == "io":
            return f"{self.path}?ms={downstream_latency_ms}"
        return self.path or "/"

    def script_args(self, api_token: str) -> tuple[str, ...]:
        """The arguments its Lua script takes: none for a plain GET; else the API token and
        a fresh nonce, which keeps the transactions mix's idempotency keys unique per run."""
        if self.script == "get":
            return ()
        return (api_token, uuid.uuid4().hex[:12])


def _get(name: str, path: str, description: str, *, downstream: bool = False) -> Scenario:
    return Scenario(name, "get", path, frozenset(), downstream, description)


#: ``queries`` count of the ``queries`` and ``updates`` scenarios: 20, the headline
#: figure of TechEmpower's multiple-queries and updates charts.
TFB_QUERIES: Final = 20

SCENARIOS: Final[dict[str, Scenario]] = {
    scenario.name: scenario
    for scenario in (
        _get("json", "/json", "TechEmpower JSON serialization: GET /json"),
        _get("plaintext", "/plaintext", "TechEmpower plaintext: GET /plaintext (no pipelining)"),
        _get("db", "/db", "TechEmpower single query: GET /db"),
        _get(
            "queries",
            f"/queries?queries={TFB_QUERIES}",
            f"TechEmpower multiple queries: GET /queries?queries={TFB_QUERIES}",
        ),
        _get("fortunes", "/fortunes", "TechEmpower fortunes: GET /fortunes (ORM + template)"),
        _get(
            "updates",
            f"/updates?queries={TFB_QUERIES}",
            f"TechEmpower updates: GET /updates?queries={TFB_QUERIES}",
        ),
        _get(
            "io",
            "/io",
            "the article's I/O-bound workload: GET /io?ms=N waits for the downstream",
            downstream=True,
        ),
        Scenario(
            name="transactions",
            script="transactions",
            path="",
            # 1 read in 20 asks for a transaction that does not exist (lua/transactions.lua).
            expected_statuses=frozenset({404}),
            needs_downstream=True,
            description=(
                "domain mix: creates with idempotency keys (10% replays), reads (5% unknown "
                "ids -> 404), listings, account summaries, fraud-checks via the downstream"
            ),
        ),
    )
}

#: What ``fwbench run`` measures without ``--scenarios``: the article's I/O column, then
#: JSON serialization and a single query, the two most-cited TechEmpower types.
DEFAULT_SCENARIOS: Final[tuple[str, ...]] = ("io", "json", "db")
