"""Fitting a :class:`PairModel` from its points: pure arithmetic, no I/O.

* CPU cost per request, per scenario: the service tree's CPU seconds over the responses
  of that scenario's fitted points (psutil's counters, not throughput).
* CPU share: what other processes left the service of its cores at its saturated
  points (psutil's per-CPU counters less the service's own); ``U`` is of that share.
* Round-trip overhead: what the closed-loop law needs, beside the downstream and the
  CPU work, to give the lightest io point's throughput.
* Slots: at each io point, busy slots = ``X x T`` (Little's law on the server, ``T`` the
  in-slot time of :mod:`._laws`). A point whose busy slots come near its connections, or
  whose CPU is near saturation, only says "at least that many"; the others measure them.
  A measured limit below the configured slots is read as workers that took no requests
  (gunicorn gthread: wrk's kept-alive connections stay with the worker that accepted
  them, so one worker's threads serve them all), and predictions scale it that way.
* Latency: ``p - unloaded mean = light + growth x Q`` by least squares, ``Q`` the mean
  queueing delay ``c / X - unloaded mean``.
* Memory: ``master + per_worker x workers`` from the per-process PSS of two worker
  counts.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Final

from fwbench.experiments._measure import slots as configured_slots
from fwbench.harness.scenarios import SCENARIOS
from fwbench.harness.servers import configure
from fwbench.model._document import (
    Latency,
    Memory,
    MemoryPoint,
    PairModel,
    Point,
    Setup,
    Slots,
    Span,
    StartupPoint,
)
from fwbench.model._laws import (
    CONNECTION_BOUND,
    CPU_BOUND,
    closed_loop_throughput,
    in_slot_time,
    round_trip,
    unloaded_time,
)

#: Highest utilisation used in an in-slot time: beyond it ``D / (1 - U)`` is noise.
_U_CAP: Final = 0.97

#: Largest mean response time, as a share of a point's duration, of a steady point.
_STEADY_SHARE: Final = 0.25

#: Relative difference below which configured and measured slots agree.
SLOTS_AGREE: Final = 0.25

#: Halvings of the interval when the overhead is found by bisection.
_BISECTIONS: Final = 60

#: Limited io points that must agree before a limit the settings do not give is kept.
CONFIRMING: Final = 2


class FitError(ValueError):
    """The points cannot determine the model (a scenario or the io points missing)."""


def io_route(routes: str) -> str:
    """The io route of a setup: FastAPI's ``def`` variant lives under ``/_lab``."""
    return "/_lab/io-sync" if routes == "def" else "/io"


def configured_per_worker(setup: Setup) -> float | None:
    """Slots one worker of ``setup`` offers by its settings; None when unbounded."""
    config = configure(
        setup.framework, setup.server, setup.cores, workers=setup.workers, threads=setup.threads
    )
    total = configured_slots(config, io_route(setup.routes))
    return None if math.isinf(total) else total / setup.workers


def configured_slots_of(setup: Setup) -> float:
    """Slots ``setup``'s settings configure in all (``math.inf``: unbounded)."""
    per_worker = configured_per_worker(setup)
    return math.inf if per_worker is None else per_worker * setup.workers


def cpu_costs(points: Iterable[Point]) -> dict[str, float]:
    """CPU ms per response by scenario: total CPU over total responses."""
    cpu: dict[str, float] = {}
    answered: dict[str, int] = {}
    for point in points:
        cpu[point.scenario] = cpu.get(point.scenario, 0.0) + point.cpu_s
        answered[point.scenario] = answered.get(point.scenario, 0) + point.ok + point.failed
    return {name: cpu[name] * 1000 / n for name, n in answered.items() if n}


def cpu_share(points: Sequence[Point]) -> float:
    """Share of its cores the service could get: what other processes left it at its
    saturated scenario points (else any point), where it competed for every cycle; the
    highest, at most 1."""
    saturated = [p for p in points if p.scenario != "io"] or points
    return min(1.0, max(1 - p.others_utilisation for p in saturated))


def _busy(point: Point, share: float) -> float:
    """The utilisation law's ``U`` at ``point``: of the share the service could get."""
    return min(point.cpu_utilisation / share, _U_CAP)


def overhead_ms(
    io_points: Sequence[Point], io_cpu_ms: float, share: float, slots: float, cores: int
) -> float:
    """Round trip beyond downstream and CPU, from the lightest io point (fewest
    connections, then shortest latency): the overhead with which the closed-loop law
    gives that point's throughput (the law falls as the overhead grows, so bisection
    finds it), 0 when even none gives less."""
    light = min(io_points, key=lambda p: (p.connections, p.latency_ms))

    def rate(overhead: float) -> float:
        return closed_loop_throughput(
            connections=light.connections,
            slots=slots,
            latency_s=light.latency_ms / 1000,
            overhead_s=overhead / 1000,
            cpu_s=io_cpu_ms / 1000,
            cores=cores * share,
        )

    low, high = 0.0, light.connections / light.rps * 1000
    if rate(low) <= light.rps:
        return 0.0
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        low, high = (middle, high) if rate(middle) > light.rps else (low, middle)
    return (low + high) / 2


def busy_slots(point: Point, overhead: float, io_cpu_ms: float, share: float) -> float:
    """Little's law on the server: throughput x in-slot time."""
    held_ms = in_slot_time(point.latency_ms, overhead, io_cpu_ms, _busy(point, share))
    return point.rps * held_ms / 1000


def _agrees(measured: float, configured: float | None) -> bool:
    return configured is not None and abs(measured - configured) <= SLOTS_AGREE * configured


def fit_slots(
    setup: Setup, io_points: Sequence[Point], overhead: float, io_cpu_ms: float, share: float
) -> Slots:
    """Measured slots per worker beside the configured ones (see the module doc). A
    limit the settings do not give must show on :data:`CONFIRMING` points: one point
    alone may be a transient (e.g. threads convoying on the GIL at one latency)."""
    limited: list[float] = []
    seen: list[float] = []
    for point in io_points:
        busy = busy_slots(point, overhead, io_cpu_ms, share)
        seen.append(busy)
        if busy < CONNECTION_BOUND * point.connections and _busy(point, share) < CPU_BOUND:
            limited.append(busy)
    configured = configured_per_worker(setup)
    workers = setup.workers
    measured = statistics.median(limited) / workers if limited else None
    at_least = max(seen) / workers
    unconfirmed = ""
    if measured is not None and len(limited) < CONFIRMING and not _agrees(measured, configured):
        unconfirmed = f"; one point looked limited at {measured:.1f} per worker, no other did"
        measured = None
    if measured is None:
        agree = configured is None or at_least <= configured * (1 + SLOTS_AGREE)
        note = (
            f"not reached: up to {at_least:.1f} busy per worker, bounded by connections or "
            f"CPU{unconfirmed}"
        )
    elif configured is None:
        agree = False
        note = f"a limit of {measured:.1f} per worker where the settings set none"
    else:
        agree = _agrees(measured, configured)
        active = measured * workers / configured
        note = (
            "measured as configured"
            if agree
            else f"measured {measured:.1f} per worker, {measured / configured:.0%} of "
            f"configured: served as if {active:.1f} of {workers} workers took requests"
        )
    return Slots(
        configured=configured, measured=measured, at_least=at_least, agree=agree, note=note
    )


def _line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares intercept and slope (slope >= 0; a flat mean when xs do not vary)."""
    if len(set(xs)) < 2:
        return statistics.fmean(ys), 0.0
    slope, intercept = statistics.linear_regression(xs, ys)
    if slope < 0:
        return statistics.fmean(ys), 0.0
    return intercept, slope


def steady(point: Point) -> bool:
    """Whether a point's latencies describe a steady state: its mean response time
    (``c / X``) is a small part of its duration, so wrk's percentiles, which count only
    the responses that arrived, are not cut short."""
    return point.connections / point.rps <= _STEADY_SHARE * point.duration_s


def fit_latency(points: Sequence[Point], overhead: float, cpu_ms: dict[str, float]) -> Latency:
    """``p50`` and ``p99`` as ``unloaded + light + growth x Q`` over the steady points
    (all of them when none is; see the module doc)."""
    queueing: list[float] = []
    p50: list[float] = []
    p99: list[float] = []
    for point in [p for p in points if steady(p)] or points:
        trip = round_trip(SCENARIOS[point.scenario].needs_downstream, overhead)
        base = unloaded_time(point.latency_ms, trip, cpu_ms[point.scenario])
        queueing.append(max(0.0, point.connections / point.rps * 1000 - base))
        p50.append(point.p50_ms - base)
        p99.append(point.p99_ms - base)
    light50, growth50 = _line(queueing, p50)
    light99, growth99 = _line(queueing, p99)
    return Latency(
        p50_light_ms=light50, p50_growth=growth50, p99_light_ms=light99, p99_growth=growth99
    )


def fit_memory(points: Sequence[MemoryPoint]) -> Memory:
    """``master + per_worker x workers`` at rest and under load, from each setup's
    per-process PSS (the worker counts differ, so each setup checks the other)."""
    if not points:
        raise FitError("no memory measured")

    def split(total: float, worker: float, workers: int) -> tuple[float, float]:
        return max(0.0, total - worker * workers), worker

    idle = [split(p.idle_mb, p.idle_worker_mb, p.setup.workers) for p in points]
    loaded = [split(p.loaded_mb, p.loaded_worker_mb, p.setup.workers) for p in points]
    return Memory(
        master_idle_mb=statistics.median(m for m, _ in idle),
        per_worker_idle_mb=statistics.median(w for _, w in idle),
        master_loaded_mb=statistics.median(m for m, _ in loaded),
        per_worker_loaded_mb=statistics.median(w for _, w in loaded),
        workers_measured=tuple(sorted({p.setup.workers for p in points})),
    )


def _span(values: Iterable[float]) -> Span:
    found = list(values)
    return Span(low=min(found), high=max(found))


def fit_pair(
    points: Sequence[Point],
    memory: Sequence[MemoryPoint],
    startup: StartupPoint | None,
) -> PairModel:
    """The model of one pair from its fitting points (all of one setup), the memory of
    its setups and its start-up.

    Raises:
        FitError: no io point, or the points mix setups.
    """
    fitting = [p for p in points if p.role == "fit"]
    setups = {p.setup for p in fitting}
    if len(setups) != 1:
        raise FitError(f"fitting needs the points of one setup, got {len(setups)}")
    setup = setups.pop()
    io_points = [p for p in fitting if p.scenario == "io" and p.rps > 0]
    if not io_points:
        raise FitError(f"{setup.pair}: no io point to fit the slots on")
    cpu_ms = cpu_costs(fitting)
    share = cpu_share(fitting)
    configured = configured_slots_of(setup)
    overhead = overhead_ms(io_points, cpu_ms["io"], share, configured, setup.cores)
    answered = [p for p in fitting if p.rps > 0]
    return PairModel(
        setup=setup,
        slots=fit_slots(setup, io_points, overhead, cpu_ms["io"], share),
        cpu_ms=cpu_ms,
        cpu_share=share,
        overhead_ms=overhead,
        latency=fit_latency(answered, overhead, cpu_ms),
        memory=fit_memory(memory),
        cold_start_ms=startup.cold_start_ms if startup else None,
        import_ms=startup.import_ms if startup else None,
        measured={
            "latency_ms": _span(p.latency_ms for p in io_points),
            "connections": _span(p.connections for p in answered),
            "utilisation": _span(p.cpu_utilisation / share for p in answered),
            "workers": _span([setup.workers]),
            # The threads the server ran, its own default included (granian WSGI's
            # blocking threads), so a query at that default does not read as extrapolated.
            "threads": _span([setup.threads or configured_per_worker(setup) or 1]),
            "cores": _span([setup.cores]),
        },
    )
