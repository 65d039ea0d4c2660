"""Experiment 4: memory per service ("Django: 300MB memory overhead per service").

Each framework on each server, sized by the server's documented rule: the memory of the
whole process tree and of one worker, right after start-up (after import) and under the
io load, as PSS (the tree's real footprint: shared pages split among the processes that
map them), USS (what one worker alone uses) and RSS (what ``ps`` and most dashboards
show, counting shared pages in every process). Then the capacity view: how many workers
a target load needs at the measured per-worker throughput, and the memory that costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from fwbench.experiments._measure import IO_LATENCY_MS, PSS_BETWEEN_RUNS, IoSession
from fwbench.experiments._sessions import IoSessionsExperiment
from fwbench.experiments.context import Context
from fwbench.experiments.model import Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import at_least_figure_rule

CLAIM: Final = "300MB memory overhead per service"
CLAIMED_MB: Final = 300.0

#: The load the capacity table sizes for, in requests/s of ``/io`` at the io latency.
TARGET_RPS: Final = 1_000


@dataclass(frozen=True)
class MemoryEvidence:
    """The io sessions (memory after start-up and under load, throughput per worker) and
    those that failed, the io latency the capacity view uses, and its target load."""

    latency_ms: int
    target_rps: int
    sessions: tuple[IoSession, ...]
    failures: tuple[str, ...]


@dataclass(frozen=True)
class Capacity:
    """Workers needed for the target load and the memory they take (MB of PSS)."""

    per_worker_rps: float
    workers: int
    memory_mb: float


def capacity(session: IoSession, latency_ms: int, target_rps: int) -> Capacity:
    """Size ``session``'s configuration for ``target_rps``: its plateau at ``latency_ms``
    divided by its workers is one worker's throughput; the memory is the master's share
    (the tree total minus its workers, under load) plus that many loaded workers."""
    per_worker = session.plateau(latency_ms).load.ok_rps / session.workers
    workers = math.ceil(target_rps / per_worker)
    loaded = session.loaded
    master = max(0.0, loaded.total_pss_mb - loaded.worker_pss_mb * loaded.workers)
    return Capacity(per_worker, workers, master + workers * loaded.worker_pss_mb)


class Memory(IoSessionsExperiment[MemoryEvidence]):
    """Memory per worker and per service, idle and loaded, and for a target load."""

    name = "memory"
    title = "Memory per service, per worker, and per target load"
    claims = (CLAIM,)
    setup = (
        "Each framework/server pair sized by the server's documented rule; its whole process "
        "tree sampled (psutil: RSS, USS, PSS) for 1 s after start-up, then under the io "
        "sweep. The claim is judged on Django's whole-service PSS under load, per server."
    )
    evidence_type = MemoryEvidence

    def evidence(
        self, context: Context, sessions: tuple[IoSession, ...], failures: tuple[str, ...]
    ) -> MemoryEvidence:
        return MemoryEvidence(IO_LATENCY_MS, TARGET_RPS, sessions, failures)

    def tables(self, evidence: MemoryEvidence) -> tuple[Table, ...]:
        rows = []
        for s in evidence.sessions:
            plan = capacity(s, evidence.latency_ms, evidence.target_rps)
            rows.append(
                (
                    f"{s.framework} {s.server}",
                    str(s.workers),
                    f"{s.idle.total_pss_mb:,.0f} -> {s.loaded.total_pss_mb:,.0f}",
                    f"{s.loaded.total_rss_mb:,.0f}",
                    f"{s.idle.worker_pss_mb:,.0f} -> {s.loaded.worker_pss_mb:,.0f}",
                    f"{s.loaded.worker_uss_mb:,.0f}",
                    f"{plan.per_worker_rps:,.0f}",
                    f"{plan.workers} / {plan.memory_mb:,.0f}",
                )
            )
        return (
            Table(
                "Memory in MB (10^6 bytes)",
                (
                    "configuration",
                    "workers",
                    "service PSS idle -> loaded",
                    "service RSS loaded",
                    "worker PSS idle -> loaded",
                    "worker USS loaded",
                    f"req/s per worker ({evidence.latency_ms} ms)",
                    f"for {evidence.target_rps:,} req/s: workers / PSS",
                ),
                tuple(rows),
                "MB = 10^6 bytes. idle: after start-up (import), before any request; loaded: "
                "median under the io load. RSS counts shared pages once per process, so it "
                "overstates forked servers. Capacity: the plateau per worker at that latency, "
                "sized up.",
            ),
            *failures_table(evidence.failures),
        )

    def verdicts(self, evidence: MemoryEvidence) -> tuple[Verdict, ...]:
        django = {
            f"Django on {s.server} ({s.workers} worker{'' if s.workers == 1 else 's'})": (
                s.loaded.total_pss
            )
            for s in evidence.sessions
            if s.framework == "django"
        }
        verdict = at_least_figure_rule(
            CLAIM,
            django,
            CLAIMED_MB,
            f"whole-service PSS under load (steady median, ranging {PSS_BETWEEN_RUNS:.0%} "
            f"either side for what it moves between runs, and up to the peak; MB = 10^6 bytes)",
            "MB",
            settle=(
                f"no rerun here will: the figure is within the {PSS_BETWEEN_RUNS:.0%} its PSS "
                f"moves between runs of the band's edge, so the next run may land on either side"
            ),
        )
        return (noting(verdict, evidence.failures),)
