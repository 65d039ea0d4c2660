"""Experiment: the article's tip "FastAPI: Use httpx.AsyncClient for internal service calls".

The FastAPI implementation calls the downstream with ``aiohttp.ClientSession`` on ``/io``
and keeps the same call through ``httpx.AsyncClient`` as ``/_lab/io-httpx``; both are
loaded over the io sweep on the canonical server, so the tip is compared with the
alternative a FastAPI service can use instead, at every latency and concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fwbench.experiments._measure import IoSession, IoSetup
from fwbench.experiments._sessions import io_sessions, sessions_budget
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import competitive_rule

CLAIM: Final = "FastAPI: Use httpx.AsyncClient for internal service calls"
ADVISED: Final = IoSetup("fastapi", "uvicorn", "/_lab/io-httpx")
ALTERNATIVE: Final = IoSetup("fastapi", "uvicorn", "/io")


@dataclass(frozen=True)
class HttpxTipEvidence:
    """The sessions of the advised client and of the alternative (``/io``, aiohttp),
    and any that failed."""

    sessions: tuple[IoSession, ...]
    failures: tuple[str, ...]

    def pairs(self) -> dict[str, tuple[float, float]]:
        """Point name -> (httpx throughput, aiohttp throughput), where both ran."""
        by_route = {session.route: session for session in self.sessions}
        advised, other = by_route.get(ADVISED[2]), by_route.get(ALTERNATIVE[2])
        if advised is None or other is None:
            return {}
        return {
            f"{point.latency_ms} ms, {point.load.connections} conns": (
                point.load.ok_rps,
                other.at(point.latency_ms, point.load.connections).load.ok_rps,
            )
            for point in advised.points
        }


class HttpxTip(Experiment[HttpxTipEvidence]):
    """httpx.AsyncClient against aiohttp for the same downstream call in FastAPI."""

    name = "httpx-tip"
    title = "The httpx.AsyncClient tip: the advised client against aiohttp"
    claims = (CLAIM,)
    setup = (
        "FastAPI on uvicorn: GET /_lab/io-httpx (async def + one pooled httpx.AsyncClient) and "
        "GET /io (async def + one aiohttp.ClientSession, what the implementation ships) over "
        "the io sweep; 2xx throughput of each at every latency and concurrency."
    )
    evidence_type = HttpxTipEvidence

    def plan(self, context: Context) -> Plan:
        return Plan(
            sessions_budget(context, (ADVISED, ALTERNATIVE)),
            ("2 io sessions (the aiohttp one is reused when measured before)",),
        )

    def run(self, context: Context) -> HttpxTipEvidence:
        sessions, failures = io_sessions(context, (ADVISED, ALTERNATIVE))
        return HttpxTipEvidence(sessions, failures)

    def tables(self, evidence: HttpxTipEvidence) -> tuple[Table, ...]:
        rows = tuple(
            (name, f"{advised:,.0f}", f"{other:,.0f}", f"{advised / other:.0%}")
            for name, (advised, other) in evidence.pairs().items()
        )
        return (
            Table(
                "2xx requests/s of the same downstream call",
                ("point", "httpx.AsyncClient", "aiohttp", "httpx / aiohttp"),
                rows,
            ),
            *failures_table(evidence.failures),
        )

    def verdicts(self, evidence: HttpxTipEvidence) -> tuple[Verdict, ...]:
        verdict = competitive_rule(CLAIM, evidence.pairs(), "httpx.AsyncClient", "aiohttp")
        return (noting(verdict, evidence.failures),)
