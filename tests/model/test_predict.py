"""Predictions from a model fitted on synthetic points: the laws' answers, validation
against points kept out of the fit, extrapolation warnings and the query syntax."""

from __future__ import annotations

import math

import pytest

from fwbench.model import (
    BadQuery,
    PairModel,
    Query,
    Setup,
    fit_pair,
    median_error,
    parse_query,
    predict,
    validate,
)
from tests.model import synthetic

CPU_MS = {"io": 1.0, "json": 0.5}
SETUP = Setup(framework="flask", server="gunicorn-gthread", workers=3, threads=2, cores=1)


@pytest.fixture(scope="module")
def model() -> PairModel:
    points = synthetic.sweep(SETUP, slots_per_worker=2, cpu_ms=CPU_MS)
    return fit_pair(points, synthetic.memory(SETUP, 20, 50, (2, 3)), None)


def test_slot_bound_throughput_follows_littles_law(model: PairModel) -> None:
    found = predict(model, Query(SETUP.pair, latency_ms=80, connections=64))
    # 6 slots held 80 + 1 + about 1 ms each.
    assert found.throughput_rps == pytest.approx(6 / 0.082, rel=0.02)
    assert found.bound == "slots"
    assert found.warnings == ()


def test_cpu_bound_throughput_follows_the_utilisation_law(model: PairModel) -> None:
    found = predict(model, Query(SETUP.pair, workers=3, threads=64, latency_ms=10, connections=512))
    assert found.throughput_rps == pytest.approx(1000, rel=0.05)  # 1 core / 1 ms
    assert found.bound == "cpu"
    assert found.cpu_utilisation > 0.95


def test_open_loop_rate_below_capacity(model: PairModel) -> None:
    found = predict(model, Query(SETUP.pair, latency_ms=10, rps=200))
    assert found.throughput_rps == 200
    assert found.cpu_utilisation == pytest.approx(0.2)
    assert found.bound == "rate"
    assert not found.overloaded
    assert 10 < found.p50_ms < found.p99_ms < 100


def test_open_loop_beyond_capacity_is_overloaded(model: PairModel) -> None:
    found = predict(model, Query(SETUP.pair, latency_ms=80, rps=400))
    assert found.overloaded
    assert found.throughput_rps == pytest.approx(found.capacity_rps)
    assert math.isinf(found.p99_ms)


def test_memory_is_master_plus_workers(model: PairModel) -> None:
    found = predict(model, Query(SETUP.pair, workers=5, connections=8))
    assert found.memory_idle_mb == pytest.approx(20 + 5 * 50)


def test_every_extrapolation_is_named_with_its_distance(model: PairModel) -> None:
    found = predict(
        model, Query(SETUP.pair, workers=6, threads=16, cores=2, latency_ms=800, rps=100)
    )
    text = "\n".join(found.warnings)
    assert "workers 6 is 2.0x above the measured 3" in text
    assert "threads per worker 16 is 8.0x above the measured 2" in text
    assert "cores 2 is 2.0x above the measured 1: CPU capacity scaled linearly" in text
    assert "latency 800 ms is 4.0x above the measured 10-200 ms" in text


def test_validation_on_unseen_points_is_exact_for_lawful_points(model: PairModel) -> None:
    unseen = [
        synthetic.point(
            SETUP.model_copy(update={"workers": 2, "threads": 4}),
            slots_per_worker=4,
            cpu_ms=CPU_MS,
            overhead_ms=1.0,
            scenario="io",
            latency_ms=80,
            connections=32,
            role="validate",
            why="another worker and thread count",
        ),
        synthetic.point(
            SETUP,
            slots_per_worker=1,  # a point the laws of this model do not produce
            cpu_ms=CPU_MS,
            overhead_ms=1.0,
            scenario="io",
            latency_ms=50,
            connections=64,
            role="validate",
        ),
    ]
    checks = validate([model], unseen)
    assert checks[0].error is not None and abs(checks[0].error) < 0.02
    assert checks[0].flag == ""
    assert checks[1].error == pytest.approx(1.0, rel=0.05)
    assert checks[1].flag.startswith("slot-bound: 3.0 slots were busy here, the model has 6")
    assert median_error(checks) == pytest.approx((abs(checks[0].error) + 1.0) / 2, rel=0.05)


def test_query_syntax() -> None:
    query = parse_query("flask/gunicorn-gthread workers=5 threads=16 cores=2 latency=80ms rps=400")
    assert query == Query(
        "flask/gunicorn-gthread", workers=5, threads=16, cores=2, latency_ms=80, rps=400
    )
    assert parse_query("fastapi/uvicorn+def latency=0.2s connections=64").latency_ms == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "starts with FRAMEWORK/SERVER"),
        ("workers=3", "starts with FRAMEWORK/SERVER"),
        ("flask/gunicorn-sync worker=3", "unknown key 'worker'; did you mean workers?"),
        ("flask/gunicorn-sync workers", "'workers' is not key=value"),
        ("flask/gunicorn-sync workers=2.5", "workers must be a whole number above 0"),
        ("flask/gunicorn-sync rps=nan", "rps must be a number above 0"),
        ("flask/gunicorn-sync latency=fast", "latency=fast is not a duration"),
    ],
)
def test_bad_queries_get_one_sentence(text: str, message: str) -> None:
    with pytest.raises(BadQuery, match=message):
        parse_query(text)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (Query(SETUP.pair, connections=8, rps=10), "either connections=N"),
        (Query(SETUP.pair, scenario="db", connections=8), "has no measured db scenario"),
        (Query(SETUP.pair, scenario="json", latency_ms=5, connections=8), "io scenario only"),
        (Query(SETUP.pair, workers=0, connections=8), "--workers must be at least 1"),
    ],
)
def test_unanswerable_queries_are_refused(model: PairModel, query: Query, message: str) -> None:
    with pytest.raises(BadQuery, match=message):
        predict(model, query)


def test_a_measured_limit_below_the_settings_scales_as_workers_that_took_requests() -> None:
    """Configured 3 x 8 but serving 12 at once: as if 1.5 of the 3 workers took requests
    (gunicorn gthread's kept-alive connections stay with the worker that accepted
    them). Another thread count gives those 1.5 workers' threads; fewer workers than
    that are all busy."""
    setup = SETUP.model_copy(update={"threads": 8})
    points = synthetic.sweep(setup, slots_per_worker=4, cpu_ms=CPU_MS)
    hidden = fit_pair(points, synthetic.memory(setup, 20, 50, (3,)), None)
    assert "served as if 1.5 of 3 workers took requests" in hidden.slots.note
    assert predict(hidden, Query(SETUP.pair, threads=16, connections=64)).slots == pytest.approx(
        24, rel=0.01
    )
    assert predict(hidden, Query(SETUP.pair, workers=1, threads=8, connections=64)).slots == 8
