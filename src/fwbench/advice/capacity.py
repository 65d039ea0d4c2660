"""The capacity plan: what a measured server setup needs to carry the user's peak.

An *instance* is the setup as measured (same cores, same workers). Its throughput at the
user's downstream latency follows Little's law: a server with ``S`` concurrent slots
(workers x threads) whose requests each wait ``L`` seconds downstream serves at most
``S / L`` requests per second. It can never serve more than the plateau measured on this
machine either (the CPU, the GIL or the server caps it there), so an instance's capacity
is the lower of the two. Everything below is arithmetic on measured numbers; every
assumption is a named constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fwbench.advice.evidence import LoadPoint, SetupEvidence
from fwbench.advice.profile import Deployment, Profile, Workload

#: Plan each instance at 70% of its capacity: queueing delay, and so p99, grows sharply
#: as utilisation approaches 100% (M/M/c queues), and a peak is never perfectly spread.
HEADROOM = 0.7


@dataclass(frozen=True)
class CapacityPlan:
    """The plan for one setup.

    Attributes:
        setup: the measured setup an instance replicates.
        basis: which measurement the plan reads, in words.
        plateau_rps: best measured throughput of that sweep (requests/s).
        measured_latency_ms: downstream latency during that sweep (0 for CPU-bound).
        slots: concurrent requests one instance serves (``inf``: event loop).
        slots_estimated: True when ``slots`` was inferred from the plateau by Little's law
            because the server's thread count was its unrecorded default.
        instance_rps: what one instance serves at the user's downstream latency.
        limited_by: why ``instance_rps`` is what it is, with the arithmetic.
        workers: workers per instance (fewer than measured when memory forces it).
        instances: instances for the peak at :data:`HEADROOM`, or None when one worker
            does not fit the memory budget.
        instance_memory_mb: memory of one instance, or None when not measured.
        expected_p99_ms: user's downstream latency plus the measured p99 overhead at a
            similar utilisation, or None when not measured.
        cold_start_ms: measured median cold start, or None.
        notes: caveats the reader must see.
    """

    setup: SetupEvidence
    basis: str
    plateau_rps: float
    measured_latency_ms: float
    slots: float
    slots_estimated: bool
    instance_rps: float
    limited_by: str
    workers: int
    instances: int | None
    instance_memory_mb: float | None
    expected_p99_ms: float | None
    cold_start_ms: float | None
    notes: tuple[str, ...]

    @property
    def processes(self) -> int | None:
        """Worker processes across all instances."""
        return None if self.instances is None else self.instances * self.workers

    @property
    def total_memory_mb(self) -> float | None:
        """Memory across all instances."""
        if self.instances is None or self.instance_memory_mb is None:
            return None
        return self.instances * self.instance_memory_mb

    def fits_memory(self, profile: Profile) -> bool | None:
        """True when an instance fits the memory budget; None when memory was not measured."""
        if self.instances is None:
            return False
        if self.instance_memory_mb is None:
            return None
        return self.instance_memory_mb <= profile.memory_budget_mb

    def meets_p99(self, profile: Profile) -> bool | None:
        """True when the expected p99 is within the target; None when unknown."""
        if self.expected_p99_ms is None:
            return None
        return self.expected_p99_ms <= profile.p99_target_ms

    def fits_cold_start(self, profile: Profile) -> bool | None:
        """For serverless deployments, True when the measured cold start is within the
        budget; None for other deployments or when cold start was not measured."""
        if profile.deployment is not Deployment.SERVERLESS or self.cold_start_ms is None:
            return None
        return self.cold_start_ms <= profile.cold_start_budget_ms


def _sweep(setup: SetupEvidence, profile: Profile) -> tuple[str, float, tuple[LoadPoint, ...]]:
    """The sweep that matches the workload: ``json`` for CPU-bound work, else the ``/io``
    sweep whose downstream latency is closest to the user's."""
    if profile.workload is Workload.CPU or not setup.io:
        return "json (framework overhead, no I/O)", 0.0, setup.cpu
    latency = min(setup.io, key=lambda ms: (abs(ms - profile.downstream_ms), ms))
    return f"/io with {latency:g} ms downstream", latency, setup.io[latency]


def plan_capacity(setup: SetupEvidence, profile: Profile) -> CapacityPlan | None:
    """Plan ``profile``'s peak on ``setup``; None when the setup has no usable sweep."""
    basis, measured_ms, points = _sweep(setup, profile)
    if not points:
        return None
    notes: list[str] = []
    plateau = max(point.rps for point in points)
    user_ms = 0.0 if profile.workload is Workload.CPU else profile.downstream_ms

    per_worker = setup.slots_per_worker
    slots_estimated = per_worker is None
    if per_worker is None:
        # Unrecorded thread default: Little's law on the plateau gives the concurrency the
        # setup sustained, a lower bound of its slots.
        slots = plateau * measured_ms / 1000.0 if measured_ms > 0 else math.inf
        notes.append(
            f"slots estimated from the measured plateau by Little's law ({slots:,.0f}): "
            "the server's thread default is not recorded"
        )
    else:
        slots = setup.workers * per_worker

    workers = setup.workers
    memory = setup.memory_total_mb
    if memory is not None and memory > profile.memory_budget_mb:
        workers, memory = _fit_workers(setup, profile.memory_budget_mb)
        if workers == 0:
            notes.append(
                f"one worker does not fit {profile.memory_budget_mb:,.0f} MB "
                f"(measured {setup.memory_total_mb:,.0f} MB for {setup.workers} workers)"
            )
            return CapacityPlan(
                setup, basis, plateau, measured_ms, slots, slots_estimated, 0.0,
                "the memory budget", 0, None, None, None, setup.cold_start_ms, tuple(notes),
            )  # fmt: skip
        notes.append(
            f"{workers} of the {setup.workers} measured workers fit the "
            f"{profile.memory_budget_mb:,.0f} MB budget; capacity scaled to {workers}/"
            f"{setup.workers}"
        )
    scale = workers / setup.workers
    slots *= scale
    cpu_cap = plateau * scale
    slot_cap = slots / (user_ms / 1000.0) if user_ms > 0 and math.isfinite(slots) else math.inf
    if slot_cap < cpu_cap:
        instance_rps = slot_cap
        limited_by = (
            f"its slots (Little's law: {slots:,.0f} slots / {user_ms:g} ms = {slot_cap:,.0f} req/s)"
        )
    else:
        instance_rps = cpu_cap
        limited_by = f"the measured plateau of {cpu_cap:,.0f} req/s"
        if user_ms < measured_ms:
            notes.append(
                f"capped at the plateau measured at {measured_ms:g} ms: a shorter downstream "
                "latency was not measured"
            )
    instances = max(1, math.ceil(profile.peak_rps / (instance_rps * HEADROOM)))
    utilisation = profile.peak_rps / (instances * instance_rps)
    return CapacityPlan(
        setup=setup,
        basis=basis,
        plateau_rps=plateau,
        measured_latency_ms=measured_ms,
        slots=slots,
        slots_estimated=slots_estimated,
        instance_rps=instance_rps,
        limited_by=limited_by,
        workers=workers,
        instances=instances,
        instance_memory_mb=memory,
        expected_p99_ms=_expected_p99(points, plateau, measured_ms, user_ms, utilisation),
        cold_start_ms=setup.cold_start_ms,
        notes=tuple(notes),
    )


def _fit_workers(setup: SetupEvidence, budget_mb: float) -> tuple[int, float]:
    """Workers (and the memory they take) that fit ``budget_mb``: the master's memory
    plus whole workers, as measured."""
    master, worker = setup.memory_master_mb, setup.memory_worker_mb
    if master is None or worker is None or worker <= 0:
        return 0, 0.0
    workers = min(setup.workers, max(0, math.floor((budget_mb - master) / worker)))
    return workers, master + workers * worker


def _expected_p99(
    points: tuple[LoadPoint, ...],
    plateau: float,
    measured_ms: float,
    user_ms: float,
    utilisation: float,
) -> float:
    """The user's downstream latency plus the p99 overhead (p99 minus the downstream
    latency) measured at the sweep point whose load is closest to the planned
    utilisation (throughput / plateau)."""
    point = min(points, key=lambda p: (abs(p.rps / plateau - utilisation), p.concurrency))
    return user_ms + max(point.p99_ms - measured_ms, 0.0)
