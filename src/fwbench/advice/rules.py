"""The article's decision tree, checklist, pros/cons and case study, as data.

Each :class:`Rule` quotes the sentence it comes from, says when it fires for a profile,
and gives points to one framework on one scoring criterion. A rule whose claim is a
number fwbench measures (cold start, memory, throughput) names the measured check that
replaces it when results are available: then its points do not count, the measured
criteria do, and the rule is reported as confirmed or overruled by the measurement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fwbench.advice.profile import Database, Deadline, Deployment, Profile, Workload


class Criterion(StrEnum):
    """What the score of a framework is made of."""

    DOCS = "API docs"
    WORKLOAD = "Workload fit"
    TEAM = "Team skills"
    BATTERIES = "Built-ins (admin/auth/ORM)"
    INTEGRATIONS = "Integrations & flexibility"
    DELIVERY = "Delivery speed"
    OPERATIONS = "Operational risk"
    CAPACITY = "Capacity (measured)"
    LATENCY = "p99 target (measured)"
    FOOTPRINT = "Memory & cold start (measured)"


#: Weight of each criterion in the total score. Team skills weigh most because the
#: article's conclusion puts it first: the best framework "Matches your team's DNA".
WEIGHTS: dict[Criterion, float] = {
    Criterion.DOCS: 1.0,
    Criterion.WORKLOAD: 1.0,
    Criterion.TEAM: 1.5,
    Criterion.BATTERIES: 1.0,
    Criterion.INTEGRATIONS: 1.0,
    Criterion.DELIVERY: 1.0,
    Criterion.OPERATIONS: 1.0,
    Criterion.CAPACITY: 1.0,
    Criterion.LATENCY: 1.0,
    Criterion.FOOTPRINT: 1.0,
}

#: "Small team": the article gives no number; six is the usual two-pizza size.
SMALL_TEAM = 6

#: "Flask's sync nature becomes a bottleneck at ~50 RPS/core". The article names no core
#: count; without measurements the rule assumes a 2-core instance, the smallest common one.
ARTICLE_FLASK_RPS_PER_CORE = 50.0
ARTICLE_ASSUMED_CORES = 2

#: The article's Django memory figure (its table), for the rule without measurements.
ARTICLE_DJANGO_MEMORY_MB = 310.0


class Check(StrEnum):
    """Measured checks that can replace a rule (implemented in ``fwbench.advice.checks``)."""

    COLD_START = "cold start"
    MEMORY = "memory"
    FLASK_PER_CORE = "Flask RPS per core"
    IO_RATIO = "FastAPI/Flask I/O ratio"


@dataclass(frozen=True)
class Rule:
    """One statement of the article turned into a scoring rule.

    Attributes:
        id: short stable name (used in JSON output and tests).
        framework: the framework the points go to.
        criterion: the criterion the points count under.
        points: signed points (weighted by :data:`WEIGHTS`).
        quote: the article's words, verbatim.
        section: where in the article the quote is.
        when: the condition, in words, as shown to the user.
        applies: the condition as a predicate on the profile.
        check: the measured check that replaces the rule when results exist, or None.
    """

    id: str
    framework: str
    criterion: Criterion
    points: int
    quote: str
    section: str
    when: str
    applies: Callable[[Profile], bool]
    check: Check | None = None


_TREE = "decision tree"
_COSTS = "hidden costs"
_PERF = "key insights"
_CHECKLIST = "checklist"
_CASE = "case study"
_CONCLUSION = "conclusion"


def _sync_io(profile: Profile) -> bool:
    return profile.workload in {Workload.IO, Workload.MIXED}


RULES: tuple[Rule, ...] = (
    # -- Choose FastAPI if
    Rule(
        "fastapi-openapi", "fastapi", Criterion.DOCS, 2,
        "Need OpenAPI/docs out-of-the-box", _TREE,
        "you need OpenAPI docs",
        lambda p: p.needs_openapi,
    ),
    Rule(
        "fastapi-async-io", "fastapi", Criterion.WORKLOAD, 2,
        "Async I/O bound workloads (e.g., external API calls)", _TREE,
        "the workload is I/O-bound",
        lambda p: p.workload is Workload.IO,
    ),
    Rule(
        "fastapi-small-team", "fastapi", Criterion.TEAM, 1,
        "Small team that values developer experience", _TREE,
        f"the team has at most {SMALL_TEAM} engineers",
        lambda p: p.team_size <= SMALL_TEAM,
    ),
    # -- Choose Flask if
    Rule(
        "flask-legacy", "flask", Criterion.INTEGRATIONS, 2,
        "Legacy integration (more middleware/plugins available)", _TREE,
        "you need legacy integrations or plugins",
        lambda p: p.legacy_plugins,
    ),
    Rule(
        "flask-flexibility", "flask", Criterion.INTEGRATIONS, 1,
        "Maximum flexibility over conventions", _TREE,
        "the team values flexibility over conventions",
        lambda p: p.prefers_flexibility,
    ),
    Rule(
        "flask-known", "flask", Criterion.TEAM, 2,
        "Team already knows it well", _TREE,
        "the team knows Flask well",
        lambda p: "flask" in p.known_frameworks,
    ),
    # -- Choose Django if
    Rule(
        "django-monolith", "django", Criterion.BATTERIES, 1,
        "You're lying to yourself that it's \u201cjust a microservice\u201d "
        "(it'll grow into a monolith)", _TREE,
        "the service will grow beyond one bounded context",
        lambda p: p.grows_into_monolith,
    ),
    Rule(
        "django-batteries", "django", Criterion.BATTERIES, 2,
        "Need built-in admin/auth/ORM for rapid prototyping", _TREE,
        "you need an admin UI, or auth together with an ORM",
        lambda p: p.needs_admin or (p.needs_auth and p.needs_orm),
    ),
    Rule(
        "django-experts", "django", Criterion.TEAM, 2,
        "Have Django experts who can surgically remove unused components", _TREE,
        "the team knows Django well",
        lambda p: "django" in p.known_frameworks,
    ),
    Rule(
        "fastapi-known", "fastapi", Criterion.TEAM, 2,
        "The best framework is the one that: Matches your team's DNA", _CONCLUSION,
        "the team knows FastAPI well",
        lambda p: "fastapi" in p.known_frameworks,
    ),
    # -- Hidden costs
    Rule(
        "fastapi-mixing", "fastapi", Criterion.OPERATIONS, -1,
        "All-or-nothing async: Mixing sync/async causes deadlocks", _COSTS,
        "you must integrate legacy (synchronous) libraries",
        lambda p: p.legacy_plugins,
    ),
    Rule(
        "fastapi-async-tax", "fastapi", Criterion.TEAM, -2,
        "Debugging nightmares: Async stack traces look like Cthulhu wrote them", _COSTS,
        "the team cannot debug async/await under pressure",
        lambda p: not p.team_debugs_async,
    ),
    Rule(
        "flask-manual-docs", "flask", Criterion.DOCS, -1,
        "Manual docs: Swagger? You build it yourself", _COSTS,
        "you need OpenAPI docs",
        lambda p: p.needs_openapi,
    ),
    Rule(
        "flask-plugin-sprawl", "flask", Criterion.INTEGRATIONS, -1,
        "Plugin sprawl: Suddenly you're maintaining 15 fragile dependencies", _COSTS,
        "you need at least two of admin, auth, ORM and audit from plugins",
        lambda p: sum((p.needs_admin, p.needs_auth, p.needs_orm, p.audit)) >= 2,
    ),
    Rule(
        "django-admin", "django", Criterion.DELIVERY, 1,
        "Admin panel saves months of dev time", _COSTS,
        "you need an admin UI",
        lambda p: p.needs_admin,
    ),
    Rule(
        "django-orm", "django", Criterion.BATTERIES, 1,
        "Database Needs: Are you ready to abandon Django ORM's comforts?", _CHECKLIST,
        "you want an ORM over a relational database",
        lambda p: p.needs_orm and p.database is Database.RELATIONAL,
    ),
    Rule(
        "fastapi-observability", "fastapi", Criterion.OPERATIONS, -1,
        "Operational Maturity: Do you have metrics/logging to track framework-specific "
        "issues?", _CHECKLIST,
        "metrics are not in place (a blocked event loop is invisible without them)",
        lambda p: "metrics" not in p.observability,
    ),
    # -- Case study
    Rule(
        "django-case-study", "django", Criterion.DELIVERY, 3,
        "A fintech client needed: Audit logs for every request; Admin UI for customer "
        "support; Tight deadlines. Outcome: Delivered in 2 weeks instead of 6", _CASE,
        "you need audit logs and an admin UI under a tight deadline",
        lambda p: p.audit and p.needs_admin and p.deadline is Deadline.TIGHT,
    ),
    # -- Numbers fwbench measures: replaced by the measured checks when results exist.
    Rule(
        "fastapi-3x-io", "fastapi", Criterion.CAPACITY, 1,
        "3x faster than Flask for I/O bound tasks", _COSTS,
        "the workload is I/O-bound or mixed",
        _sync_io,
        Check.IO_RATIO,
    ),
    Rule(
        "flask-50-rps-per-core", "flask", Criterion.CAPACITY, -1,
        "Flask's sync nature becomes a bottleneck at ~50 RPS/core", _PERF,
        f"the workload is I/O-bound or mixed and the peak exceeds "
        f"{ARTICLE_FLASK_RPS_PER_CORE:.0f} RPS/core on {ARTICLE_ASSUMED_CORES} cores",
        lambda p: _sync_io(p)
        and p.peak_rps > ARTICLE_FLASK_RPS_PER_CORE * ARTICLE_ASSUMED_CORES,
        Check.FLASK_PER_CORE,
    ),
    Rule(
        "django-cold-start", "django", Criterion.FOOTPRINT, -2,
        "Django's cold start kills serverless deployments", _PERF,
        "you deploy serverless",
        lambda p: p.deployment is Deployment.SERVERLESS,
        Check.COLD_START,
    ),
    Rule(
        "django-memory", "django", Criterion.FOOTPRINT, -1,
        "300MB memory overhead per service", _COSTS,
        f"the memory budget is below the article's {ARTICLE_DJANGO_MEMORY_MB:.0f} MB for Django",
        lambda p: p.memory_budget_mb < ARTICLE_DJANGO_MEMORY_MB,
        Check.MEMORY,
    ),
)  # fmt: skip
