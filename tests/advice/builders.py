"""Synthetic results files built with the harness's own value objects
(``fwbench.harness.results``), so fixtures cannot drift from the format.

The numbers are invented but shaped like a 1-core service measurement (the harness pins
the service to one core of two): sync servers plateau at their Little's-law ceiling,
event loops at a CPU plateau. They are test fixtures, never quoted as measurements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from fwbench.experiments.model import Outcome, Plan, Table, Verdict
from fwbench.experiments.runner import ClaimsReport, ExperimentRecord
from fwbench.harness.documents import dump
from fwbench.harness.results import (
    ColdStart,
    Json,
    Latency,
    LoadSample,
    Machine,
    MemoryProfile,
    MemoryUse,
    Placement,
    Point,
    ProcessMemory,
    Results,
    RunConfig,
    ServiceRun,
    SocketErrors,
)
from fwbench.harness.servers import configure

_MB = 1_000_000
CONNECTIONS = (16, 64, 256)
DOWNSTREAM_MS = 50


@dataclass(frozen=True)
class Setup:
    """One synthetic framework/server measurement: throughput and p99 (ms) per connection
    count for ``/io`` and ``/json``, memory of the master and of one worker (MB, PSS), and
    the cold start to the first domain request (ms)."""

    io_rps: tuple[float, float, float]
    io_p99_ms: tuple[float, float, float]
    json_rps: tuple[float, float, float]
    master_mb: float
    worker_mb: float
    cold_start_ms: float


# fmt: off
# Per pair: /io rps, /io p99 ms, /json rps (at 16, 64, 256 connections), master MB,
# worker MB, cold start ms.
SETUPS: dict[tuple[str, str], Setup] = {
    ("fastapi", "uvicorn"):
        Setup((300, 1100, 1500), (58, 75, 210), (5200, 6000, 6100), 0, 78, 950),
    ("fastapi", "granian"):
        Setup((300, 1050, 1400), (60, 80, 230), (5600, 6400, 6500), 18, 70, 800),
    ("flask", "gunicorn-sync"):
        Setup((57, 58, 58), (290, 1150, 4500), (2500, 2800, 2800), 25, 40, 520),
    ("flask", "gunicorn-gthread"):
        Setup((112, 115, 115), (160, 600, 2350), (2300, 2600, 2600), 25, 45, 530),
    ("flask", "gunicorn-gevent"):
        Setup((290, 950, 1150), (62, 95, 290), (2000, 2300, 2300), 25, 55, 700),
    ("flask", "granian"):
        Setup((280, 700, 750), (65, 120, 420), (3000, 3300, 3300), 18, 60, 450),
    ("django", "gunicorn-sync"):
        Setup((56, 57, 57), (300, 1170, 4600), (1400, 1500, 1500), 30, 70, 1100),
    ("django", "gunicorn-gthread"):
        Setup((108, 110, 110), (170, 620, 2450), (1300, 1400, 1400), 30, 75, 1150),
    ("django", "uvicorn"):
        Setup((19, 19, 19), (850, 3400, 9900), (900, 950, 950), 0, 85, 1300),
    ("django", "granian"):
        Setup((290, 700, 800), (64, 125, 400), (1600, 1700, 1700), 18, 80, 1000),
}
# fmt: on

MACHINE = Machine(
    hostname="fixture-host",
    cpu_model="Fixture CPU @ 2.0GHz",
    logical_cpus=2,
    usable_cpus=2,
    memory_bytes=24 * 2**30,
    os="Linux-6.1.0-fixture-x86_64-with-glibc2.36",
    python="CPython 3.11.2",
    wrk="wrk 4.1.0 [epoll] Copyright (C) 2012 Will Glozer",
    packages={"fastapi": "0.165.0", "flask": "3.1.0", "django": "5.2.0", "uvicorn": "0.54.0"},
)


def _sample(rps: float, p99_ms: float, connections: int, jitter: float) -> LoadSample:
    duration_us = 5_000_000
    requests = round(rps * (1 + jitter) * duration_us / 1e6)
    mean_us = connections / (rps * (1 + jitter)) * 1e6
    p99 = round(p99_ms * 1000 * (1 - jitter))
    p50 = min(round(mean_us), p99)
    return LoadSample(
        requests=requests,
        duration_us=duration_us,
        bytes=requests * 180,
        errors=SocketErrors(0, 0, 0, 0),
        statuses={200: requests},
        latency_us=Latency(
            p50=p50,
            p75=round(p50 + (p99 - p50) * 0.3),
            p90=round(p50 + (p99 - p50) * 0.6),
            p99=p99,
            p99_9=round(p99 * 1.2),
            max=round(p99 * 1.5),
            mean=min(mean_us, p99),
            stdev=mean_us * 0.2,
        ),
    )


def _memory(setup: Setup, workers: int) -> MemoryProfile:
    def use(mb: float) -> MemoryUse:
        return MemoryUse(rss=round(mb * 1.6 * _MB), uss=round(mb * 0.8 * _MB), pss=round(mb * _MB))

    processes: tuple[ProcessMemory, ...]
    if setup.master_mb == 0 and workers == 1:
        processes = (
            ProcessMemory(1000, "single", "python", use(setup.worker_mb), use(setup.worker_mb)),
        )
    else:
        processes = (
            ProcessMemory(1000, "master", "python", use(setup.master_mb), use(setup.master_mb)),
            *(
                ProcessMemory(
                    1001 + i, "worker", "python", use(setup.worker_mb), use(setup.worker_mb)
                )
                for i in range(workers)
            ),
        )
    total = setup.master_mb + workers * setup.worker_mb
    return MemoryProfile(
        samples=10, interval_s=0.5, steady=use(total), peak=use(total * 1.05), processes=processes
    )


def build_results(
    overrides: Mapping[tuple[str, str], Setup] | None = None,
    pairs: tuple[tuple[str, str], ...] | None = None,
) -> Results:
    """A complete results file of every pair in :data:`SETUPS` (or ``pairs``), with
    ``overrides`` replacing some setups' numbers."""
    setups = {**SETUPS, **(overrides or {})}
    chosen = pairs or tuple(setups)
    config = RunConfig(
        pairs=chosen,
        servers="all",
        scenarios=("io", "json"),
        connections=CONNECTIONS,
        duration_s=5,
        warmup_s=1,
        repeats=3,
        workers=None,
        database=None,
        downstream_latency_ms=DOWNSTREAM_MS,
        cold_starts=5,
        wrk_threads=1,
        timeout_s=10,
    )
    results = Results.start(
        ("fwbench", "run", "--servers", "all", "--scenarios", "io,json"),
        MACHINE,
        Placement(service_cpus=(0,), load_cpus=(1,)),
        config,
        None,
    )
    for framework, server in chosen:
        setup = setups[(framework, server)]
        sized = configure(framework, server, cores=1)
        results = results.with_service(
            ServiceRun(
                framework=framework,
                server=server,
                workers=sized.workers,
                threads=sized.threads,
                advice=sized.advice,
                command=tuple(sized.command("127.0.0.1", 18701)),
                cpus=(0,),
                database="sqlite:///./fwbench-fixture.sqlite3",
            )
        )
        for scenario, rps_list, path in (
            ("io", setup.io_rps, f"/io?ms={DOWNSTREAM_MS}"),
            ("json", setup.json_rps, "/json"),
        ):
            for i, connections in enumerate(CONNECTIONS):
                rps = rps_list[i]
                p99 = setup.io_p99_ms[i] if scenario == "io" else 2 + connections / rps * 3000
                results = results.with_point(
                    Point(
                        framework=framework,
                        server=server,
                        scenario=scenario,
                        path=path,
                        connections=connections,
                        expected_statuses=(),
                        warmup=None,
                        repeats=tuple(
                            _sample(rps, p99, connections, j) for j in (-0.01, 0.0, 0.01)
                        ),
                        memory=_memory(setup, sized.workers),
                        sanity=(),
                    )
                )
        cold = setup.cold_start_ms
        results = results.with_cold_start(
            ColdStart(
                framework=framework,
                server=server,
                healthz_ms=(cold * 0.9, cold * 0.92, cold * 0.95),
                first_request_ms=(cold * 0.98, cold, cold * 1.03),
                first_request_path="/transactions/1",
            )
        )
    return results.finished("complete")


def write_results(path: Path, **kwargs: object) -> Path:
    """Write :func:`build_results` (``kwargs`` passed on) to ``path`` and return it."""
    build_results(**kwargs).write(path)  # type: ignore[arg-type]
    return path


BLOCKING_VERDICT = Verdict(
    claim="All-or-nothing async: Mixing sync/async causes deadlocks",
    outcome=Outcome.DEPENDS,
    rule="a written rule",
    condition="deadlocked only in sync dependency with an exhausted pool",
    findings=("async def + time.sleep: 19.5 ok req/s: serialised (stall)",),
)


def claims_section(
    verdict: Verdict = BLOCKING_VERDICT,
    experiment: str = "blocking",
    tables: tuple[Table, ...] = (),
) -> dict[str, Json]:
    """The ``claims`` section ``fwbench claims`` writes, with one experiment's ``verdict``
    (default: a blocking-async one) and its ``tables``."""
    record = ExperimentRecord(
        name=experiment,
        title=f"The {experiment} experiment",
        claims=(verdict.claim,),
        setup="a fixture setup",
        plan=Plan(10.0, ("run",)),
        duration_s=9.0,
        evidence=None,
        tables=tables,
        verdicts=(verdict,),
        error=None,
    )
    section = dump(ClaimsReport(True, (record,), 9.0))
    assert isinstance(section, dict)
    return section


def write_claims_results(path: Path) -> Path:
    """Write a results file as ``fwbench claims`` leaves it (verdicts, no run points)."""
    results = replace(build_results(), points=(), cold_starts=())
    results.with_section("claims", claims_section()).write(path)
    return path
