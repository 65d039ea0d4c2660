"""The configuration search on a model with known answers (``tests/advice/models.py``):
one profile of each kind the decision is hard for, each asserting the configuration
chosen and the arithmetic shown."""

from __future__ import annotations

import math

import pytest

from fwbench.advice import Profile, advise, render_text
from fwbench.advice.profile import Deployment, Workload
from fwbench.advice.search import HEADROOM, Plan, search
from fwbench.model import ModelDocument
from tests.advice.models import OVERHEAD_MS, VALIDATION_NOISE


def _arithmetic_holds(plan: Plan, profile: Profile) -> None:
    """The numbers a plan prints follow from each other as its text says."""
    assert plan.in_flight == pytest.approx(
        profile.peak_rps * (plan.latency_ms + OVERHEAD_MS + plan.cpu_ms) / 1000, rel=0.01
    )
    assert plan.instances == math.ceil(profile.peak_rps / (plan.capacity_rps * HEADROOM))
    assert plan.instance_rps == pytest.approx(profile.peak_rps / plan.instances)
    assert plan.processes == plan.instances * plan.setup.workers
    assert plan.total_memory_mb == pytest.approx(plan.instances * plan.instance_memory_mb)
    assert plan.instance_memory_mb == pytest.approx(
        plan.master_mb + plan.setup.workers * plan.worker_mb
    )
    assert plan.planned.cpu_utilisation == pytest.approx(
        plan.instance_rps * plan.cpu_ms / 1000 / plan.usable_cores, rel=0.01
    )
    assert plan.band.throughput == pytest.approx(VALIDATION_NOISE, rel=0.2)


def test_team_without_async_at_a_slow_downstream_gets_def_routes_with_a_raised_limiter(
    model: ModelDocument,
) -> None:
    profile = Profile(team_debugs_async=False, downstream_ms=200, peak_rps=400)
    advice = advise(profile, None, model)
    found = advice.search
    assert found is not None
    plan = found.best["fastapi"]
    # 400 req/s x (200 + 1 + 1.5 ms) = 81 in flight: anyio's 40 tokens would need 3
    # instances; 128 (the first power of two whose capacity at 70% carries 400 req/s)
    # serve them on one.
    assert plan.setup.pair == "fastapi/uvicorn+def"
    assert (plan.setup.workers, plan.setup.threads) == (1, 128)
    assert not plan.async_code
    assert plan.in_flight == pytest.approx(81.0, rel=0.01)
    assert plan.slots == 128
    assert plan.instances == 1
    _arithmetic_holds(plan, profile)
    alternative = found.async_alternative
    assert alternative is not None and alternative.async_code
    assert alternative.setup.pair == "fastapi/uvicorn"
    text = render_text(advice, "notice")
    assert "Your team cannot debug async/await, so FastAPI is planned without async code" in text
    # 70 MB (5 + 65) against the async option's 68 MB (5 + 63).
    assert "it costs +0 cores, +2 MB in total" in text
    assert "Slots per instance: 1 x 128 = 128" in text
    assert "Requests in flight at the peak: 400 req/s x 202.5 ms" in text


def test_cpu_bound_work_is_judged_on_cpu_cost_and_uses_every_core(model: ModelDocument) -> None:
    profile = Profile(
        workload=Workload.CPU,
        downstream_ms=0,
        peak_rps=3000,
        cores_per_instance=2,
        team_debugs_async=True,
    )
    found = search(model, profile)
    for plan in found.best.values():
        assert plan.scenario == "json"
        assert plan.usable_cores == 2 and plan.setup.workers >= 2
        _arithmetic_holds(plan, profile)
    fastapi = found.best["fastapi"]
    # 2 cores / 0.5 ms = 4,000 req/s per instance: ceil(3000 / 2800) = 2 instances.
    assert (fastapi.setup.pair, fastapi.setup.workers) == ("fastapi/uvicorn", 2)
    assert fastapi.capacity_rps == pytest.approx(4000, rel=0.01)
    assert fastapi.capacity.bound == "cpu"
    assert fastapi.instances == 2
    # The I/O ratio rules do not apply to CPU-bound work.
    fired = {item.rule.id for item in advise(profile, None, model).fired}
    assert "fastapi-3x-io" not in fired


def test_when_nothing_fits_the_headline_names_the_closest_option_and_its_miss(
    model: ModelDocument,
) -> None:
    profile = Profile(memory_budget_mb=50, team_debugs_async=True)
    advice = advise(profile, None, model)
    found = advice.search
    assert found is not None and found.nothing_fits
    closest = found.closest
    assert closest is not None
    # One uvicorn worker: 5 + 63 = 68 MB, 36% over 50 MB (Flask 73, Django 108 MB).
    assert closest.setup.pair == "fastapi/uvicorn" and closest.setup.workers == 1
    assert [(m.what, round(m.value)) for m in closest.misses] == [("memory", 68)]
    text = render_text(advice, "notice")
    assert (
        "Nothing fits your budgets. The closest option, FastAPI on uvicorn, async def routes, "
        "1 worker, misses: memory 68 MB against a 50 MB budget (36% over)."
    ) in " ".join(text.split())


def test_a_latency_far_outside_the_measured_range_is_planned_with_a_warning(
    model: ModelDocument,
) -> None:
    profile = Profile(downstream_ms=2000, peak_rps=100, p99_target_ms=5000)
    advice = advise(profile, None, model)
    found = advice.search
    assert found is not None
    flask = found.best["flask"]
    # 100 x 2,002.4 ms = 200 in flight: 287 threads keep them at 70% of the slots.
    assert flask.setup.pair == "flask/gunicorn-gthread"
    assert flask.setup.threads == math.ceil(flask.in_flight / HEADROOM)
    assert "latency 2000 ms is 10.0x above the measured 10-200 ms" in flask.warnings
    _arithmetic_holds(flask, profile)
    assert "Extrapolates: latency 2000 ms is 10.0x above the measured 10-200 ms." in render_text(
        advice, "notice", width=200
    )


def test_serverless_is_planned_per_function_instance(model: ModelDocument) -> None:
    profile = Profile(
        deployment=Deployment.SERVERLESS, peak_rps=100, downstream_ms=50, function_concurrency=1
    )
    found = search(model, profile)
    for plan in found.best.values():
        assert plan.serverless and plan.setup.workers == 1 and plan.slots == 1
        # One request at a time: 1 / (50 + 1 + D ms) per function instance.
        assert plan.capacity_rps == pytest.approx(1000 / plan.unloaded_ms, rel=0.01)
        _arithmetic_holds(plan, profile)
    flask = found.best["flask"]
    assert flask.setup.pair == "flask/gunicorn-sync"
    assert flask.instances == math.ceil(100 / (1000 / 52.2 * HEADROOM))  # 8
    assert "per function instance, concurrency 1" in flask.describe()
    django = found.best["django"]
    assert [m.what for m in django.misses] == ["cold start"]  # 1,100 ms against 1,000


def test_very_high_load_on_a_small_memory_budget_uses_many_small_instances(
    model: ModelDocument,
) -> None:
    profile = Profile(peak_rps=5000, memory_budget_mb=120, downstream_ms=50, team_debugs_async=True)
    found = search(model, profile)
    assert not found.nothing_fits
    for plan in found.best.values():
        assert plan.fits and plan.instance_memory_mb <= 120
        _arithmetic_holds(plan, profile)
    flask = found.best["flask"]
    # Two gthread workers would take 30 + 2 x 48 = 126 MB: one fits.
    assert (flask.setup.pair, flask.setup.workers) == ("flask/gunicorn-gthread", 1)
    fastapi = found.best["fastapi"]
    # 1 core / 1 ms = 1,000 req/s per instance: ceil(5000 / 700) = 8 instances.
    assert fastapi.instances == 8
    assert fastapi.total_memory_mb == pytest.approx(8 * 68)
