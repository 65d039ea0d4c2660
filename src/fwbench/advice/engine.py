"""From a profile and (optionally) measurements to a ranked recommendation.

1. Every rule of :data:`~fwbench.advice.rules.RULES` whose condition holds *fires*. A
   rule about a number fwbench measures is then checked against the measurements: it is
   *confirmed* or *overruled*, and its points give way to the measured criteria.
2. Every measured setup of each framework gets a capacity plan; the best plan is the
   framework's server configuration, and its numbers give measured points (capacity,
   p99 target, memory and cold start).
3. Points per criterion, weighted by :data:`~fwbench.advice.rules.WEIGHTS`, sum to the
   score that ranks the frameworks. The same profile is also scored on the article's
   rules alone, so the output can say when measurements changed the answer.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from fwbench.advice.capacity import CapacityPlan, plan_capacity
from fwbench.advice.evidence import Evidence, SetupEvidence
from fwbench.advice.profile import Deployment, Profile, Workload
from fwbench.advice.risks import Risk, risks_for
from fwbench.advice.rules import RULES, WEIGHTS, Check, Criterion, Rule
from fwbench.experiments.verdicts import ROUND_FIGURE_FACTOR
from fwbench.harness.servers import FRAMEWORK_NAMES, FRAMEWORKS, configure

#: A setup serving at least this fraction of the best per-instance throughput counts as
#: "the best" (+1 capacity); below :data:`SLOW_FRACTION` of it, as slow (-1).
BEST_FRACTION = 0.9
SLOW_FRACTION = 0.5


class Status(StrEnum):
    """What happened to a fired rule."""

    APPLIED = "applied (not measured)"
    CONFIRMED = "confirmed by measurement"
    OVERRULED = "overruled by measurement"


@dataclass(frozen=True)
class FiredRule:
    """A rule whose condition held: its ``status`` and, when measured, the ``detail``
    with the numbers that confirmed or overruled it."""

    rule: Rule
    status: Status
    detail: str = ""

    @property
    def counted_points(self) -> int:
        """Points that enter the score: a measured rule gives way to the measured criteria."""
        return self.rule.points if self.status is Status.APPLIED else 0


@dataclass(frozen=True)
class Finding:
    """Measured points for ``framework`` on a measured ``criterion``, with the reason."""

    framework: str
    criterion: Criterion
    points: int
    text: str


@dataclass(frozen=True)
class Option:
    """One framework, ranked.

    ``configuration`` is the server setup recommended for it (measured, or the documented
    sizing when nothing was measured); ``points`` the points per criterion; ``score``
    their weighted sum; ``plan`` the capacity plan (None without measurements).
    """

    framework: str
    configuration: str
    measured: bool
    points: Mapping[Criterion, int]
    score: float
    plan: CapacityPlan | None
    risks: tuple[Risk, ...]

    @property
    def title(self) -> str:
        """e.g. ``Flask on gunicorn gthread, 5 workers x 4 threads``."""
        return f"{FRAMEWORK_NAMES[self.framework]} on {self.configuration}"


@dataclass(frozen=True)
class Advice:
    """The answer: ``options`` best first, the ``fired`` rules, the measured ``findings``
    and the framework the article's rules alone would pick (``article_choice``)."""

    profile: Profile
    evidence: Evidence | None
    options: tuple[Option, ...]
    fired: tuple[FiredRule, ...]
    findings: tuple[Finding, ...]
    article_choice: str

    @property
    def recommendation(self) -> Option:
        """The top-ranked option."""
        return self.options[0]

    @property
    def overruled(self) -> tuple[FiredRule, ...]:
        """Rules the measurements contradicted for this profile."""
        return tuple(item for item in self.fired if item.status is Status.OVERRULED)

    @property
    def changed_by_measurements(self) -> bool:
        """True when the measurements changed which framework comes first."""
        return self.article_choice != self.recommendation.framework


def advise(profile: Profile, evidence: Evidence | None) -> Advice:
    """Rank the three frameworks for ``profile``.

    Args:
        profile: the user's answers.
        evidence: measurements digested from a results file, or None to use the
            article's rules alone (no capacity plan).
    """
    plans = _best_plans(profile, evidence) if evidence else {}
    fired = tuple(_fire(rule, profile, evidence, plans) for rule in RULES if rule.applies(profile))
    findings = _findings(profile, plans)
    options = _rank(profile, evidence, fired, findings, plans)
    article_only = _rank(
        profile, None, tuple(FiredRule(f.rule, Status.APPLIED) for f in fired), (), {}
    )
    return Advice(profile, evidence, options, fired, findings, article_only[0].framework)


# -- plans -------------------------------------------------------------------------------


def _plan_key(plan: CapacityPlan, profile: Profile) -> tuple[int, float, float, float]:
    """Order plans: those that meet every constraint first, then fewer instances, less
    total memory, more throughput per instance."""
    failures = sum(
        check is False
        for check in (
            plan.fits_memory(profile),
            plan.meets_p99(profile),
            plan.fits_cold_start(profile),
        )
    )
    instances = plan.instances if plan.instances is not None else math.inf
    memory = plan.total_memory_mb if plan.total_memory_mb is not None else math.inf
    return failures, instances, memory, -plan.instance_rps


def _best_plans(profile: Profile, evidence: Evidence) -> dict[str, CapacityPlan]:
    best: dict[str, CapacityPlan] = {}
    for framework in FRAMEWORKS:
        plans = [
            plan
            for setup in evidence.for_framework(framework)
            if (plan := plan_capacity(setup, profile)) is not None
        ]
        if plans:
            best[framework] = min(plans, key=lambda plan: _plan_key(plan, profile))
    return best


# -- rules and their measured checks -----------------------------------------------------


def _fire(
    rule: Rule, profile: Profile, evidence: Evidence | None, plans: Mapping[str, CapacityPlan]
) -> FiredRule:
    if rule.check is None or evidence is None:
        return FiredRule(rule, Status.APPLIED)
    outcome = _CHECKS[rule.check](profile, evidence, plans)
    if outcome is None:
        return FiredRule(rule, Status.APPLIED)
    holds, detail = outcome
    return FiredRule(rule, Status.CONFIRMED if holds else Status.OVERRULED, detail)


def _io_plateau(setup: SetupEvidence, profile: Profile) -> tuple[float, float] | None:
    """Best ``/io`` throughput of the sweep nearest the user's latency, and that latency."""
    if not setup.io:
        return None
    latency = min(setup.io, key=lambda ms: (abs(ms - profile.downstream_ms), ms))
    return max(point.rps for point in setup.io[latency]), latency


def _check_cold_start(
    profile: Profile, evidence: Evidence, plans: Mapping[str, CapacityPlan]
) -> tuple[bool, str] | None:
    measured = [s for s in evidence.for_framework("django") if s.cold_start_ms is not None]
    if not measured:
        return None
    fastest = min(measured, key=lambda s: s.cold_start_ms or 0.0)
    ms = fastest.cold_start_ms or 0.0
    fits = ms <= profile.cold_start_budget_ms
    verb = "fits" if fits else "exceeds"
    return not fits, (
        f"fastest measured Django cold start {ms:,.0f} ms ({fastest.describe()}) {verb} "
        f"your {profile.cold_start_budget_ms:,.0f} ms budget"
    )


def _check_memory(
    profile: Profile, evidence: Evidence, plans: Mapping[str, CapacityPlan]
) -> tuple[bool, str] | None:
    plan = plans.get("django")
    if plan is None or plan.fits_memory(profile) is None:
        return None
    if plan.instances is None:
        return True, f"not even one Django worker fits {profile.memory_budget_mb:,.0f} MB"
    return False, (
        f"a Django instance ({plan.setup.describe(plan.workers)}) measured "
        f"{plan.instance_memory_mb:,.0f} MB, within your {profile.memory_budget_mb:,.0f} MB"
    )


def _check_flask_per_core(
    profile: Profile, evidence: Evidence, plans: Mapping[str, CapacityPlan]
) -> tuple[bool, str] | None:
    rates = [
        (found[0] / setup.cores, found[1], setup)
        for setup in evidence.for_framework("flask")
        if (found := _io_plateau(setup, profile)) is not None
    ]
    if not rates:
        return None
    per_core, latency, setup = max(rates, key=lambda item: item[0])
    # The article's "~50" is a round figure: read it within the claims' factor 1.5.
    holds = per_core <= 50 * ROUND_FIGURE_FACTOR
    return holds, (
        f"Flask measured {per_core:,.0f} RPS/core on {setup.describe()} at {latency:g} ms "
        f"downstream ({'at most' if holds else 'well above'} ~50 RPS/core)"
    )


def _check_io_ratio(
    profile: Profile, evidence: Evidence, plans: Mapping[str, CapacityPlan]
) -> tuple[bool, str] | None:
    best: dict[str, float] = {}
    for framework in ("fastapi", "flask"):
        found = [p for s in evidence.for_framework(framework) if (p := _io_plateau(s, profile))]
        if not found:
            return None
        best[framework] = max(rps for rps, _ in found)
    ratio = best["fastapi"] / best["flask"]
    # The advice asks whether FastAPI is at least as much faster as the article says, so
    # a larger ratio bears it out: the claims' convention for a cost figure (>= 3 / 1.5).
    holds = ratio >= 3.0 / ROUND_FIGURE_FACTOR
    return holds, (
        f"best measured /io throughput FastAPI {best['fastapi']:,.0f} vs Flask "
        f"{best['flask']:,.0f} req/s: {ratio:.1f}x (the article says 3x)"
    )


_CHECKS = {
    Check.COLD_START: _check_cold_start,
    Check.MEMORY: _check_memory,
    Check.FLASK_PER_CORE: _check_flask_per_core,
    Check.IO_RATIO: _check_io_ratio,
}


# -- measured points ---------------------------------------------------------------------


def _findings(profile: Profile, plans: Mapping[str, CapacityPlan]) -> tuple[Finding, ...]:
    out: list[Finding] = []
    usable = {fw: plan for fw, plan in plans.items() if plan.instances is not None}
    top = max((plan.instance_rps for plan in usable.values()), default=0.0)
    for framework, plan in plans.items():
        name = FRAMEWORK_NAMES[framework]
        if plan.instances is None:
            out.append(Finding(framework, Criterion.FOOTPRINT, -3, f"{name}: {plan.notes[0]}"))
            continue
        rate = f"{name} serves {plan.instance_rps:,.0f} req/s per instance"
        if plan.instance_rps >= BEST_FRACTION * top:
            out.append(Finding(framework, Criterion.CAPACITY, 1, f"{rate}, the most measured"))
        elif plan.instance_rps < SLOW_FRACTION * top:
            out.append(
                Finding(framework, Criterion.CAPACITY, -1, f"{rate}, under half of {top:,.0f}")
            )
        if plan.meets_p99(profile) is False:
            out.append(
                Finding(
                    framework,
                    Criterion.LATENCY,
                    -2,
                    f"{name}: expected p99 {plan.expected_p99_ms:,.0f} ms exceeds your "
                    f"{profile.p99_target_ms:,.0f} ms target",
                )
            )
        if plan.workers < plan.setup.workers:
            out.append(Finding(framework, Criterion.FOOTPRINT, -1, f"{name}: {plan.notes[-1]}"))
        if plan.fits_cold_start(profile) is False:
            out.append(
                Finding(
                    framework,
                    Criterion.FOOTPRINT,
                    -2,
                    f"{name}: cold start {plan.cold_start_ms:,.0f} ms exceeds your "
                    f"{profile.cold_start_budget_ms:,.0f} ms budget",
                )
            )
    return tuple(out)


# -- ranking -----------------------------------------------------------------------------


def _rank(
    profile: Profile,
    evidence: Evidence | None,
    fired: tuple[FiredRule, ...],
    findings: tuple[Finding, ...],
    plans: Mapping[str, CapacityPlan],
) -> tuple[Option, ...]:
    options = []
    for framework in FRAMEWORKS:
        points = dict.fromkeys(Criterion, 0)
        for item in fired:
            if item.rule.framework == framework:
                points[item.rule.criterion] += item.counted_points
        for finding in findings:
            if finding.framework == framework:
                points[finding.criterion] += finding.points
        score = sum(WEIGHTS[criterion] * value for criterion, value in points.items())
        plan = plans.get(framework)
        if plan is not None:
            configuration = plan.setup.describe(plan.workers)
        else:
            configuration = _documented_configuration(framework, profile)
        options.append(
            Option(
                framework,
                configuration,
                plan is not None,
                points,
                score,
                plan,
                risks_for(framework, profile, evidence),
            )
        )

    def key(option: Option) -> tuple[float, float, int]:
        instances = option.plan.instances if option.plan and option.plan.instances else math.inf
        return -option.score, instances, FRAMEWORKS.index(option.framework)

    return tuple(sorted(options, key=key))


#: Without measurements: the server each framework is documented with for the workload.
#: gunicorn's docs (Design, "Choosing a Worker Type"): sync workers "assume that your
#: application is resource-bound in terms of CPU and network bandwidth", while
#: "Applications making long blocking calls (Ie, external web services)" need workers that
#: serve several requests at once: threads for I/O-bound Flask and Django.
_DOCUMENTED_SERVER: dict[tuple[str, bool], str] = {
    ("fastapi", True): "uvicorn",
    ("fastapi", False): "uvicorn",
    ("flask", True): "gunicorn-gthread",
    ("flask", False): "gunicorn-sync",
    ("django", True): "gunicorn-gthread",
    ("django", False): "gunicorn-sync",
}


def _documented_configuration(framework: str, profile: Profile) -> str:
    """The documented sizing for this machine's cores, labelled as not measured."""
    cores = os.cpu_count() or 1
    io_bound = profile.workload is not Workload.CPU
    server = _DOCUMENTED_SERVER[(framework, io_bound)]
    config = configure(framework, server, cores)
    setup = SetupEvidence(
        framework, server, config.interface, cores, config.workers, config.threads,
        config.connections,
    )  # fmt: skip
    suffix = "per instance" if profile.deployment is not Deployment.SERVERLESS else "per function"
    return f"{setup.describe()} {suffix} (documented sizing for {cores} cores, not measured)"
