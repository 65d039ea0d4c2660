"""Fitting on synthetic points made from known slots, CPU costs and memory: the fit must
give them back."""

from __future__ import annotations

import math

import pytest

from fwbench.model import Setup, fit_pair
from tests.model import synthetic

CPU_MS = {"io": 1.2, "json": 0.4, "db": 1.5, "transactions": 3.0}


def _setup(server: str = "gunicorn-gthread", workers: int = 3, threads: int | None = 2) -> Setup:
    return Setup(framework="flask", server=server, workers=workers, threads=threads, cores=1)


@pytest.mark.parametrize("noise", [(0.0,), (0.04, -0.03, 0.02, -0.04, 0.03)])
def test_slots_and_cpu_cost_are_recovered(noise: tuple[float, ...]) -> None:
    setup = _setup()
    points = synthetic.sweep(setup, slots_per_worker=2, cpu_ms=CPU_MS, noise=noise)
    model = fit_pair(points, synthetic.memory(setup, 20, 50, (2, 3)), None)
    assert model.slots.configured == 2
    assert model.slots.measured == pytest.approx(2, rel=0.1)
    assert model.slots.agree
    for scenario, cost in CPU_MS.items():
        # The CPU cost comes from the CPU counters, which noise on the rate scales alike.
        assert model.cpu_ms[scenario] == pytest.approx(cost, rel=0.01)
    assert model.overhead_ms == pytest.approx(1.0, abs=0.5)


def test_a_hidden_limit_below_the_settings_is_measured_and_reported() -> None:
    # gunicorn gthread configured 3 x 8 but serving 3 x 4: the fit must see 4.
    setup = _setup(threads=8)
    points = synthetic.sweep(setup, slots_per_worker=4, cpu_ms=CPU_MS)
    model = fit_pair(points, synthetic.memory(setup, 20, 50, (3,)), None)
    assert model.slots.configured == 8
    assert model.slots.measured == pytest.approx(4, rel=0.1)
    assert not model.slots.agree
    assert "50% of configured" in model.slots.note


def test_an_event_loop_never_reaches_a_slot_limit() -> None:
    setup = _setup(server="uvicorn", workers=1, threads=None).model_copy(
        update={"framework": "fastapi"}
    )
    points = synthetic.sweep(setup, slots_per_worker=math.inf, cpu_ms=CPU_MS)
    model = fit_pair(points, synthetic.memory(setup, 0, 80, (1,)), None)
    assert model.slots.configured is None
    assert model.slots.measured is None
    assert model.slots.agree
    assert model.slots.at_least > 10
    assert "not reached" in model.slots.note


def test_memory_master_and_per_worker_from_two_worker_counts() -> None:
    setup = _setup()
    points = synthetic.sweep(setup, slots_per_worker=2, cpu_ms=CPU_MS)
    memory = fit_pair(points, synthetic.memory(setup, 20, 50, (2, 3)), None).memory
    assert memory.master_idle_mb == pytest.approx(20)
    assert memory.per_worker_idle_mb == pytest.approx(50)
    assert memory.master_loaded_mb == pytest.approx(25)
    assert memory.per_worker_loaded_mb == pytest.approx(53)
    assert memory.workers_measured == (2, 3)


def test_latency_growth_with_queueing_is_recovered() -> None:
    setup = _setup()
    points = synthetic.sweep(setup, slots_per_worker=2, cpu_ms=CPU_MS)
    latency = fit_pair(points, synthetic.memory(setup, 20, 50, (3,)), None).latency
    assert latency.p50_growth == pytest.approx(synthetic.P50_GROWTH, rel=0.05)
    assert latency.p99_growth == pytest.approx(synthetic.P99_GROWTH, rel=0.05)
    # The intercept is read seconds of queueing away, through whole request counts.
    assert latency.p99_light_ms == pytest.approx(synthetic.P99_LIGHT, abs=2)


def test_points_of_two_setups_are_refused() -> None:
    points = [
        *synthetic.sweep(_setup(), slots_per_worker=2, cpu_ms=CPU_MS),
        *synthetic.sweep(_setup(workers=2), slots_per_worker=2, cpu_ms=CPU_MS),
    ]
    with pytest.raises(ValueError, match="one setup"):
        fit_pair(points, synthetic.memory(_setup(), 20, 50, (3,)), None)


def test_cpu_share_is_what_other_processes_left_at_saturation() -> None:
    setup = _setup(server="uvicorn", workers=1, threads=None).model_copy(
        update={"framework": "fastapi"}
    )
    points = synthetic.sweep(setup, slots_per_worker=math.inf, cpu_ms=CPU_MS)
    # Another process took 40% of the core while the saturated points ran: they got 60%.
    busy = [
        p.model_copy(
            update={"cpu_s": p.cpu_s * 0.6 / p.cpu_utilisation, "others_cpu_s": 0.4 * p.window_s}
        )
        if p.scenario != "io"
        else p
        for p in points
    ]
    model = fit_pair(busy, synthetic.memory(setup, 0, 80, (1,)), None)
    assert model.cpu_share == pytest.approx(0.6)
    alone = fit_pair(points, synthetic.memory(setup, 0, 80, (1,)), None)
    assert alone.cpu_share == 1
