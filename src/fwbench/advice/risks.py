"""The risks to watch for each option, each tied to the claim of the article that a
``fwbench claims`` experiment measures, with the measured verdict when results have it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from fwbench.advice.evidence import ClaimEvidence, Evidence
from fwbench.advice.profile import Database, Deployment, Profile


@dataclass(frozen=True)
class RiskSpec:
    """A risk: the ``framework`` it concerns, a ``title``, what to ``watch`` for in
    production, the article's ``claim`` (verbatim) the claims experiments measure, and
    when it ``applies`` to a profile."""

    framework: str
    title: str
    watch: str
    claim: str
    applies: Callable[[Profile], bool]


@dataclass(frozen=True)
class Risk:
    """A risk for this profile with its measured evidence (None when not measured)."""

    spec: RiskSpec
    evidence: ClaimEvidence | None


def _always(_: Profile) -> bool:
    return True


def _relational(profile: Profile) -> bool:
    return profile.database is Database.RELATIONAL


RISKS: tuple[RiskSpec, ...] = (
    RiskSpec(
        "fastapi",
        "A blocking call inside an async route",
        "One synchronous client or sleep in an `async def` route stalls every request on "
        "that worker's event loop. Watch event-loop lag and /healthz latency under load; "
        "use async clients (httpx.AsyncClient, asyncpg) or plain `def` routes.",
        "All-or-nothing async: Mixing sync/async causes deadlocks",
        _always,
    ),
    RiskSpec(
        "fastapi",
        "The thread pool behind `def` routes",
        "Sync routes and dependencies run in anyio's thread pool (40 threads by default); "
        "with a slow downstream it caps throughput at 40 / latency per worker.",
        "No async: Threadpool exhaustion at scale",
        lambda p: p.legacy_plugins,
    ),
    RiskSpec(
        "flask",
        "Worker and thread exhaustion when the downstream slows",
        "A sync server serves workers x threads requests at once; throughput is capped at "
        "slots / downstream latency (Little's law). Alert on queueing (gunicorn backlog) "
        "and size threads from the latency, not the core count.",
        "No async: Threadpool exhaustion at scale",
        _always,
    ),
    RiskSpec(
        "flask",
        "Plugin sprawl",
        "Each extension is a dependency to upgrade and audit; isolate them behind small "
        "interfaces (the article's own tip).",
        "Plugin sprawl: Suddenly you're maintaining 15 fragile dependencies",
        lambda p: p.legacy_plugins or sum((p.needs_admin, p.needs_auth, p.needs_orm)) >= 2,
    ),
    RiskSpec(
        "django",
        "Memory per worker",
        "Every worker imports the whole project; multiply the per-worker memory by the "
        "worker count before sizing instances.",
        "300MB memory overhead per service",
        _always,
    ),
    RiskSpec(
        "django",
        "Cold start",
        "Spawn-to-first-response time decides whether scale-to-zero is acceptable; trim "
        "INSTALLED_APPS and keep a warm instance.",
        "Django's cold start kills serverless deployments",
        lambda p: p.deployment is Deployment.SERVERLESS,
    ),
    RiskSpec(
        "django",
        "Unbounded ORM reads",
        "`list(Model.objects.values())` materialises the whole table in the worker; "
        "paginate with a keyset or stream with `.iterator()`.",
        "ORM loads entire table",
        _relational,
    ),
    RiskSpec(
        "django",
        "N+1 queries",
        "A related row fetched per item multiplies queries per request; use "
        "select_related/prefetch_related and watch queries per request.",
        "Django: Run ./manage.py shell_plus --print-sql to catch N+1 queries early",
        _relational,
    ),
    RiskSpec(
        "fastapi",
        "N+1 queries",
        "Lazy relationship loads under SQLAlchemy async raise or multiply queries; load "
        "related rows with selectinload and count queries per request.",
        "Django: Run ./manage.py shell_plus --print-sql to catch N+1 queries early",
        _relational,
    ),
    RiskSpec(
        "flask",
        "N+1 queries",
        "Lazy relationship loads issue one query per item; use selectinload/joinedload and "
        "count queries per request.",
        "Django: Run ./manage.py shell_plus --print-sql to catch N+1 queries early",
        _relational,
    ),
)


def _normalise(text: str) -> str:
    """Compare claims by their words only: quotes, dashes and spacing differ in copies."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def risks_for(framework: str, profile: Profile, evidence: Evidence | None) -> tuple[Risk, ...]:
    """The risks of ``framework`` for ``profile``, each with the claims verdict whose
    quoted claim matches (None when the results hold no such verdict)."""
    verdicts = evidence.claims if evidence else ()
    out = []
    for spec in RISKS:
        if spec.framework != framework or not spec.applies(profile):
            continue
        wanted = _normalise(spec.claim)
        match = next((v for v in verdicts if wanted in _normalise(v.claim)), None)
        out.append(Risk(spec, match))
    return tuple(out)
