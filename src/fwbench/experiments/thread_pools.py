"""Experiment 2: thread-pool and worker limits, read through Little's law.

Every configuration serves ``GET /io?ms=L`` (or a lab variant of it) under a
concurrency sweep at several downstream latencies L. A server that can hold ``slots``
requests at once (workers x threads; unbounded for an event loop) cannot exceed
``slots / L`` requests per second, and a closed-loop generator with ``c`` connections
cannot exceed ``c / L``: each measured plateau is printed beside the lower of the two, so
the reader sees which limit it hit, and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from fwbench.experiments._measure import ANYIO_THREADS, IoSession, IoSetup, sweep_for
from fwbench.experiments._sessions import IoSessionsExperiment
from fwbench.experiments.context import Context
from fwbench.experiments.model import Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import (
    Measured,
    PlateauInput,
    classify_plateau,
    exhaustion_rule,
    little_ceiling,
    near_figure_rule,
)

RPS_PER_CORE_CLAIM: Final = "Flask’s sync nature becomes a bottleneck at ~50 RPS/core"
RPS_PER_CORE: Final = 50.0
EXHAUSTION_CLAIM: Final = "No async: Threadpool exhaustion at scale"

#: (framework, server, route) measured; ``quick`` runs only the first group.
#: Worker counts of gunicorn sync besides its documented rule: the "~50 RPS/core" claim
#: is judged as the general statement it makes, across workers and latencies.
QUICK_SYNC_WORKERS: Final = (1,)
FULL_SYNC_WORKERS: Final = (1, 8)

QUICK_SETUPS: Final[tuple[IoSetup, ...]] = (
    IoSetup("fastapi", "uvicorn"),
    IoSetup("fastapi", "uvicorn", "/_lab/io-sync"),
    IoSetup("flask", "gunicorn-sync"),
    *(IoSetup("flask", "gunicorn-sync", workers=n) for n in QUICK_SYNC_WORKERS),
    IoSetup("flask", "gunicorn-gthread"),
    IoSetup("flask", "gunicorn-gevent"),
    IoSetup("flask", "granian"),
    IoSetup("django", "gunicorn-sync"),
    IoSetup("django", "uvicorn"),
)
FULL_SETUPS: Final = (
    *(s for s in QUICK_SETUPS if s.workers is None),
    *(IoSetup("flask", "gunicorn-sync", workers=n) for n in FULL_SYNC_WORKERS),
    IoSetup("django", "gunicorn-gthread"),
    IoSetup("django", "granian"),
    IoSetup("django", "uvicorn", "/_lab/io-async"),
)


@dataclass(frozen=True)
class ThreadPoolEvidence:
    """The io sessions measured, those that failed, and the cores the service ran on."""

    service_cores: int
    sessions: tuple[IoSession, ...]
    failures: tuple[str, ...]


def _slots(session: IoSession) -> float:
    return math.inf if session.slots is None else session.slots


def _pool(session: IoSession) -> str | None:
    """The thread pool whose threads ``session``'s requests hold, None when they hold
    none (process slots, greenlets, an event loop)."""
    if session.route.startswith("/_lab/io-sync"):
        return f"anyio's {ANYIO_THREADS}-token thread limiter (FastAPI def routes)"
    if session.server == "gunicorn-gthread":
        return f"gunicorn gthread's {session.threads} threads x {session.workers} workers"
    if session.server == "granian" and session.framework != "fastapi":
        return f"granian's blocking threads ({session.framework} on WSGI)"
    return None


def _plateaus(evidence: ThreadPoolEvidence) -> list[PlateauInput]:
    inputs = []
    for session in evidence.sessions:
        for latency in dict.fromkeys(p.latency_ms for p in session.points):
            best = session.plateau(latency)
            connections = max(p.load.connections for p in session.points)
            inputs.append(
                PlateauInput(
                    f"{session.label} at {latency} ms",
                    best.load.ok_rps,
                    _slots(session),
                    connections,
                    latency,
                    _pool(session),
                    (best.ok_rps.low, best.ok_rps.high),
                )
            )
    return inputs


class ThreadPools(IoSessionsExperiment[ThreadPoolEvidence]):
    """Throughput vs concurrency vs downstream latency, against Little's law."""

    name = "thread-pools"
    title = "Thread-pool and worker limits (Little's law)"
    claims = (RPS_PER_CORE_CLAIM, EXHAUSTION_CLAIM)
    setup = (
        "GET /io?ms=L (the route awaits or calls the downstream for L ms) under a wrk "
        "concurrency sweep, for FastAPI async and def routes (anyio's 40 threads), Flask on "
        "gunicorn sync/gthread/gevent and granian, Django on WSGI and ASGI; servers sized by "
        "their documented rules for the service's cores. Each plateau is compared with "
        "min(slots, connections) / L."
    )
    evidence_type = ThreadPoolEvidence
    quick_setups = QUICK_SETUPS
    full_setups = FULL_SETUPS

    def describe_sessions(self, context: Context) -> str:
        sweep = sweep_for(context)
        return (
            f"{len(self.setups(context))} configurations x latencies "
            f"{', '.join(map(str, sweep.latencies_ms))} ms x connections "
            f"{', '.join(map(str, sweep.connections))}, {sweep.duration_s} s x "
            f"{sweep.repeats} per point"
        )

    def evidence(
        self, context: Context, sessions: tuple[IoSession, ...], failures: tuple[str, ...]
    ) -> ThreadPoolEvidence:
        return ThreadPoolEvidence(context.service_cores, sessions, failures)

    def tables(self, evidence: ThreadPoolEvidence) -> tuple[Table, ...]:
        connections = sorted({p.load.connections for s in evidence.sessions for p in s.points})
        rows = []
        for session in evidence.sessions:
            slots = _slots(session)
            for latency in dict.fromkeys(p.latency_ms for p in session.points):
                by_conn = {
                    p.load.connections: f"{p.load.ok_rps:,.0f}"
                    + (f" ({p.load.failed} failed)" if p.load.failed else "")
                    for p in session.points
                    if p.latency_ms == latency
                }
                best = session.plateau(latency).load.ok_rps
                kind = classify_plateau(best, slots, max(connections), latency)
                rows.append(
                    (
                        session.label,
                        "inf" if math.isinf(slots) else f"{slots:g}",
                        str(latency),
                        *(by_conn.get(c, "") for c in connections),
                        f"{little_ceiling(min(slots, max(connections)), latency):,.0f}",
                        kind.value,
                    )
                )
        return (
            Table(
                "2xx requests/s by concurrency, vs Little's law ceiling",
                (
                    "configuration",
                    "slots",
                    "latency ms",
                    *(f"c={c}" for c in connections),
                    "ceiling",
                    "what bounds the plateau",
                ),
                tuple(rows),
                f"service on {evidence.service_cores} core(s); slots = workers x threads "
                f"(inf: event loop); ceiling = min(slots, max connections) / latency",
            ),
            *failures_table(evidence.failures),
        )

    def verdicts(self, evidence: ThreadPoolEvidence) -> tuple[Verdict, ...]:
        sync = [
            s for s in evidence.sessions if (s.framework, s.server) == ("flask", "gunicorn-sync")
        ]
        # "~50 RPS/core" is a general statement; the law under it is slots / latency (a
        # sync worker serves one request at a time), so it is judged across workers and
        # latencies, each finding with the law's figure beside the measured one.
        cores = evidence.service_cores
        per_core = {
            f"gunicorn sync, {s.workers} worker{'s' if s.workers > 1 else ''} at {latency} ms "
            f"(law: {little_ceiling(s.workers, latency) / cores:,.0f} per core)": (
                s.plateau(latency).ok_rps.over(Measured.exact(cores))
            )
            for s in sorted(sync, key=lambda s: s.workers)
            for latency in dict.fromkeys(p.latency_ms for p in s.points)
        }
        per_core_verdict = near_figure_rule(
            RPS_PER_CORE_CLAIM,
            per_core,
            RPS_PER_CORE,
            "Flask gunicorn-sync plateau per core, across workers and latencies (the law: "
            "workers / latency),",
            "req/s",
        )
        exhaustion = exhaustion_rule(EXHAUSTION_CLAIM, _plateaus(evidence))
        return noting(per_core_verdict, evidence.failures), noting(exhaustion, evidence.failures)
