"""The questions ``fwbench advise`` asks, one per :class:`~fwbench.advice.profile.Profile`
field, with the wording from the article's decision tree and checklist where it has one.

Defaults come from the ``Profile`` dataclass itself, so a question and its default can
never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fwbench.advice.profile import DEFAULT_CORES, NONE_WORD, OBSERVABILITY, Profile
from fwbench.harness.servers import FRAMEWORKS


@dataclass(frozen=True)
class Question:
    """One question.

    ``name`` is the Profile field it fills; ``prompt`` the question as asked; ``help`` why
    it matters (shown under the prompt and in ``--help``); ``choices`` the accepted words
    for enumerations and lists (empty for yes/no and numbers).
    """

    name: str
    prompt: str
    help: str
    choices: tuple[str, ...] = ()

    @property
    def default(self) -> Any:
        """The answer used when this question is skipped (the Profile field default)."""
        return getattr(Profile(), self.name)

    @property
    def kind(self) -> str:
        """``bool``, ``choice``, ``set``, ``int`` or ``float``: how the answer is parsed."""
        default = self.default
        if isinstance(default, bool):
            return "bool"
        if isinstance(default, StrEnum):
            return "choice"
        if isinstance(default, frozenset):
            return "set"
        # The one optional answer (cores per instance) is a whole number.
        return "int" if default is None or isinstance(default, int) else "float"

    def default_text(self) -> str:
        """The default as a user would type it."""
        default = self.default
        if isinstance(default, bool):
            return "yes" if default else "no"
        if isinstance(default, frozenset):
            return ",".join(sorted(default)) or NONE_WORD
        if default is None:
            return "auto"
        if isinstance(default, float) and default.is_integer():
            return str(int(default))
        return str(default)


def _choices(enum_field: str) -> tuple[str, ...]:
    default = getattr(Profile(), enum_field)
    return tuple(member.value for member in type(default))


QUESTIONS: tuple[Question, ...] = (
    Question(
        "needs_openapi",
        "Do you need OpenAPI documentation out of the box?",
        "The article's first FastAPI criterion: 'Need OpenAPI/docs out-of-the-box'.",
    ),
    Question(
        "workload",
        "What shape is the workload?",
        "io: mostly waiting on external calls or a database; cpu: mostly computing in "
        "Python; mixed: both. The article favours async for I/O-bound work.",
        _choices("workload"),
    ),
    Question(
        "downstream_ms",
        "Typical latency of the external calls one request makes, in milliseconds?",
        "Little's law turns it into concurrency: requests in flight = rate x latency. "
        "Use 0 for a CPU-bound service.",
    ),
    Question(
        "peak_rps",
        "Expected peak load, in requests per second?",
        "Sizes the capacity plan: how many processes and instances the peak needs.",
    ),
    Question(
        "p99_target_ms",
        "p99 latency target, in milliseconds?",
        "Compared with the measured p99 plus your downstream latency.",
    ),
    Question(
        "team_size",
        "How many engineers work on the service?",
        "The article's 'Small team that values developer experience' favours FastAPI.",
    ),
    Question(
        "team_debugs_async",
        "Can your team debug async/await under pressure?",
        "The article's checklist question 1: async stack traces and a blocked event loop "
        "are FastAPI's 'async tax'.",
    ),
    Question(
        "known_frameworks",
        "Which of the three frameworks does the team already know well?",
        "Comma-separated, or 'none'. 'Team already knows it well' and 'Have Django "
        "experts' are decision-tree criteria.",
        FRAMEWORKS,
    ),
    Question(
        "legacy_plugins",
        "Do you need legacy integrations (existing WSGI middleware, Flask extensions, sync "
        "client libraries)?",
        "'Legacy integration (more middleware/plugins available)' favours Flask; sync "
        "libraries inside async routes are FastAPI's main trap.",
    ),
    Question(
        "prefers_flexibility",
        "Does the team value maximum flexibility over conventions?",
        "'Maximum flexibility over conventions' is a Flask criterion.",
    ),
    Question(
        "needs_admin",
        "Do you need an admin UI (e.g. for customer support)?",
        "'Admin panel saves months of dev time': Django ships one.",
    ),
    Question(
        "needs_auth",
        "Do you need user authentication built in?",
        "Part of 'Need built-in admin/auth/ORM for rapid prototyping' (Django).",
    ),
    Question(
        "needs_orm",
        "Do you want an ORM out of the box?",
        "Checklist question 2: 'Are you ready to abandon Django ORM's comforts?'",
    ),
    Question(
        "audit",
        "Do you need an audit log of every request?",
        "The article's fintech case study: audit logs + admin UI + tight deadline -> Django.",
    ),
    Question(
        "database",
        "What will the service store its data in?",
        "relational: PostgreSQL, MySQL, SQLite; other: document or key-value stores; none.",
        _choices("database"),
    ),
    Question(
        "grows_into_monolith",
        "Is the service likely to grow beyond one bounded context (more models, screens, teams)?",
        "'You're lying to yourself that it's just a microservice' is a Django criterion.",
    ),
    Question(
        "observability",
        "Which of metrics, logging and tracing are in place?",
        "Checklist question 3: 'Do you have metrics/logging to track framework-specific "
        "issues?' Comma-separated, or 'none'.",
        OBSERVABILITY,
    ),
    Question(
        "deployment",
        "Where will it run?",
        "'Django's cold start kills serverless deployments': checked against measurements.",
        _choices("deployment"),
    ),
    Question(
        "memory_budget_mb",
        "Memory budget per instance, in MB?",
        "Compared with the measured memory of the whole process tree (master + workers).",
    ),
    Question(
        "cold_start_budget_ms",
        "Cold-start budget, in milliseconds (used for serverless)?",
        "Compared with the measured time from spawn to the first successful response.",
    ),
    Question(
        "deadline",
        "How tight is the deadline?",
        "A tight deadline with admin and audit needs is the article's case study for Django.",
        _choices("deadline"),
    ),
    Question(
        "cores_per_instance",
        "Cores (vCPUs) per instance?",
        "Sizes workers and CPU capacity per instance; a Python process runs on one core at "
        "a time (the GIL), so every core needs a worker. auto: "
        + ", ".join(f"{name} {cores}" for name, cores in DEFAULT_CORES.items())
        + ".",
    ),
    Question(
        "function_concurrency",
        "Requests one serverless function instance serves at once?",
        "The platform's per-instance concurrency (1 on AWS Lambda; Cloud Run and Azure "
        "allow more); used for serverless only.",
    ),
)
