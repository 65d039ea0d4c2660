"""Experiment 3: the I/O throughput ratio ("3x faster than Flask for I/O bound tasks").

FastAPI on each of its servers against Flask and Django on each of theirs, all serving
``GET /io?ms=L`` at ``fwbench run``'s io point (the same latency and connections); the
answer is a table of ratios, one per server pairing, not one number. The ratios at the
other latencies and concurrencies of the sweep are printed for the canonical pairing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fwbench.experiments._measure import (
    IO_CONNECTIONS,
    IO_FULL_SETUPS,
    IO_LATENCY_MS,
    IO_QUICK_SETUPS,
    IoSession,
    IoSetup,
)
from fwbench.experiments._sessions import IoSessionsExperiment
from fwbench.experiments.context import Context
from fwbench.experiments.model import Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import Measured, ratio_rule

CLAIM: Final = "3x faster than Flask for I/O bound tasks"
CLAIMED_RATIO: Final = 3.0

#: gunicorn gthread's threads per worker besides its rule (2 x cores): gunicorn's docs
#: give a range, and the ratio against gthread is a function of the threads.
QUICK_GTHREAD_THREADS: Final = (16,)
FULL_GTHREAD_THREADS: Final = (16, 64)
#: FastAPI with the article's own client advice (httpx.AsyncClient), beside aiohttp's.
ARTICLE_STACK: Final = IoSetup("fastapi", "uvicorn", "/_lab/io-httpx")


def _with_sizings(setups: tuple[IoSetup, ...], threads: tuple[int, ...]) -> tuple[IoSetup, ...]:
    return (
        *setups,
        *(IoSetup("flask", "gunicorn-gthread", threads=n) for n in threads),
        ARTICLE_STACK,
    )


@dataclass(frozen=True)
class IoRatioEvidence:
    """The io sessions (and those that failed), and the point (latency, connections) the
    ratios compare."""

    latency_ms: int
    connections: int
    sessions: tuple[IoSession, ...]
    failures: tuple[str, ...]

    def rps(self, session: IoSession) -> float:
        """2xx throughput of ``session`` at the compared point."""
        return session.at(self.latency_ms, self.connections).load.ok_rps


def _name(session: IoSession) -> str:
    """A session's server, with what sets it apart: gthread's threads, FastAPI's client."""
    if session.server == "gunicorn-gthread":
        return f"{session.server} ({session.threads} threads x {session.workers})"
    if session.route == ARTICLE_STACK.route:
        return f"{session.server} + httpx"
    return session.server


def ratios(evidence: IoRatioEvidence, other: str) -> dict[str, Measured]:
    """FastAPI/``other`` throughput ratio for every pairing of their servers (and
    sizings, and FastAPI's clients), ranging over their repeats."""
    fastapi = [s for s in evidence.sessions if s.framework == "fastapi"]
    others = [s for s in evidence.sessions if s.framework == other]

    def rps(session: IoSession) -> Measured:
        return session.at(evidence.latency_ms, evidence.connections).ok_rps

    return {
        f"FastAPI {_name(fast)} vs {_name(slow)}": rps(fast).over(rps(slow))
        for fast in fastapi
        for slow in others
    }


class IoRatio(IoSessionsExperiment[IoRatioEvidence]):
    """FastAPI/Flask and FastAPI/Django io throughput, per server pairing."""

    name = "io-ratio"
    title = "I/O throughput ratio per server pairing"
    claims = (CLAIM,)
    setup = (
        f"GET /io?ms={IO_LATENCY_MS} at {IO_CONNECTIONS} connections (fwbench run's io point) "
        "for FastAPI on uvicorn and granian, Flask on gunicorn sync/gthread/gevent and "
        "granian, Django on gunicorn and uvicorn; gthread also with more threads per worker "
        "(gunicorn's docs give a range), FastAPI also with httpx.AsyncClient (the article's "
        "advice) beside aiohttp; the FastAPI/Flask ratio for every pairing."
    )
    evidence_type = IoRatioEvidence
    quick_setups = _with_sizings(IO_QUICK_SETUPS, QUICK_GTHREAD_THREADS)
    full_setups = _with_sizings(IO_FULL_SETUPS, FULL_GTHREAD_THREADS)

    def evidence(
        self, context: Context, sessions: tuple[IoSession, ...], failures: tuple[str, ...]
    ) -> IoRatioEvidence:
        return IoRatioEvidence(IO_LATENCY_MS, IO_CONNECTIONS, sessions, failures)

    def tables(self, evidence: IoRatioEvidence) -> tuple[Table, ...]:
        fastapi = [s for s in evidence.sessions if s.framework == "fastapi"]
        others = [s for s in evidence.sessions if s.framework != "fastapi"]
        matrix = Table(
            f"FastAPI / other throughput at {evidence.latency_ms} ms, "
            f"{evidence.connections} connections",
            ("configuration", "2xx req/s", *(f"FastAPI {_name(s)} / it" for s in fastapi)),
            tuple(
                (
                    f"{slow.framework} {_name(slow)}",
                    f"{evidence.rps(slow):,.0f}",
                    *(f"{evidence.rps(fast) / evidence.rps(slow):.2f}x" for fast in fastapi),
                )
                for slow in others
            ),
            "FastAPI: " + ", ".join(f"{_name(s)} {evidence.rps(s):,.0f} req/s" for s in fastapi),
        )
        canonical = {(s.framework, s.server): s for s in evidence.sessions if s.route == "/io"}
        fast, slow = (
            canonical.get(("fastapi", "uvicorn")),
            canonical.get(("flask", "gunicorn-sync")),
        )
        if fast is None or slow is None:
            return (matrix, *failures_table(evidence.failures))
        sweep_rows = []
        for point in fast.points:
            other = slow.at(point.latency_ms, point.load.connections).load.ok_rps
            sweep_rows.append(
                (
                    f"{point.latency_ms} ms",
                    str(point.load.connections),
                    f"{point.load.ok_rps:,.0f}",
                    f"{other:,.0f}",
                    f"{point.load.ok_rps / other:.2f}x",
                )
            )
        sweep = Table(
            "FastAPI uvicorn / Flask gunicorn-sync across the sweep",
            ("latency", "connections", "FastAPI req/s", "Flask req/s", "ratio"),
            tuple(sweep_rows),
        )
        return (matrix, sweep, *failures_table(evidence.failures))

    def verdicts(self, evidence: IoRatioEvidence) -> tuple[Verdict, ...]:
        verdict = ratio_rule(
            CLAIM, ratios(evidence, "flask"), CLAIMED_RATIO, "FastAPI/Flask io throughput"
        )
        return (noting(verdict, evidence.failures),)
