"""The sweep ``fwbench model`` measures: for each pair, one setup (the server's
documented rule) at the points the fit needs, points kept out of the fit (another
latency and concurrency), and a second setup (another worker count, and thread count
where the server has one) for memory and for validation.

Where it measures is a :class:`Stand`. On this machine (:class:`LocalStand`) everything
runs through the harness: services and the downstream from
:class:`~fwbench.experiments.context.Context` (pinned to the service CPUs), wrk through
:func:`~fwbench.harness.load.run_load`, memory through
:class:`~fwbench.harness.probes.MemorySampler`, cold starts through the cold-start
experiment's spawns. Across hosts (``fwbench model --hosts``,
:mod:`fwbench.model._hosts`) the same measurements run on the service host, with wrk on
every load host at once. CPU time is read from psutil's counters of the service's
process tree (:mod:`fwbench.harness.cputime`) before and after each wrk run, where the
service runs.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Final, Protocol

from fwbench.experiments._measure import (
    ANYIO_THREADS,
    IO_QUICK_SETUPS,
    memory_figures,
)
from fwbench.experiments._running import Running, start_setup
from fwbench.experiments.cold_start import cold_start_run
from fwbench.experiments.context import Context
from fwbench.harness.errors import FwbenchError
from fwbench.harness.load import LoadSpec
from fwbench.harness.results import ServiceRun
from fwbench.harness.scenarios import SCENARIOS
from fwbench.harness.servers import all_pairs
from fwbench.model._document import MemoryPoint, Point, Role, Setup, StartupPoint, pair_name
from fwbench.model._fit import configured_per_worker, io_route

#: One wrk run: scenario, downstream latency (ms, io only), connections, role, and what
#: a validation point varies.
Load = tuple[str, int, int, Role, str]

#: Most connections an io point opens: enough to show whether an event loop has a limit.
MAX_CONNECTIONS: Final = 128
#: Fewest connections of a point meant to exceed the slots.
MIN_CONNECTIONS: Final = 16
#: Connections of the saturated (CPU-bound) scenario points.
SATURATED_CONNECTIONS: Final = 64

#: Seconds the memory of a setup is sampled at rest, before any request.
_IDLE_S: Final = 1.0

#: Seconds a service start, idle memory sample and stop take, for the estimate.
_SETUP_OVERHEAD_S: Final = 6.0
#: Seconds a cold-start spawn, and an import-time sample, take, for the estimate.
_SPAWN_S: Final = 2.0

_OTHER_WORKERS: Final = "another worker count"


def above_slots(setup: Setup) -> int:
    """Connections that exceed ``setup``'s configured slots twice over (within
    :data:`MIN_CONNECTIONS`..:data:`MAX_CONNECTIONS`): enough to show the limit, few
    enough that a request waits well under a point's duration for a slot."""
    per_worker = configured_per_worker(setup)
    if per_worker is None:
        return MAX_CONNECTIONS
    return int(min(MAX_CONNECTIONS, max(MIN_CONNECTIONS, 2 * per_worker * setup.workers)))


@dataclass(frozen=True)
class Plan:
    """How long each wrk run lasts, the scenarios whose CPU cost is fitted, whether the
    second setup is validated on json too, and the cold-start spawns per pair."""

    duration_s: int
    warmup_s: int
    scenarios: tuple[str, ...]
    second_json: bool
    spawns: int

    def first_loads(self, setup: Setup) -> tuple[Load, ...]:
        """The wrk runs of a pair's first setup: the io points the slots and round trip
        are fitted on (a light load, then three latencies above the slots), each other
        scenario saturated, and two points kept out of the fit. The ``def`` variant has
        io only."""
        high = above_slots(setup)
        loads: list[Load] = [
            ("io", 10, 2, "fit", ""),
            ("io", 10, high, "fit", ""),
            ("io", 50, high, "fit", ""),
            ("io", 200, high, "fit", ""),
            ("io", 80, high // 2, "validate", "another latency and concurrency"),
        ]
        if setup.routes == "native":
            loads += [
                (name, 0, SATURATED_CONNECTIONS, "fit", "")
                for name in self.scenarios
                if name != "io"
            ]
            loads.append(("json", 0, 8, "validate", "another concurrency"))
        return tuple(loads)

    def second_loads(self, setup: Setup) -> tuple[Load, ...]:
        """The wrk runs of a pair's second setup, all kept out of the fit."""
        loads: list[Load] = [("io", 50, above_slots(setup), "validate", _OTHER_WORKERS)]
        if self.second_json and setup.routes == "native":
            loads.append(("json", 0, SATURATED_CONNECTIONS, "validate", _OTHER_WORKERS))
        return tuple(loads)

    def seconds(self, targets: Sequence[Target]) -> float:
        """Planned wall-clock seconds for ``targets`` (on an unshared machine)."""
        total = 0.0
        for target in targets:
            native = target.routes == "native"
            runs = (5 + len(self.scenarios) if native else 5) + (
                1 + self.second_json if native else 1
            )
            total += runs * (self.duration_s + 1) + 2 * (self.warmup_s + _SETUP_OVERHEAD_S)
            if native:
                total += (self.spawns + 1) * _SPAWN_S + 3 * _SPAWN_S
        return total


FULL: Final = Plan(
    duration_s=3,
    warmup_s=1,
    scenarios=("io", "json", "db", "transactions"),
    second_json=True,
    spawns=3,
)
QUICK: Final = Plan(
    duration_s=2, warmup_s=1, scenarios=("io", "json", "db"), second_json=False, spawns=1
)


@dataclass(frozen=True)
class Target:
    """A pair to measure; ``routes="def"``: FastAPI's plain ``def`` io route."""

    framework: str
    server: str
    routes: str = "native"

    @property
    def label(self) -> str:
        """e.g. ``fastapi/uvicorn+def``."""
        return pair_name(self.framework, self.server, self.routes)


def targets(
    frameworks: Sequence[str], servers: Sequence[str] | None, quick: bool
) -> tuple[Target, ...]:
    """Every supported pair of ``frameworks`` on ``servers`` (None: all), plus FastAPI's
    ``def`` routes on uvicorn when FastAPI on uvicorn is in; ``quick``: only the pairs
    ``fwbench claims --quick`` measures."""
    quick_pairs = {(setup.framework, setup.server) for setup in IO_QUICK_SETUPS}
    found: list[Target] = []
    for framework, server in all_pairs():
        if quick and (framework, server) not in quick_pairs:
            continue
        if framework in frameworks and (servers is None or server in servers):
            found.append(Target(framework, server))
            if (framework, server) == ("fastapi", "uvicorn"):
                found.append(Target(framework, server, "def"))
    return tuple(found)


def second_setup(first: Setup) -> tuple[int, int | None]:
    """Workers and threads of the second setup: one worker more when the first has one,
    one fewer otherwise (fewer processes on a small machine); four times the threads
    where the server has a thread setting, and for FastAPI's ``def`` routes four times
    anyio's limiter (a raised limit, as a thread-heavy deployment would set)."""
    workers = 2 if first.workers == 1 else first.workers - 1
    if first.routes == "def":
        return workers, 4 * (first.threads or ANYIO_THREADS)
    threaded = first.server == "gunicorn-gthread" or (
        first.server == "granian" and first.framework != "fastapi"
    )
    return workers, (4 * (first.threads or 2) if threaded else None)


@dataclass
class Measured:
    """What the sweep gathered so far (kept when a pair fails)."""

    points: list[Point]
    memory: list[MemoryPoint]
    startup: list[StartupPoint]
    failures: list[str]


class Stand(Protocol):
    """Where the sweep measures: this machine (:class:`LocalStand`) or the hosts of a
    hosts file (:class:`fwbench.model._hosts.HostsStand`)."""

    @property
    def service_cores(self) -> int:
        """Cores each setup runs on: what server configurations are sized for."""
        ...

    @property
    def services(self) -> Sequence[ServiceRun]:
        """Every service start so far, in order, as the results file records it."""
        ...

    def say(self, line: str) -> None:
        """Print one line of progress."""
        ...

    def setup(
        self, target: Target, workers: int | None, threads: int | None
    ) -> AbstractContextManager[Running]:
        """Start ``target`` with ``workers`` and ``threads`` (None: the server's rule),
        the lab routes on, for the length of a ``with`` block."""
        ...

    def startup(self, target: Target, spawns: int) -> StartupPoint:
        """Time ``spawns`` cold starts of ``target`` (its server's rule) and its import."""
        ...


class LocalStand:
    """The sweep on this machine: services and the downstream from ``context`` (pinned
    to its service CPUs), wrk on its load CPUs, cold starts through the cold-start
    experiment's spawns.

    Args:
        context: the experiments' context the services start from.
    """

    def __init__(self, context: Context) -> None:
        self.context = context

    @property
    def service_cores(self) -> int:
        return self.context.service_cores

    @property
    def services(self) -> Sequence[ServiceRun]:
        return self.context.services

    def say(self, line: str) -> None:
        self.context.say(line)

    @contextlib.contextmanager
    def setup(self, target: Target, workers: int | None, threads: int | None) -> Iterator[Running]:
        with start_setup(
            self.context, target.framework, target.server, workers=workers, threads=threads
        ) as started:
            yield started

    def startup(self, target: Target, spawns: int) -> StartupPoint:
        run = cold_start_run(self.context, target.framework, target.server, False, spawns)
        return StartupPoint(
            pair=f"{target.framework}/{target.server}",
            cold_start_ms=run.first_request,
            import_ms=statistics.median(run.import_ms),
        )


def _run(running: Running, setup: Setup, load: Load, seconds: int) -> Point:
    scenario, latency, connections, role, why = load
    spec = SCENARIOS[scenario]
    path = f"{io_route(setup.routes)}?ms={latency}" if scenario == "io" else spec.url_path(0)
    before = running.counters()
    sample = running.load(
        LoadSpec(
            url=running.url,
            path=path,
            script=spec.script,
            connections=connections,
            duration_s=seconds,
            threads=connections,
            timeout_s=10,
            script_args=spec.script_args(running.token),
        )
    )
    after = running.counters()
    cpu_s = after.tree_s - before.tree_s
    # The service is pinned to its CPUs, so whatever else they did was someone else's.
    others_s = after.busy_s - before.busy_s - cpu_s
    running.drain()
    answered = sum(
        n
        for status, n in sample.statuses.items()
        if 200 <= status < 300 or status in spec.expected_statuses
    )
    duration = sample.duration_us / 1e6
    return Point(
        setup=setup,
        scenario=scenario,
        latency_ms=float(latency),
        connections=connections,
        duration_s=duration,
        ok=answered,
        failed=sample.requests - answered + sample.errors.total,
        rps=answered / duration,
        mean_ms=sample.latency_us.mean / 1000,
        p50_ms=sample.latency_us.p50 / 1000,
        p99_ms=sample.latency_us.p99 / 1000,
        window_s=after.at_s - before.at_s,
        cpu_s=max(0.0, cpu_s),
        others_cpu_s=max(0.0, others_s),
        role=role,
        why=why,
    )


def _measure_setup(
    stand: Stand,
    target: Target,
    loads_of: Callable[[Setup], tuple[Load, ...]],
    plan: Plan,
    workers: int | None = None,
    threads: int | None = None,
) -> tuple[list[Point], MemoryPoint]:
    """Start one setup, sample its memory at rest, warm it up, run ``loads_of(setup)``
    while sampling its memory under load."""
    with stand.setup(target, workers, threads) as running:
        config = running.config
        setup = Setup(
            framework=target.framework,
            server=target.server,
            routes="def" if target.routes == "def" else "native",
            workers=config.workers,
            threads=config.threads,
            cores=stand.service_cores,
        )
        loads = loads_of(setup)
        stand.say(f"{setup.label}: {len(loads)} points of {plan.duration_s} s")
        idle = running.idle_memory(_IDLE_S)
        with running.memory() as sampler:
            # Lazy imports, pools and caches fill on the first requests, not measured.
            _run(running, setup, loads[0], plan.warmup_s)
            sampler.steady()
            points = [_run(running, setup, load, plan.duration_s) for load in loads]
        profile = sampler.profile()
    loaded = memory_figures(profile) if profile else idle
    return points, MemoryPoint(
        setup=setup,
        idle_mb=idle.total_pss_mb,
        idle_worker_mb=idle.worker_pss_mb,
        loaded_mb=loaded.total_pss_mb,
        loaded_worker_mb=loaded.worker_pss_mb,
    )


def measure(
    stand: Stand,
    chosen: Sequence[Target],
    plan: Plan,
    on_target: Callable[[Target, Measured], None] = lambda target, measured: None,
) -> Measured:
    """Measure every target of ``chosen``; a target that fails is named in
    ``failures`` and the others go on. ``on_target`` is called after each one."""
    measured = Measured([], [], [], [])
    for target in chosen:
        try:
            first, first_memory = _measure_setup(stand, target, plan.first_loads, plan)
            workers, threads = second_setup(first_memory.setup)
            second, second_memory = _measure_setup(
                stand, target, plan.second_loads, plan, workers, threads
            )
            native = target.routes == "native"
            startup = stand.startup(target, plan.spawns) if native else None
        except FwbenchError as error:
            measured.failures.append(f"{target.label}: {error.problem}")
        else:
            measured.points += [*first, *second]
            measured.memory += [first_memory, second_memory]
            measured.startup += [startup] if startup else []
        on_target(target, measured)
    return measured
