"""Measurements several experiments share, built on the harness (wrk through
:func:`~fwbench.harness.load.run_load`, memory through
:class:`~fwbench.harness.probes.MemorySampler`).

The central one is an *io session* (:mod:`._sessions` measures it): one framework on one
server, serving one route that waits for the downstream, loaded at several downstream
latencies and concurrencies, with its memory sampled after start-up and under load; this
module has what a session is made of (:class:`Sweep`, :class:`IoSetup`,
:class:`IoPoint`, :class:`IoSession`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Final, NamedTuple

from fwbench.experiments.context import Context
from fwbench.experiments.verdicts import Measured
from fwbench.harness import http
from fwbench.harness.errors import FwbenchError
from fwbench.harness.load import LoadSpec, run_load
from fwbench.harness.probes import MemorySampler
from fwbench.harness.process import ServiceProcess
from fwbench.harness.results import LoadSample, MemoryProfile
from fwbench.harness.servers import ServerConfig, all_pairs

#: anyio's default thread limiter: FastAPI runs ``def`` routes and dependencies through
#: Starlette's thread pool, "only 40 tokens. This means that only 40 threads can run at
#: the same time" (Starlette docs, "Thread Pool"), per worker process.
ANYIO_THREADS: Final = 40

#: granian's WSGI defaults (granian/server/common.py): backlog 1024, backpressure
#: backlog / workers, blocking threads backpressure / 2 per worker.
GRANIAN_BACKLOG: Final = 1024

#: Seconds a loaded server may take to work off the requests wrk left queued before the
#: next measurement starts.
DRAIN_TIMEOUT_S: Final = 60.0

#: Seconds the memory after start-up is sampled, before any request.
IDLE_SAMPLE_S: Final = 1.0

_MB: Final = 1_000_000


class MeasurementFailed(FwbenchError):
    """A measurement could not be taken (a lab endpoint missing, a server that never
    recovered)."""


@dataclass(frozen=True)
class LoadFigures:
    """One wrk run, reduced to what the experiments judge.

    Attributes:
        connections: wrk's connections.
        duration_s: the run's length.
        ok: 2xx responses.
        failed: non-2xx responses plus socket errors (timeouts included).
        ok_rps: 2xx responses per second.
        p50_ms / p99_ms: latency percentiles of the responses received.
    """

    connections: int
    duration_s: float
    ok: int
    failed: int
    ok_rps: float
    p50_ms: float
    p99_ms: float


def figures(sample: LoadSample, connections: int) -> LoadFigures:
    """Reduce a wrk sample to :class:`LoadFigures`."""
    ok = sum(n for status, n in sample.statuses.items() if 200 <= status < 300)
    duration = sample.duration_us / 1e6
    return LoadFigures(
        connections=connections,
        duration_s=duration,
        ok=ok,
        failed=sample.requests - ok + sample.errors.total,
        ok_rps=ok / duration,
        p50_ms=sample.latency_us.p50 / 1000,
        p99_ms=sample.latency_us.p99 / 1000,
    )


def load(
    context: Context, url: str, path: str, connections: int, duration_s: int, timeout_s: int = 10
) -> LoadFigures:
    """Load ``url + path`` with wrk pinned to the load CPUs.

    Args:
        context: the run's context (placement).
        url: the service's base URL.
        path: path and query to GET.
        connections: wrk's connections.
        duration_s: seconds of load.
        timeout_s: a response later than this counts as failed (default 10 s).
    """
    threads = min(len(context.placement.load_cpus), connections)
    spec = LoadSpec(
        url=url,
        path=path,
        script="get",
        connections=connections,
        duration_s=duration_s,
        threads=threads,
        timeout_s=timeout_s,
        cpus=context.placement.load_cpus,
    )
    return figures(run_load(spec), connections)


def expect_ok(method: str, url: str, path: str, timeout_s: float = 120.0) -> bytes:
    """One request without a body that must answer 2xx; its body.

    Raises:
        MeasurementFailed: no answer, or one that is not 2xx.
    """
    try:
        response = http.request(method, f"{url}{path}", timeout_s=timeout_s)
    except OSError as error:
        raise MeasurementFailed(str(error), "check the service's output") from None
    if not response.ok:
        raise MeasurementFailed(
            f"{method} {url}{path} answered {response.status}",
            "check that the service implements the /_lab endpoints (FWBENCH_LAB=1)",
        )
    return response.body


def drain(service: ServiceProcess, path: str = "/healthz") -> float:
    """Wait until ``service`` answers ``path`` again after a load; return the seconds it
    took. Servers keep working off requests wrk left queued, which would otherwise
    slow the next measurement down.

    Raises:
        MeasurementFailed: no answer within :data:`DRAIN_TIMEOUT_S`.
    """
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_TIMEOUT_S:
        try:
            if http.request("GET", f"{service.url}{path}", timeout_s=DRAIN_TIMEOUT_S).ok:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise MeasurementFailed(
        f"{service.name} did not answer {path} within {DRAIN_TIMEOUT_S:.0f} s after a load",
        "check its output; the server may be stuck",
    )


def slots(config: ServerConfig, route: str) -> float:
    """How many requests ``config`` can serve at once on ``route`` (``math.inf`` for an
    event loop awaiting the downstream): the ``slots`` of Little's law."""
    if config.server == "uvicorn" or (config.server == "granian" and config.interface == "asgi"):
        if config.framework == "fastapi" and route.startswith("/_lab/io-sync"):
            return config.workers * (config.threads or ANYIO_THREADS)
        # FastAPI's async routes await on the loop; Django's ASGI handler gives each
        # request its own thread-sensitive context, hence its own thread for sync views.
        return math.inf
    if config.server == "gunicorn-sync":
        return config.workers
    if config.server == "gunicorn-gthread":
        return config.workers * (config.threads or 1)
    if config.server == "gunicorn-gevent":
        return config.workers * (config.connections or 1000)
    # granian WSGI: blocking threads, by default backpressure / 2 per worker.
    threads = config.threads or max(1, GRANIAN_BACKLOG // config.workers // 2)
    return config.workers * threads


# --- memory -------------------------------------------------------------------------------


#: How far one configuration's loaded PSS moves between runs, as a fraction of it. One
#: run's samples barely spread (Django on gunicorn sync, 3 workers: 200-200 MB), yet
#: between runs on one machine the same figure moved: Django on gunicorn sync 197-201 MB
#: (four claims runs, 2026-11-28/29) and 199-202 MB (three quick runs, 2026-11-30), Flask
#: on granian 94-96 MB (2.7%, the widest, same three runs). A threshold a figure clears by
#: less than that range is one the next run may land on the other side of, so each figure
#: is given the widest range seen (3%) either side.
PSS_BETWEEN_RUNS: Final = 0.03


@dataclass(frozen=True)
class MemoryFigures:
    """A service's memory, in MB (10^6 bytes): the whole tree's PSS (its real footprint,
    shared pages divided among the processes mapping them) and RSS, and one serving
    process's PSS, USS (what it alone uses) and RSS; ``workers`` serving processes."""

    total_pss_mb: float
    total_rss_mb: float
    worker_pss_mb: float
    worker_uss_mb: float
    worker_rss_mb: float
    workers: int
    #: The largest whole-tree PSS of any sample: with the steady median, the spread a
    #: memory threshold must clear. None in results recorded before it was kept.
    total_pss_peak_mb: float | None = None

    @property
    def total_pss(self) -> Measured:
        """The whole tree's PSS as a measured figure (:func:`pss_figure`)."""
        return pss_figure(self.total_pss_mb, self.total_pss_peak_mb)


def pss_figure(steady_mb: float, peak_mb: float | None) -> Measured:
    """A service's PSS as a figure a threshold must clear: its steady median, ranging
    :data:`PSS_BETWEEN_RUNS` either side of it, and up to its peak sample when known."""
    floor = steady_mb * PSS_BETWEEN_RUNS
    peak = steady_mb if peak_mb is None else peak_mb
    return Measured(steady_mb, steady_mb - floor, max(peak, steady_mb + floor))


def memory_figures(profile: MemoryProfile) -> MemoryFigures:
    """Reduce a harness memory profile (steady values) to :class:`MemoryFigures`."""
    worker = profile.per_worker
    return MemoryFigures(
        total_pss_mb=profile.steady.pss / _MB,
        total_rss_mb=profile.steady.rss / _MB,
        worker_pss_mb=worker.pss / _MB,
        worker_uss_mb=worker.uss / _MB,
        worker_rss_mb=worker.rss / _MB,
        workers=len(profile.serving) or 1,
        total_pss_peak_mb=profile.peak.pss / _MB,
    )


def sample_memory(context: Context, service: ServiceProcess, seconds: float) -> MemoryFigures:
    """Sample ``service``'s tree for ``seconds`` without load (its memory after import)."""
    with MemorySampler(service, cpus=context.placement.load_cpus, interval_s=0.2) as sampler:
        sampler.steady()
        time.sleep(seconds)
    profile = sampler.profile()
    if profile is None:
        raise MeasurementFailed(
            f"could not read the memory of {service.name}'s processes",
            "check that /proc is readable (psutil memory_full_info)",
        )
    return memory_figures(profile)


# --- io sessions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """The grid of an io session: downstream latencies (ms), wrk connections, seconds per
    run, repeats per point (the median is kept) and warm-up seconds."""

    latencies_ms: tuple[int, ...]
    connections: tuple[int, ...]
    duration_s: int
    repeats: int
    warmup_s: int

    def seconds(self) -> float:
        """Planned load time of one session (start-up and draining excluded)."""
        points = len(self.latencies_ms) * len(self.connections)
        return self.warmup_s + points * self.repeats * self.duration_s + IDLE_SAMPLE_S


#: The sweep every io session measures: short for ``--quick``, the issue's three
#: latencies otherwise.
#: Three repeats even when quick: with one, a verdict cannot tell a difference from noise.
#: One concurrency then, the comparisons' (more than anyio's 40 threads), to stay within
#: the quick run's 10 minutes on 2 cores. Two seconds of warm-up, as the full sweep's.
QUICK_SWEEP: Final = Sweep((10, 50), (64,), duration_s=2, repeats=3, warmup_s=2)
FULL_SWEEP: Final = Sweep((10, 50, 200), (16, 64, 128), duration_s=3, repeats=3, warmup_s=2)

#: The downstream latency and concurrency of the io comparisons (ratios, the article's
#: table): those of ``fwbench run``'s io scenario (its defaults in
#: fwbench.harness.runconfig.build_config), so both commands compare the same point.
IO_LATENCY_MS: Final = 10
IO_CONNECTIONS: Final = 64


class IoSetup(NamedTuple):
    """What an io session loads: ``framework`` on ``server`` serving ``route``, sized by
    the server's documented rule unless ``workers`` / ``threads`` say otherwise."""

    framework: str
    server: str
    route: str = "/io"
    workers: int | None = None
    threads: int | None = None


#: ``(framework, server, route)`` of every supported pair on ``/io``: what the io-ratio and
#: memory experiments measure in a full run.
IO_FULL_SETUPS: Final[tuple[IoSetup, ...]] = tuple(
    IoSetup(framework, server) for framework, server in all_pairs()
)
#: The quick subset: Django's gthread and granian pairs are left out to fit the time budget
#: (Django stays measured on its canonical WSGI server and on ASGI).
IO_QUICK_SETUPS: Final = tuple(
    setup
    for setup in IO_FULL_SETUPS
    if setup[0] != "django" or setup[1] in ("gunicorn-sync", "uvicorn")
)

#: Seconds a session takes besides its load: start-up, idle sampling, draining.
SESSION_OVERHEAD_S: Final = 6.0


def sweep_for(context: Context) -> Sweep:
    """The sweep of this run's mode."""
    return QUICK_SWEEP if context.quick else FULL_SWEEP


@dataclass(frozen=True)
class IoPoint:
    """The median of a point's repeats (by 2xx throughput), and every repeat's 2xx
    throughput (the spread a verdict must clear)."""

    latency_ms: int
    load: LoadFigures
    #: Every repeat's 2xx req/s, sorted (slowest first), not in the order they ran.
    #: Empty in evidence recorded before the repeats were kept (the shipped reference
    #: claims): then only the median is known, and it stands alone.
    repeats_ok_rps: tuple[float, ...] = ()

    @property
    def ok_rps(self) -> Measured:
        """2xx throughput: the median repeat's, ranging over the repeats."""
        repeats = self.repeats_ok_rps or (self.load.ok_rps,)
        return Measured(self.load.ok_rps, min(repeats), max(repeats))


@dataclass(frozen=True)
class IoSession:
    """One io session: the configuration measured and what it gave.

    Attributes:
        framework / server / route: what was loaded (``route`` without its query).
        workers / threads: the server's sizing.
        slots: requests it can serve at once (:func:`slots`), None for unbounded.
        idle: memory after start-up, before any request.
        loaded: memory while loaded (median of the samples under load).
        points: one per (latency, connections), latencies outer.
    """

    framework: str
    server: str
    route: str
    workers: int
    threads: int | None
    slots: float | None
    idle: MemoryFigures
    loaded: MemoryFigures
    points: tuple[IoPoint, ...]

    @property
    def label(self) -> str:
        """e.g. ``flask gunicorn-sync`` or ``fastapi uvicorn /_lab/io-sync``."""
        suffix = "" if self.route == "/io" else f" {self.route}"
        return f"{self.framework} {self.server}{suffix}"

    def plateau(self, latency_ms: int) -> IoPoint:
        """The point of highest 2xx throughput at ``latency_ms``."""
        candidates = [p for p in self.points if p.latency_ms == latency_ms]
        if not candidates:
            raise ValueError(f"{self.label}: nothing measured at {latency_ms} ms")
        return max(candidates, key=lambda p: p.load.ok_rps)

    def at(self, latency_ms: int, connections: int) -> IoPoint:
        """The point at ``latency_ms`` and ``connections``."""
        for point in self.points:
            if (point.latency_ms, point.load.connections) == (latency_ms, connections):
                return point
        raise ValueError(f"{self.label}: nothing measured at {latency_ms} ms, {connections} conns")
