"""The recommendation: the article's decision tree, its case study, realistic profiles,
the capacity plan, and the cases where measurements change the answer."""

from __future__ import annotations

import pytest

from fwbench.advice import Profile, advise, load_profile
from fwbench.advice.capacity import plan_capacity
from fwbench.advice.engine import Status
from fwbench.advice.evidence import Evidence, evidence_from_results
from fwbench.advice.profile import Deadline, Deployment, Workload
from fwbench.advice.rules import Criterion
from tests.advice.builders import SETUPS, build_results, claims_section, with_cold_start
from tests.advice.conftest import EXAMPLES

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
    profile: Profile, expected: str, evidence: Evidence
) -> None:
    advice = advise(profile, evidence)
    assert advice.recommendation.framework == expected
    assert advice.article_choice == expected
    assert not advice.changed_by_measurements
    assert advice.recommendation.plan is not None
    assert advice.recommendation.plan.instances is not None


def test_case_study_rule_fires_with_its_quote(evidence: Evidence) -> None:
    advice = advise(DJANGO_CASE_STUDY, evidence)
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
    ],
)
def test_realistic_profiles_get_a_recommendation_and_a_capacity_plan(
    example: str, expected: str, evidence: Evidence
) -> None:
    profile = load_profile(EXAMPLES / example)
    advice = advise(profile, evidence)
    assert advice.recommendation.framework == expected
    plan = advice.recommendation.plan
    assert plan is not None and plan.instances is not None and plan.instances >= 1
    assert plan.expected_p99_ms is not None and plan.total_memory_mb is not None
    assert advice.recommendation.risks


def test_measurements_change_the_answer_when_they_overrule_the_cold_start_claim(
    evidence: Evidence,
) -> None:
    # Django experts, serverless with a 1.5 s cold-start budget: the article rules Django
    # out; the fastest measured Django cold start (granian, 1,000 ms) fits the budget.
    profile = load_profile(EXAMPLES / "serverless-catalogue.toml")
    advice = advise(profile, evidence)
    assert advice.article_choice == "fastapi"
    assert advice.recommendation.framework == "django"
    assert advice.changed_by_measurements
    overruled = {item.rule.id: item for item in advice.overruled}
    assert "django-cold-start" in overruled
    assert "1,000 ms" in overruled["django-cold-start"].detail
    assert "1,500 ms budget" in overruled["django-cold-start"].detail


def test_measured_cold_start_over_budget_confirms_the_article() -> None:
    slow = {}
    for pair in SETUPS:
        if pair[0] == "django":
            slow.update(with_cold_start(pair, 2400.0))
    evidence = evidence_from_results(build_results(overrides=slow), "slow-django.json")
    advice = advise(load_profile(EXAMPLES / "serverless-catalogue.toml"), evidence)
    fired = {item.rule.id: item for item in advice.fired}
    assert fired["django-cold-start"].status is Status.CONFIRMED
    assert advice.recommendation.framework == "fastapi"
    assert not advice.changed_by_measurements


def test_a_measured_rule_counts_its_points_only_without_measurements(evidence: Evidence) -> None:
    profile = Profile(workload=Workload.IO)
    without = {item.rule.id: item for item in advise(profile, None).fired}
    measured = {item.rule.id: item for item in advise(profile, evidence).fired}
    assert without["fastapi-3x-io"].counted_points == 1
    # Fixture: FastAPI 1,500 vs Flask 1,150 req/s on /io is 1.3x, not the article's 3x.
    assert measured["fastapi-3x-io"].status is Status.OVERRULED
    assert measured["fastapi-3x-io"].counted_points == 0
    assert "1.3x" in measured["fastapi-3x-io"].detail


def _only(pair: tuple[str, str]) -> Evidence:
    return evidence_from_results(build_results(pairs=(pair,)), "one.json")


def test_capacity_plan_applies_littles_law_to_the_slots() -> None:
    # gunicorn gthread on 1 core: 3 workers x 2 threads = 6 slots; at 100 ms downstream
    # that is 6 / 0.1 s = 60 req/s per instance, below the 115 req/s measured plateau.
    setup = _only(("flask", "gunicorn-gthread")).setups[0]
    plan = plan_capacity(setup, Profile(downstream_ms=100, peak_rps=200))
    assert plan is not None
    assert plan.slots == 6
    assert plan.instance_rps == pytest.approx(60.0)
    assert "Little's law" in plan.limited_by
    assert plan.instances == 5  # ceil(200 / (60 x 0.7))
    assert plan.processes == 15
    assert plan.total_memory_mb == pytest.approx(5 * 160.0)


def test_capacity_plan_is_capped_at_the_measured_plateau() -> None:
    setup = _only(("fastapi", "uvicorn")).setups[0]
    plan = plan_capacity(setup, Profile(downstream_ms=20, peak_rps=3000))
    assert plan is not None
    assert plan.instance_rps == pytest.approx(1500.0)
    assert plan.instances == 3  # ceil(3000 / (1500 x 0.7))
    assert any("shorter downstream latency was not measured" in note for note in plan.notes)


def test_capacity_plan_drops_workers_to_fit_the_memory_budget() -> None:
    setup = _only(("flask", "gunicorn-gthread")).setups[0]  # 25 MB master + 3 x 45 MB
    plan = plan_capacity(setup, Profile(memory_budget_mb=100))
    assert plan is not None
    assert plan.workers == 1
    assert plan.instance_memory_mb == pytest.approx(70.0)
    assert plan.slots == 2
    none_fit = plan_capacity(setup, Profile(memory_budget_mb=50))
    assert none_fit is not None and none_fit.instances is None


def test_memory_budget_too_small_for_a_framework_costs_it_points() -> None:
    evidence = evidence_from_results(
        build_results(pairs=(("fastapi", "uvicorn"), ("django", "gunicorn-sync"))), "m.json"
    )
    advice = advise(Profile(memory_budget_mb=90), evidence)
    django = next(o for o in advice.options if o.framework == "django")
    # Django on gunicorn sync needs 30 MB (master) + 70 MB (one worker) > 90 MB.
    assert django.plan is not None and django.plan.instances is None
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


def test_serverless_profiles_judge_every_cold_start(evidence: Evidence) -> None:
    profile = Profile(deployment=Deployment.SERVERLESS, cold_start_budget_ms=600)
    advice = advise(profile, evidence)
    for option in advice.options:
        assert option.plan is not None
        assert option.plan.fits_cold_start(profile) is not None
