"""``advise --verify`` on a real server: one instance of a plan, open-loop load at its
planned rate for a few seconds, and the verification in the advice document."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # dev dependency without stubs
import pytest

from fwbench.advice import Profile, advise, render_text, to_json
from fwbench.advice.verify import verify
from fwbench.model import ModelDocument


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_plan_is_verified_at_its_planned_rate_with_open_loop_load(
    model: ModelDocument,
) -> None:
    # 30 req/s at 20 ms downstream: one instance of FastAPI on uvicorn (1 worker) by the
    # fixture model; the real service serves far more, so the plan must hold here.
    profile = Profile(peak_rps=30, downstream_ms=20, p99_target_ms=1000, team_debugs_async=True)
    advice = advise(profile, None, model)
    plan = advice.recommendation.plan
    assert plan is not None and plan.setup.pair == "fastapi/uvicorn" and plan.instances == 1
    pair = model.pair(plan.setup.pair)
    assert pair is not None
    found = verify(plan, pair, profile, seconds=4, warmup_s=1)
    assert found.target_rps == pytest.approx(30)
    # Open loop: the rate is the schedule's, whatever the latency.
    assert found.achieved_rps == pytest.approx(30, rel=0.1)
    assert found.errors == 0
    assert found.late_sends == 0
    # Every request waited 20 ms downstream.
    assert 20 <= found.p50_ms <= found.p99_ms < 1000
    assert found.held, found.verdict
    assert found.verdict.startswith("The plan held: ")
    text = render_text(advice, "notice", verification=found)
    assert "Verification (--verify)" in text
    document = to_json(advice, "notice", "model notice", found)
    schema: dict[str, Any] = json.loads(
        resources.files("fwbench.advice").joinpath("advice.schema.json").read_text()
    )
    jsonschema.validate(json.loads(json.dumps(document)), schema)
    assert document["verification"]["held"] is True
    assert document["verification"]["target_rps"] == pytest.approx(30)
