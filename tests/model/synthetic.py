"""Points generated from known slots, CPU costs and round trip by the model's own laws,
so a fit must give those numbers back."""

from __future__ import annotations

from collections.abc import Sequence

from fwbench.harness.scenarios import SCENARIOS
from fwbench.model import MemoryPoint, Point, Setup
from fwbench.model._laws import closed_loop_throughput, round_trip

DURATION_S = 5.0
P50_LIGHT, P50_GROWTH = 0.5, 0.7
P99_LIGHT, P99_GROWTH = 2.0, 3.0


def point(
    setup: Setup,
    *,
    slots_per_worker: float,
    cpu_ms: dict[str, float],
    overhead_ms: float,
    scenario: str,
    latency_ms: float,
    connections: int,
    role: str = "fit",
    why: str = "",
    noise: float = 0.0,
) -> Point:
    """One closed-loop point as the laws say it would be measured, its throughput off by
    ``noise`` (a fraction)."""
    cpu_s = cpu_ms[scenario] / 1000
    slots = slots_per_worker * setup.workers
    overhead_ms = round_trip(SCENARIOS[scenario].needs_downstream, overhead_ms)
    rate = closed_loop_throughput(
        connections=connections,
        slots=slots,
        latency_s=latency_ms / 1000,
        overhead_s=overhead_ms / 1000,
        cpu_s=cpu_s,
        cores=setup.cores,
    ) * (1 + noise)
    mean = connections / rate * 1000
    base = latency_ms + overhead_ms + cpu_ms[scenario]
    requests = round(rate * DURATION_S)
    return Point(
        setup=setup,
        scenario=scenario,
        latency_ms=latency_ms,
        connections=connections,
        duration_s=DURATION_S,
        ok=requests,
        failed=0,
        rps=requests / DURATION_S,
        mean_ms=mean,
        # A known latency law, Q the mean queueing delay: p50 = base + 0.5 + 0.7 Q,
        # p99 = base + 2 + 3 Q.
        p50_ms=base + P50_LIGHT + P50_GROWTH * (mean - base),
        p99_ms=base + P99_LIGHT + P99_GROWTH * (mean - base),
        window_s=DURATION_S,
        cpu_s=requests * cpu_s,
        role="fit" if role == "fit" else "validate",
        why=why,
    )


def sweep(
    setup: Setup,
    *,
    slots_per_worker: float,
    cpu_ms: dict[str, float],
    overhead_ms: float = 1.0,
    noise: Sequence[float] = (0.0,),
) -> list[Point]:
    """The io grid and saturated scenarios ``fwbench model`` fits on."""
    grid = [("io", 10, 2), ("io", 10, 64), ("io", 50, 64), ("io", 200, 128)]
    grid += [(name, 0, 64) for name in cpu_ms if name != "io"]
    return [
        point(
            setup,
            slots_per_worker=slots_per_worker,
            cpu_ms=cpu_ms,
            overhead_ms=overhead_ms,
            scenario=scenario,
            latency_ms=latency,
            connections=connections,
            noise=noise[index % len(noise)],
        )
        for index, (scenario, latency, connections) in enumerate(grid)
    ]


def memory(
    setup: Setup, master_mb: float, worker_mb: float, workers: Sequence[int]
) -> list[MemoryPoint]:
    """Memory points of ``setup`` at each worker count: master + worker x workers."""
    return [
        MemoryPoint(
            setup=setup.model_copy(update={"workers": count}),
            idle_mb=master_mb + worker_mb * count,
            idle_worker_mb=worker_mb,
            loaded_mb=master_mb + 5 + (worker_mb + 3) * count,
            loaded_worker_mb=worker_mb + 3,
        )
        for count in workers
    ]
