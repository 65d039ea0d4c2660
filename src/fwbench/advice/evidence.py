"""What ``advise`` needs from a results file, as small value objects.

The results file (``fwbench.harness.results``) records everything a run measured; the
advice reads only this digest of it: per measured server setup, the throughput sweeps,
memory and cold start, plus the claims verdicts. :func:`evidence_from_results` is the
single place that knows the results file's structure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from fwbench.experiments.registry import judged_by_these_rules
from fwbench.experiments.runner import claims_report
from fwbench.harness.article import heaviest_memory
from fwbench.harness.results import Machine, Point, Results, ServiceRun
from fwbench.harness.servers import configure, is_framework, server_name


@dataclass(frozen=True)
class LoadPoint:
    """One point of a concurrency sweep: ``concurrency`` connections, the median
    throughput ``rps`` (requests/s) and the median p99 latency ``p99_ms``."""

    concurrency: int
    rps: float
    p99_ms: float


@dataclass(frozen=True)
class SetupEvidence:
    """Measurements of one framework on one server configuration.

    Attributes:
        framework: ``fastapi``, ``flask`` or ``django``.
        server: harness server name (``uvicorn``, ``gunicorn-gthread`` ...).
        interface: ``asgi`` or ``wsgi``.
        cores: cores the service was pinned to.
        workers: worker processes.
        threads: threads per worker, or None when the server's default applied.
        connections: simultaneous connections per worker (gevent), or None.
        io: ``/io`` sweeps keyed by the downstream latency in milliseconds.
        cpu: the ``json`` sweep (framework overhead without I/O).
        memory_total_mb: steady memory (RSS) of the whole process tree under load.
        memory_worker_mb: memory of one worker (mean over workers).
        cold_start_ms: median time from spawn to the first successful response.
    """

    framework: str
    server: str
    interface: str
    cores: int
    workers: int
    threads: int | None
    connections: int | None
    io: Mapping[float, tuple[LoadPoint, ...]] = field(default_factory=dict)
    cpu: tuple[LoadPoint, ...] = ()
    memory_total_mb: float | None = None
    memory_worker_mb: float | None = None
    cold_start_ms: float | None = None

    @property
    def slots_per_worker(self) -> float | None:
        """Requests one worker serves at once: 1 for a sync worker, its threads for a
        threaded one, its connection limit for gevent, unbounded (``inf``) for an event
        loop; None when the server's own default applied and is not recorded."""
        if self.interface == "asgi":
            return math.inf
        if self.server == "gunicorn-sync":
            return 1.0
        if self.server == "gunicorn-gevent":
            return float(self.connections) if self.connections else math.inf
        return float(self.threads) if self.threads else None

    @property
    def memory_master_mb(self) -> float | None:
        """Memory of everything but the workers (the master/arbiter process)."""
        if self.memory_total_mb is None or self.memory_worker_mb is None:
            return None
        return max(self.memory_total_mb - self.workers * self.memory_worker_mb, 0.0)

    def describe(self, workers: int | None = None) -> str:
        """The configuration as a reader would say it, e.g. ``gunicorn gthread, 5 workers
        x 4 threads``; ``workers`` overrides the measured worker count (default: as
        measured)."""
        count = self.workers if workers is None else workers
        text = f"{server_name(self.server)}, {count} worker"
        text += "" if count == 1 else "s"
        if self.threads:
            text += f" x {self.threads} threads"
        elif self.connections and self.server == "gunicorn-gevent":
            text += f" x {self.connections} connections"
        return text


@dataclass(frozen=True)
class ClaimEvidence:
    """The verdict of one claims experiment: the experiment's ``experiment`` name, the
    quoted ``claim``, its ``outcome`` (supported / contradicted / depends on
    configuration), the one-sentence ``condition`` and the ``findings`` with numbers."""

    experiment: str
    claim: str
    outcome: str
    condition: str
    findings: tuple[str, ...]


@dataclass(frozen=True)
class Evidence:
    """Everything ``advise`` knows from measurements.

    ``source`` says which file was used (and whether it is the reference shipped with
    fwbench); ``machine`` describes where it was measured; ``rejudged`` names the claims
    experiments whose stored verdicts this fwbench's rules changed (see
    :func:`claims_from`).
    """

    source: str
    machine: str
    setups: tuple[SetupEvidence, ...]
    claims: tuple[ClaimEvidence, ...] = ()
    rejudged: tuple[str, ...] = ()

    def for_framework(self, framework: str) -> tuple[SetupEvidence, ...]:
        """The measured setups of one framework, in results order."""
        return tuple(setup for setup in self.setups if setup.framework == framework)

    def claim(self, experiment: str) -> tuple[ClaimEvidence, ...]:
        """The verdicts an experiment produced (empty when it was not run)."""
        return tuple(item for item in self.claims if item.experiment == experiment)


_MB = 1_000_000


def _io_latency(point: Point, default_ms: float) -> float:
    """The downstream latency of an ``/io`` point, from its ``?ms=`` query."""
    query = parse_qs(urlsplit(point.path).query)
    try:
        return float(query["ms"][0])
    except (KeyError, ValueError):
        return default_ms


def _load_point(point: Point) -> LoadPoint:
    return LoadPoint(point.connections, point.throughput.median, point.latency_p99_us.median / 1000)


def _setup(results: Results, service: ServiceRun) -> SetupEvidence:
    cores = len(service.cpus)
    config = configure(service.framework, service.server, cores, service.workers, service.threads)
    points = [
        p
        for p in results.points
        if (p.framework, p.server) == (service.framework, service.server) and p.valid
    ]
    io: dict[float, list[LoadPoint]] = {}
    for point in points:
        if point.scenario == "io":
            latency = _io_latency(point, float(results.config.downstream_latency_ms))
            io.setdefault(latency, []).append(_load_point(point))
    cpu = tuple(_load_point(p) for p in points if p.scenario == "json")
    # PSS counts pages shared between forked workers once, as the kernel does.
    heaviest_point = heaviest_memory(results, service.framework, service.server)
    heaviest = heaviest_point.memory if heaviest_point else None
    cold = results.cold_start(service.framework, service.server)
    return SetupEvidence(
        framework=service.framework,
        server=service.server,
        interface=config.interface,
        cores=cores,
        workers=service.workers,
        threads=service.threads,
        connections=config.connections,
        io={ms: tuple(sorted(pts, key=lambda p: p.concurrency)) for ms, pts in io.items()},
        cpu=tuple(sorted(cpu, key=lambda p: p.concurrency)),
        memory_total_mb=heaviest.steady.pss / _MB if heaviest else None,
        memory_worker_mb=heaviest.per_worker.pss / _MB if heaviest else None,
        cold_start_ms=cold.first_request.median if cold else None,
    )


def describe_machine(machine: Machine) -> str:
    """One line: CPU, cores, memory, OS and Python of the machine that measured."""
    memory_gib = machine.memory_bytes / 2**30
    return (
        f"{machine.cpu_model}, {machine.usable_cpus} usable CPUs, {memory_gib:.0f} GiB, "
        f"{machine.python}, {machine.os}"
    )


def evidence_from_results(results: Results, source: str) -> Evidence:
    """Digest a results file for ``advise``.

    Args:
        results: the parsed results file.
        source: how to name it to the user (its path, or the reference results).
    """
    setups = []
    seen: set[tuple[str, str]] = set()
    # A service may have been started more than once (a sweep restarts it); one setup per
    # framework/server pair, described by its first start.
    for service in results.services:
        pair = (service.framework, service.server)
        if pair not in seen and is_framework(service.framework):
            seen.add(pair)
            setups.append(_setup(results, service))
    claims, rejudged = claims_from(results)
    return Evidence(source, describe_machine(results.machine), tuple(setups), claims, rejudged)


def claims_from(results: Results) -> tuple[tuple[ClaimEvidence, ...], tuple[str, ...]]:
    """The verdicts of the claims evidence that ``fwbench claims`` stored in the results
    file, given by this fwbench's rules, and the experiments whose stored verdicts those
    rules changed (a file written by an older fwbench)."""
    report = claims_report(results)
    if report is None:
        return (), ()
    report, rejudged = judged_by_these_rules(report)
    claims = tuple(
        ClaimEvidence(
            record.name, verdict.claim, verdict.outcome.value, verdict.condition, verdict.findings
        )
        for record in report.experiments
        for verdict in record.verdicts
    )
    return claims, rejudged
