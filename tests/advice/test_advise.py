"""The recommendation: the article's decision tree, its case study, realistic profiles,
and the cases where measurements (the model's plans) change the answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fwbench.advice import Profile, advise, load_profile
from fwbench.advice.engine import Status
from fwbench.advice.evidence import Evidence, evidence_from_results
from fwbench.advice.profile import Deadline, Deployment, Workload
from fwbench.advice.rules import Criterion
from fwbench.model import ModelDocument
from tests.advice.builders import build_results, claims_section
from tests.advice.conftest import EXAMPLES
from tests.advice.models import PAIRS, model_document

# The article's decision tree, one profile per branch (section 1, and the case study).
FASTAPI_BRANCH = Profile(
    needs_openapi=True,
    workload=Workload.IO,
    team_size=4,
    team_debugs_async=True,
    observability=frozenset({"metrics", "logging"}),
)
DJANGO_CASE_STUDY = Profile(
    needs_admin=True, audit=True, deadline=Deadline.TIGHT, needs_auth=True, needs_orm=True
)
FLASK_BRANCH = Profile(
    known_frameworks=frozenset({"flask"}), legacy_plugins=True, needs_openapi=False, team_size=8
)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [(FASTAPI_BRANCH, "fastapi"), (DJANGO_CASE_STUDY, "django"), (FLASK_BRANCH, "flask")],
)
def test_decision_tree_gives_the_articles_answer_without_measurements(
    profile: Profile, expected: str
) -> None:
    advice = advise(profile, None)
    assert advice.recommendation.framework == expected
    assert advice.recommendation.plan is None
    assert "not measured" in advice.recommendation.configuration
    assert all(item.status is Status.APPLIED for item in advice.fired)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [(FASTAPI_BRANCH, "fastapi"), (DJANGO_CASE_STUDY, "django"), (FLASK_BRANCH, "flask")],
)
def test_decision_tree_holds_when_measurements_do_not_contradict_it(
    profile: Profile, expected: str, evidence: Evidence, model: ModelDocument
) -> None:
    advice = advise(profile, evidence, model)
    assert advice.recommendation.framework == expected
    assert advice.article_choice == expected
    assert not advice.changed_by_measurements
    assert advice.recommendation.plan is not None
    assert advice.recommendation.plan.fits


def test_case_study_rule_fires_with_its_quote(evidence: Evidence, model: ModelDocument) -> None:
    advice = advise(DJANGO_CASE_STUDY, evidence, model)
    fired = {item.rule.id: item for item in advice.fired}
    assert "django-case-study" in fired
    assert "Delivered in 2 weeks instead of 6" in fired["django-case-study"].rule.quote
    assert advice.recommendation.points[Criterion.DELIVERY] == 4  # case study 3 + admin 1


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("fintech-case-study.toml", "django"),
        ("api-aggregator.yaml", "fastapi"),
        ("legacy-flask.toml", "flask"),
        ("cpu-report-renderer.toml", "flask"),
        ("slow-partner-api.toml", "fastapi"),
    ],
)
def test_realistic_profiles_get_a_recommendation_and_a_capacity_plan(
    example: str, expected: str, evidence: Evidence, model: ModelDocument
) -> None:
    profile = load_profile(EXAMPLES / example)
    advice = advise(profile, evidence, model)
    assert advice.recommendation.framework == expected
    plan = advice.recommendation.plan
    assert plan is not None and plan.instances >= 1 and plan.fits
    assert profile.team_debugs_async or not plan.async_code
    assert advice.recommendation.risks


def test_measurements_change_the_answer_when_they_overrule_the_cold_start_claim(
    evidence: Evidence, model: ModelDocument
) -> None:
    # Django experts, serverless with a 1.5 s cold-start budget: the article rules Django
    # out; the fastest measured Django cold start (gunicorn sync, 1,100 ms) fits.
    profile = load_profile(EXAMPLES / "serverless-catalogue.toml")
    advice = advise(profile, evidence, model)
    assert advice.article_choice == "fastapi"
    assert advice.recommendation.framework == "django"
    assert advice.changed_by_measurements
    overruled = {item.rule.id: item for item in advice.overruled}
    assert "django-cold-start" in overruled
    assert "1,100 ms" in overruled["django-cold-start"].detail
    assert "1,500 ms budget" in overruled["django-cold-start"].detail


def test_measured_cold_start_over_budget_confirms_the_article(evidence: Evidence) -> None:
    slow = tuple(
        replace(pair, cold_start_ms=2400.0) if pair.framework == "django" else pair
        for pair in PAIRS
    )
    advice = advise(
        load_profile(EXAMPLES / "serverless-catalogue.toml"), evidence, model_document(slow)
    )
    fired = {item.rule.id: item for item in advice.fired}
    assert fired["django-cold-start"].status is Status.CONFIRMED
    assert advice.recommendation.framework == "fastapi"
    assert not advice.changed_by_measurements


def test_a_measured_rule_counts_its_points_only_without_measurements(
    model: ModelDocument,
) -> None:
    profile = Profile(workload=Workload.IO)
    without = {item.rule.id: item for item in advise(profile, None).fired}
    measured = {item.rule.id: item for item in advise(profile, None, model).fired}
    assert without["fastapi-3x-io"].counted_points == 1
    # At 50 ms on 1 core: FastAPI's event loop is CPU-bound at 1 core / 1 ms = 1,000
    # req/s; Flask's best (gthread) at 1 core / 1.4 ms = 714, less the slots' queueing.
    assert measured["fastapi-3x-io"].status is Status.OVERRULED
    assert measured["fastapi-3x-io"].counted_points == 0
    assert "FastAPI 1,000 (uvicorn, async def routes, 1 worker)" in measured["fastapi-3x-io"].detail


def test_memory_budget_too_small_for_a_framework_costs_it_points(model: ModelDocument) -> None:
    advice = advise(Profile(memory_budget_mb=90), None, model)
    django = next(o for o in advice.options if o.framework == "django")
    # Django's smallest instance: 35 MB (master) + 73 MB (one worker) under load > 90 MB.
    assert django.plan is not None
    assert django.plan.instance_memory_mb == pytest.approx(108)
    assert django.points[Criterion.FOOTPRINT] == -3
    assert advice.recommendation.framework == "fastapi"
    fired = {item.rule.id: item for item in advice.fired}
    assert fired["django-memory"].status is Status.CONFIRMED


def test_risks_quote_the_claims_verdict_when_measured() -> None:
    results = build_results().with_section("claims", claims_section())
    advice = advise(FASTAPI_BRANCH, evidence_from_results(results, "claims.json"))
    risk = next(r for r in advice.recommendation.risks if r.spec.title.startswith("A blocking"))
    assert risk.evidence is not None
    assert risk.evidence.experiment == "blocking"
    assert risk.evidence.outcome == "depends on configuration"


def test_serverless_profiles_judge_every_cold_start(model: ModelDocument) -> None:
    profile = Profile(deployment=Deployment.SERVERLESS, cold_start_budget_ms=600)
    advice = advise(profile, None, model)
    misses = {
        option.framework: [m.what for m in option.plan.misses]
        for option in advice.options
        if option.plan
    }
    # Cold starts: FastAPI 950, Flask 520 (sync), Django 1,100 ms.
    assert misses == {"fastapi": ["cold start"], "flask": [], "django": ["cold start"]}
