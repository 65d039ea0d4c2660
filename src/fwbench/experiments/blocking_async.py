"""Experiment 1: a blocking call inside an ``async def`` route ("mixing sync/async").

Four FastAPI setups are loaded with the same concurrency while a prober samples
``GET /healthz`` (the event loop's lag): the idiomatic ``async def`` route with an async
client (``/io``), the article's mistake, a blocking client inside ``async def``
(``/_lab/io-blocking``), the same blocking client in a plain ``def`` route that FastAPI
runs in anyio's thread pool (``/_lab/io-sync``), and the one recipe that truly deadlocks:
sync dependencies holding pooled database connections while anyio's 40-thread limiter
is exhausted (:mod:`._deadlock_app`), loaded below and above the concurrency at which
it can deadlock (40 threads + 15 pooled connections).
Every run is bounded by wrk's duration; after it, the route is asked once more to see
whether the server recovered.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fwbench.experiments._measure import LoadFigures, expect_ok, load
from fwbench.experiments._probe import LatencyProbe
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict
from fwbench.experiments.verdicts import LoadedRun, classify_run, deadlock_rule
from fwbench.harness import http
from fwbench.harness.load import cpu_list
from fwbench.harness.process import ServiceProcess
from fwbench.harness.results import ServiceRun
from fwbench.harness.servers import configure

CLAIM: Final = "All-or-nothing async: Mixing sync/async causes deadlocks"

#: Downstream latency of every setup.
LATENCY_MS: Final = 50
#: The article's mistake itself.
MIXING: Final = "async def + blocking client"
#: Seconds the route may take to answer once the load has stopped before the server
#: counts as not recovered.
RECOVERY_TIMEOUT_S: Final = 10.0
#: Requests a one-at-a-time latency is measured over, before each run (the fastest is
#: kept: the request's own cost, without the noise of whatever else the machine does).
UNLOADED_REQUESTS: Final = 5
#: Seconds a /healthz probe waits before it counts as lost.
PROBE_TIMEOUT_S: Final = 2.0


@dataclass(frozen=True)
class Settings:
    """Load of one run: wrk connections and seconds. The demo app deadlocks once more
    requests arrive at once than anyio's 40 threads plus the pool's 15 connections
    (``demo_connections``); below that (``connections``) it cannot."""

    connections: int
    demo_connections: int
    duration_s: int


QUICK: Final = Settings(connections=32, demo_connections=128, duration_s=4)
FULL: Final = Settings(connections=32, demo_connections=128, duration_s=10)


@dataclass(frozen=True)
class SetupRun:
    """One bounded run of one setup.

    Attributes:
        setup: what was loaded (e.g. :data:`MIXING`).
        path: the request path, with its query.
        workers: worker processes serving it.
        unloaded_ms: fastest of a few requests of the route alone, before the load: the
            time one request holds a worker when requests are served one at a time.
        load: wrk's figures.
        probe_ms: latency of each ``/healthz`` probe answered during the load.
        probe_lost: probes not answered within :data:`PROBE_TIMEOUT_S`.
        recovered_s: seconds the route took to answer after the load, None when it did
            not within :data:`RECOVERY_TIMEOUT_S`.
    """

    setup: str
    path: str
    workers: int
    unloaded_ms: float
    load: LoadFigures
    probe_ms: tuple[float, ...]
    probe_lost: int
    recovered_s: float | None

    def loaded_run(self) -> LoadedRun:
        """The numbers the deadlock rule reads."""
        return LoadedRun(
            ok=self.load.ok,
            duration_s=self.load.duration_s,
            workers=self.workers,
            latency_ms=self.unloaded_ms,
            connections=self.load.connections,
            recovered_s=self.recovered_s,
            recovery_timeout_s=RECOVERY_TIMEOUT_S,
        )


@dataclass(frozen=True)
class BlockingEvidence:
    """Every setup's run, at downstream latency ``latency_ms``."""

    latency_ms: int
    runs: tuple[SetupRun, ...]


def _loaded(
    context: Context, service: ServiceProcess, setup: str, path: str, connections: int, workers: int
) -> SetupRun:
    settings = FULL if not context.quick else QUICK
    alone = []
    for _ in range(UNLOADED_REQUESTS):
        started = time.perf_counter()
        expect_ok("GET", service.url, path, timeout_s=10)
        alone.append((time.perf_counter() - started) * 1000)
    probe = LatencyProbe(service.url, timeout_s=PROBE_TIMEOUT_S, cpus=context.placement.load_cpus)
    with probe:
        figures = load(context, service.url, path, connections, settings.duration_s)
    started = time.monotonic()
    try:
        answer = http.request("GET", f"{service.url}{path}", timeout_s=RECOVERY_TIMEOUT_S)
        recovered = time.monotonic() - started if answer.ok else None
    except OSError:
        recovered = None
    return SetupRun(
        setup=setup,
        path=path,
        workers=workers,
        unloaded_ms=min(alone),
        load=figures,
        probe_ms=probe.result().latencies_ms,
        probe_lost=probe.result().failures,
        recovered_s=recovered,
    )


@contextmanager
def deadlock_demo(context: Context) -> Iterator[ServiceProcess]:
    """Serve :mod:`._deadlock_app` under uvicorn, sized like the FastAPI setups (one
    worker per core), pinned to the service CPUs."""
    config = configure("fastapi", "uvicorn", context.service_cores)
    port = context.port()
    argv = [
        "taskset", "-c", cpu_list(context.placement.service_cpus),
        sys.executable, "-m", "uvicorn", "fwbench.experiments._deadlock_app:app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(config.workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="fwbench-deadlock-"))
    env = {
        "FWBENCH_DEADLOCK_DB": str(context.state_dir / "deadlock-demo.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    }
    service = ServiceProcess(
        "fastapi-deadlock-demo",
        argv,
        env,
        url=f"http://127.0.0.1:{port}",
        config=config,
        cpus=frozenset(context.placement.service_cpus),
        workdir=workdir,
        inherit_output=False,
    )
    with service:
        service.wait_ready(timeout=30)
        context.services.append(
            ServiceRun(
                framework="fastapi",
                server="uvicorn",
                workers=config.workers,
                threads=None,
                advice="deadlock demo (fwbench.experiments._deadlock_app): "
                "SQLAlchemy's default pool, anyio's default 40 threads",
                command=tuple(argv),
                cpus=context.placement.service_cpus,
                database=env["FWBENCH_DEADLOCK_DB"],
            )
        )
        yield service


class BlockingAsync(Experiment[BlockingEvidence]):
    """Stall or deadlock: what a blocking call in async code really does."""

    name = "blocking-async"
    # Across hosts it runs whole on the service host: its prober times the event loop's
    # lag, which a prober across the network would inflate by the round trip, and its
    # deadlock recipe is a subprocess of the checkout there.
    whole_on_service_host = True
    title = "Blocking calls in async routes: stall or deadlock?"
    claims = (CLAIM,)
    setup = (
        f"FastAPI on uvicorn, downstream latency {LATENCY_MS} ms, the same wrk load for "
        "each: /io (async def + the service's pooled async client), /_lab/io-blocking "
        "(blocking httpx.Client inside async def), /_lab/io-sync (the blocking client in a "
        "def route, anyio's 40 threads); then a demo app whose sync dependencies hold "
        "SQLAlchemy pool connections (pool 5 + 10 overflow, anyio's 40 threads), below and "
        "above 55 concurrent requests. /healthz is probed every 100 ms during each run "
        "(event-loop lag); each run is bounded by wrk's duration."
    )
    evidence_type = BlockingEvidence

    def plan(self, context: Context) -> Plan:
        settings = QUICK if context.quick else FULL
        runs = 5
        return Plan(
            runs * (settings.duration_s + 5) + 10,
            (
                f"3 FastAPI routes at {settings.connections} connections, 2 demo apps at "
                f"{settings.demo_connections}, {settings.duration_s} s each",
            ),
        )

    def run(self, context: Context) -> BlockingEvidence:
        settings = QUICK if context.quick else FULL
        runs = []
        with context.service("fastapi", "uvicorn") as service:
            workers = service.config.workers if service.config else 1
            for setup, route in (
                ("async def + async client", "/io"),
                (MIXING, "/_lab/io-blocking"),
                ("def + blocking client", "/_lab/io-sync"),
            ):
                path = f"{route}?ms={LATENCY_MS}"
                context.say(f"blocking-async: {setup}")
                expect_ok("GET", service.url, f"{route}?ms=0", timeout_s=10)
                runs.append(_loaded(context, service, setup, path, settings.connections, workers))
        with deadlock_demo(context) as demo:
            workers = demo.config.workers if demo.config else 1
            for connections in (settings.connections, settings.demo_connections):
                setup = f"sync deps + pool, {connections} conns"
                context.say(f"blocking-async: {setup}")
                runs.append(_loaded(context, demo, setup, "/accounts/me", connections, workers))
        return BlockingEvidence(LATENCY_MS, tuple(runs))

    def tables(self, evidence: BlockingEvidence) -> tuple[Table, ...]:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:,.1f}"

        def lag(run: SetupRun, quantile: float) -> str:
            # A lost probe waited longer than the timeout: it ranks above every answer.
            ranked = sorted(run.probe_ms) + [math.inf] * run.probe_lost
            if not ranked:
                return "-"
            value = ranked[min(len(ranked) - 1, int(quantile * len(ranked)))]
            return f"> {PROBE_TIMEOUT_S * 1000:,.0f}" if math.isinf(value) else f"{value:,.1f}"

        rows = tuple(
            (
                run.setup,
                str(run.load.connections),
                f"{run.unloaded_ms:,.1f}",
                f"{run.load.ok_rps:,.1f}",
                str(run.load.failed),
                ms(run.load.p99_ms) if run.load.ok else "-",
                lag(run, 0.5),
                lag(run, 1.0),
                "no" if run.recovered_s is None else f"{run.recovered_s:.2f} s",
                classify_run(run.loaded_run()).value,
            )
            for run in evidence.runs
        )
        paths = "; ".join(
            dict.fromkeys(f"{run.setup.split(',')[0]}: {run.path}" for run in evidence.runs)
        )
        return (
            Table(
                f"Loaded runs (downstream {evidence.latency_ms} ms)",
                (
                    "setup",
                    "conns",
                    "alone ms",
                    "ok req/s",
                    "failed",
                    "p99 ms",
                    "loop lag p50 ms",
                    "loop lag max ms",
                    "answers after load",
                    "behaviour",
                ),
                rows,
                "alone: latency of one request without load. Loop lag: latency of /healthz "
                "(answered by the event loop) sampled during the load, lost probes counted as "
                f"> {PROBE_TIMEOUT_S * 1000:,.0f}. Answers after load: "
                f"time for the route to answer once wrk stopped (no: not within "
                f"{RECOVERY_TIMEOUT_S:.0f} s). Paths: {paths}.",
            ),
        )

    def verdicts(self, evidence: BlockingEvidence) -> tuple[Verdict, ...]:
        runs = {run.setup: run.loaded_run() for run in evidence.runs}
        return (deadlock_rule(CLAIM, runs, mixing=[MIXING]),)
