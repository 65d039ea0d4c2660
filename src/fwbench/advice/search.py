"""The configuration search: every configuration the performance model can predict, for
each framework, sized for the user's load, and the best one per framework.

For each pair the model holds (``framework/server``, ``fastapi/uvicorn+def`` for FastAPI's
plain ``def`` routes) the search tries worker counts and, where the server has them,
thread counts sized from the requests in flight (peak x time per request, Little's
law), on an instance of the user's cores. Each candidate is planned the same way:

1. capacity of one instance, from the model (:func:`fwbench.model.predict`); a Python
   process runs on one core at a time (the GIL), so an instance uses at most as many
   cores as it has workers;
2. instances = ceil(peak / (capacity x :data:`HEADROOM`)), each at peak / instances;
3. p50, p99, CPU utilisation and memory at that planned rate, from the model again,
   with the model's validation error for the pair and every extrapolation warning.

Serverless is planned per function instance: one worker serving the platform's
concurrency. The best candidate meets every budget (memory per instance, p99, cold
start), needs no ``async`` code when the team cannot debug it, uses every core for CPU-
bound work, then costs the fewest cores and the least memory.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final, Literal

from fwbench.advice.profile import Deployment, Profile, Workload
from fwbench.harness.servers import FRAMEWORKS, server_name
from fwbench.model import BadQuery, ModelDocument, PairModel, Prediction, Query, Setup, predict

#: Plan each instance at 70% of its capacity: queueing delay, and so p99, grows sharply
#: as utilisation approaches 100% (M/M/c queues), and a peak is never perfectly spread.
HEADROOM: Final = 0.7

#: Most threads per worker the search tries: beyond it a thread's stack (8 MB of
#: address space each) and the GIL's switching dominate, and the model never measured
#: anything near it.
MAX_THREADS: Final = 1024

#: Most workers per instance the search tries.
MAX_WORKERS: Final = 64

#: Relative slack on :data:`HEADROOM` for the slots (a right-sized thread count lands on
#: it up to rounding and the CPU's stretch of the time in a slot).
_SLOT_TOLERANCE: Final = 0.05


@dataclass(frozen=True)
class Band:
    """The model's error for one pair, from its validation points (points it was not
    fitted on): the median absolute relative error of throughput and of p99; None when
    the pair has no such point."""

    throughput: float | None
    p99: float | None
    points: int

    def text(self, value: float | None) -> str:
        """``value``'s band as printed: `` ±12%``, or nothing when unknown."""
        error = self.p99 if value is None else self.throughput
        return "" if error is None else f" ±{error:.0%}"


@dataclass(frozen=True)
class Miss:
    """A budget a plan misses: ``what`` (``memory``, ``p99``, ``cold start``), the
    predicted ``value`` against the ``budget``, in ``unit``."""

    what: Literal["memory", "p99", "cold start"]
    value: float
    budget: float
    unit: str

    @property
    def ratio(self) -> float:
        """How far over the budget, as a fraction of it (0.25: 25% over)."""
        return self.value / self.budget - 1

    def text(self) -> str:
        """e.g. ``memory 165 MB against a 100 MB budget (65% over)``."""
        budget = f"against a {self.budget:,.0f} {self.unit} budget"
        if not math.isfinite(self.value):
            return f"{self.what} grows without bound (the slots never catch up) {budget}"
        return f"{self.what} {self.value:,.0f} {self.unit} {budget} ({self.ratio:.0%} over)"


@dataclass(frozen=True)
class Plan:
    """One configuration planned for the user's peak.

    Attributes:
        setup: the configuration of one instance (pair, workers, threads, cores).
        serverless: planned per function instance (one worker, ``concurrency`` slots).
        concurrency: requests a function instance serves at once (serverless), else None.
        scenario: the model's scenario the plan reads (``io``, or ``json`` for CPU work).
        latency_ms: downstream latency per request (0 for CPU work).
        overhead_ms: the model's round trip beyond downstream and CPU.
        cpu_ms: the model's CPU cost per request of the scenario.
        peak_rps: the user's peak.
        usable_cores: cores the instance can keep busy (at most one per worker).
        slots: requests one instance serves at once (``inf``: unbounded).
        capacity: the model's prediction of one instance's capacity.
        instances: instances for the peak at :data:`HEADROOM`.
        planned: the model's prediction at peak / instances per instance.
        band: the model's validation error for the pair.
        master_mb: memory of the instance besides its workers, under load (the model's).
        worker_mb: memory of one worker under load (the model's).
        misses: the budgets the plan misses.
    """

    setup: Setup
    serverless: bool
    concurrency: int | None
    scenario: str
    latency_ms: float
    overhead_ms: float
    cpu_ms: float
    peak_rps: float
    usable_cores: int
    slots: float
    capacity: Prediction
    instances: int
    planned: Prediction
    band: Band
    master_mb: float
    worker_mb: float
    misses: tuple[Miss, ...]

    @property
    def framework(self) -> str:
        """The framework of the plan."""
        return self.setup.framework

    @property
    def async_code(self) -> bool:
        """Whether the application must be written with ``async def`` routes (FastAPI's
        native routes); ``def`` routes, WSGI and Django's sync views need none."""
        return self.setup.framework == "fastapi" and self.setup.routes == "native"

    @property
    def unloaded_ms(self) -> float:
        """Time one request takes when nothing queues: downstream + round trip + CPU."""
        return self.latency_ms + self.overhead_ms + self.cpu_ms

    @property
    def in_flight(self) -> float:
        """Requests in flight at the peak (Little's law): peak x unloaded time."""
        return self.peak_rps * self.unloaded_ms / 1000

    @property
    def capacity_rps(self) -> float:
        """Most one instance serves (the model's capacity)."""
        return self.capacity.capacity_rps

    @property
    def instance_rps(self) -> float:
        """Rate planned per instance: peak / instances."""
        return self.peak_rps / self.instances

    @property
    def processes(self) -> int:
        """Worker processes across all instances."""
        return self.instances * self.setup.workers

    @property
    def instance_memory_mb(self) -> float:
        """Memory of one instance under load (the model's master + workers)."""
        return self.planned.memory_loaded_mb

    @property
    def total_memory_mb(self) -> float:
        """Memory across all instances."""
        return self.instances * self.instance_memory_mb

    @property
    def total_cores(self) -> int:
        """Cores across all instances: what the plan costs."""
        return self.instances * self.setup.cores

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every dimension the planned prediction extrapolates along (the capacity's are
        the same but for utilisation, which is at its maximum there by definition)."""
        return self.planned.warnings

    @property
    def fits(self) -> bool:
        """Whether the plan meets every budget."""
        return not self.misses

    def describe(self) -> str:
        """The configuration as a reader says it, e.g. ``gunicorn gthread, 1 worker x 32
        threads`` or ``uvicorn, def routes, 2 workers x 80 threads (anyio limiter)``."""
        setup = self.setup
        text = server_name(setup.server)
        if setup.routes == "def":
            text += ", def routes"
        elif self.async_code:
            text += ", async def routes"
        text += f", {setup.workers} worker" + ("" if setup.workers == 1 else "s")
        if setup.routes == "def":
            # anyio's limiter: the threads set, else its default (the slots say which).
            text += f" x {_threads_text(self.slots / setup.workers)} (anyio limiter)"
        elif setup.threads is not None:
            text += f" x {_threads_text(setup.threads)}"
        if self.serverless:
            text += f" per function instance, concurrency {self.concurrency}"
        return text


def _threads_text(count: float) -> str:
    return f"{count:g} thread" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class Search:
    """What the search found: every plan of each framework (``plans``), the best one
    (``best``; absent for a framework the model does not hold), and, for FastAPI when
    the team cannot debug async code, the best ``async`` plan it gave up
    (``async_alternative``)."""

    plans: dict[str, tuple[Plan, ...]]
    best: dict[str, Plan]
    async_alternative: Plan | None

    @property
    def nothing_fits(self) -> bool:
        """Whether no framework's best plan meets every budget."""
        return bool(self.best) and not any(plan.fits for plan in self.best.values())

    @property
    def closest(self) -> Plan | None:
        """When nothing fits, the plan that misses by the least."""
        if not self.nothing_fits:
            return None
        return min(self.best.values(), key=lambda plan: max(m.ratio for m in plan.misses))

    def best_capacity(self, framework: str) -> Plan | None:
        """The plan of ``framework`` whose instance serves the most, among those that
        fit the memory budget (None when none does)."""
        fitting = [
            plan
            for plan in self.plans.get(framework, ())
            if not any(m.what == "memory" for m in plan.misses)
        ]
        return max(fitting, key=lambda plan: plan.capacity_rps, default=None)


def band(document: ModelDocument, pair: str) -> Band:
    """The validation error of ``pair`` in ``document``."""
    checks = [c for c in document.checks if c.point.setup.pair == pair]
    throughput = [abs(c.error) for c in checks if c.error is not None]
    p99 = [
        abs(c.predicted_p99_ms / c.point.p99_ms - 1)
        for c in checks
        if c.predicted_p99_ms is not None and c.point.p99_ms > 0
    ]
    return Band(
        throughput=statistics.median(throughput) if throughput else None,
        p99=statistics.median(p99) if p99 else None,
        points=len(checks),
    )


def _threaded(setup: Setup) -> bool:
    """Whether ``setup``'s slots per worker are a thread count the search sets: gunicorn
    gthread's threads, granian's WSGI blocking threads, anyio's limiter for FastAPI's
    ``def`` routes."""
    return (
        setup.routes == "def"
        or setup.server == "gunicorn-gthread"
        or (setup.server == "granian" and setup.framework != "fastapi")
    )


def _threads(model: PairModel, workers: int, in_flight: float) -> list[int | None]:
    """Thread counts to try for a server that has them (else the server's own): the
    documented rule, powers of two up to twice what the peak keeps in flight per worker,
    and exactly that at :data:`HEADROOM`."""
    if not _threaded(model.setup):
        return [None]
    sized = max(1, min(MAX_THREADS, math.ceil(in_flight / (workers * HEADROOM))))
    found: list[int | None] = [None, sized]
    power = 2
    while power <= min(MAX_THREADS, max(2 * sized, 8)):
        found.append(power)
        power *= 2
    return list(dict.fromkeys(found))


def _workers(model: PairModel, profile: Profile, in_flight: float) -> range | list[int]:
    """Worker counts to try: 1 up to one per core for an event loop (more only share
    the cores), up to gunicorn's 2 x cores + 1 otherwise, and for gunicorn's sync
    worker (one request each) as many as the peak keeps in flight at
    :data:`HEADROOM`."""
    cores = profile.cores
    if model.slots.configured is None:
        return range(1, min(cores, MAX_WORKERS) + 1)
    top = min(2 * cores + 1, MAX_WORKERS)
    if model.setup.server != "gunicorn-sync":
        return range(1, top + 1)
    sized = min(MAX_WORKERS, math.ceil(in_flight / HEADROOM))
    return sorted({*range(1, top + 1), max(1, sized)})


def _setups(model: PairModel, profile: Profile, in_flight: float) -> Iterator[Setup]:
    """Every configuration of ``model``'s pair to plan."""
    base = model.setup
    if profile.deployment is Deployment.SERVERLESS:
        concurrency = profile.function_concurrency
        if base.server == "gunicorn-sync" and concurrency != 1:
            return  # one request per worker: it cannot serve the platform's concurrency
        # A thread (or anyio limiter token) per request the platform lets in at once.
        threads = concurrency if _threaded(base) else None
        yield base.model_copy(update={"workers": 1, "threads": threads, "cores": profile.cores})
        return
    for workers in _workers(model, profile, in_flight):
        for threads in _threads(model, workers, in_flight):
            yield base.model_copy(
                update={"workers": workers, "threads": threads, "cores": profile.cores}
            )


def _query(setup: Setup, profile: Profile, scenario: str, rps: float) -> Query:
    return Query(
        pair=setup.pair,
        scenario=scenario,
        workers=setup.workers,
        threads=setup.threads,
        # One process runs Python on one core at a time: an instance keeps at most one
        # core per worker busy.
        cores=min(setup.cores, setup.workers),
        latency_ms=profile.downstream_ms if scenario == "io" else None,
        rps=rps,
    )


def _misses(plan: Plan, profile: Profile) -> tuple[Miss, ...]:
    found = []
    if plan.instance_memory_mb > profile.memory_budget_mb:
        found.append(Miss("memory", plan.instance_memory_mb, profile.memory_budget_mb, "MB"))
    if plan.planned.p99_ms > profile.p99_target_ms:
        found.append(Miss("p99", plan.planned.p99_ms, profile.p99_target_ms, "ms"))
    cold = plan.planned.cold_start_ms
    if plan.serverless and cold is not None and cold > profile.cold_start_budget_ms:
        found.append(Miss("cold start", cold, profile.cold_start_budget_ms, "ms"))
    return tuple(found)


def plan_setup(model: PairModel, setup: Setup, profile: Profile, error: Band) -> Plan | None:
    """Plan ``profile``'s peak on instances of ``setup`` (a configuration of ``model``'s
    pair); None when the model cannot predict it (a scenario or setting the pair lacks).
    """
    scenario = "json" if profile.workload is Workload.CPU else "io"
    serverless = profile.deployment is Deployment.SERVERLESS
    try:
        # An unbounded offered rate: the prediction at capacity, bound by CPU or slots.
        capacity = predict(model, _query(setup, profile, scenario, math.inf))
    except BadQuery:
        return None
    # The configuration as the server runs it: threads left to the server's rule filled in.
    setup = capacity.setup.model_copy(update={"cores": setup.cores})
    latency = capacity.latency_ms
    cpu_ms = model.cpu_ms[scenario]
    slots = capacity.slots
    limit = capacity.capacity_rps
    if serverless:
        # The platform, not the server, caps a function instance's concurrency.
        slots = min(slots, profile.function_concurrency)
        unloaded_s = (latency + model.overhead_ms + cpu_ms) / 1000
        limit = min(limit, slots / unloaded_s)
    instances = max(1, math.ceil(profile.peak_rps / (limit * HEADROOM)))
    planned = predict(model, _query(setup, profile, scenario, profile.peak_rps / instances))
    plan = Plan(
        setup=setup,
        serverless=serverless,
        concurrency=profile.function_concurrency if serverless else None,
        scenario=scenario,
        latency_ms=latency,
        overhead_ms=model.overhead_ms,
        cpu_ms=cpu_ms,
        peak_rps=profile.peak_rps,
        usable_cores=min(setup.cores, setup.workers),
        slots=slots,
        capacity=capacity if limit == capacity.capacity_rps else _capped(capacity, limit),
        instances=instances,
        planned=planned,
        band=error,
        master_mb=model.memory.master_loaded_mb,
        worker_mb=model.memory.per_worker_loaded_mb,
        misses=(),
    )
    return replace(plan, misses=_misses(plan, profile))


def _capped(prediction: Prediction, limit: float) -> Prediction:
    """``prediction`` with its capacity capped at ``limit`` by the platform's
    concurrency (Little's law on the function's slots)."""
    return replace(prediction, capacity_rps=limit, bound="slots")


def _key(plan: Plan, profile: Profile) -> tuple[float, ...]:
    """Best first: meets every budget (else misses by the least), keeps its slots within
    :data:`HEADROOM` too, uses every core for CPU-bound work, fewest cores, least
    memory, fewest threads (each a stack and a share of the GIL the model does not
    price), lowest p99."""
    worst = max((m.ratio for m in plan.misses), default=0.0)
    idle = plan.setup.cores - plan.usable_cores if profile.workload is Workload.CPU else 0
    crowded = plan.planned.slot_utilisation > HEADROOM * (1 + _SLOT_TOLERANCE)
    threads = plan.setup.workers * (plan.setup.threads or 0)
    return (
        bool(plan.misses),
        worst,
        crowded,
        idle,
        plan.total_cores,
        plan.total_memory_mb,
        threads,
        plan.planned.p99_ms,
    )


def _right_sized(plan: Plan) -> int | None:
    """Threads per worker that keep ``plan``'s busy slots at :data:`HEADROOM` at its
    planned rate per instance, when the server has a thread setting; None otherwise."""
    setup = plan.setup
    if setup.threads is None or plan.serverless or math.isinf(plan.slots):
        return None
    busy = plan.planned.slot_utilisation * plan.slots
    return max(1, min(MAX_THREADS, math.ceil(busy / (setup.workers * HEADROOM))))


def search(document: ModelDocument, profile: Profile) -> Search:
    """Plan every configuration of every pair ``document`` holds and pick the best per
    framework (see the module doc).

    Args:
        document: a fitted model (``fwbench model``'s file, or the shipped reference).
        profile: the user's answers.
    """
    plans: dict[str, list[Plan]] = {}
    for model in document.pairs:
        error = band(document, model.setup.pair)
        # Requests in flight at the peak, unloaded: sizes the threads and sync workers.
        scenario = "json" if profile.workload is Workload.CPU else "io"
        latency = profile.downstream_ms if scenario == "io" else 0.0
        cpu_ms = model.cpu_ms.get(scenario)
        if cpu_ms is None:
            continue
        in_flight = profile.peak_rps * (latency + model.overhead_ms + cpu_ms) / 1000
        found = plans.setdefault(model.setup.framework, [])
        tried: set[Setup] = set()
        for setup in _setups(model, profile, in_flight):
            plan = plan_setup(model, setup, profile, error)
            tried.add(setup)
            if plan is None:
                continue
            found.append(plan)
            # The threads a plan's instance count needs, rather than what the whole peak
            # would on one instance.
            threads = _right_sized(plan)
            sized = setup.model_copy(update={"threads": threads})
            if threads is not None and sized not in tried:
                tried.add(sized)
                again = plan_setup(model, sized, profile, error)
                found += [again] if again is not None else []
    best: dict[str, Plan] = {}
    alternative: Plan | None = None
    for framework in FRAMEWORKS:
        found = sorted(plans.get(framework, ()), key=lambda plan: _key(plan, profile))
        allowed = [p for p in found if profile.team_debugs_async or not p.async_code]
        if allowed:
            best[framework] = allowed[0]
        if not profile.team_debugs_async:
            # What the async code the team cannot debug would have bought.
            alternative = next((p for p in found if p.async_code), alternative)
        plans[framework] = found
    return Search(
        plans={framework: tuple(found) for framework, found in plans.items()},
        best=best,
        async_alternative=alternative,
    )
