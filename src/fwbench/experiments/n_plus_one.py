"""Experiment 7: N+1 queries (the ``shell_plus --print-sql`` tip).

Each framework lists purchases with their merchant (``GET /_lab/purchases``) two ways:
``naive`` touches the relation lazily per row, ``eager`` joins it in (``select_related``
/ ``joinedload``). The query count of one request comes from each ORM's own
instrumentation (``X-Query-Count``: Django's ``execute_wrapper``, SQLAlchemy's
``before_cursor_execute``), at a small and a large listing; the cost from wrk's
throughput at the large one. On Django, the article's tip itself runs too:
``manage.py shell_plus --print-sql`` (django-extensions) calls the naive listing's view
and the statements it prints are counted. The tip is Django's, so only Django judges
it; FastAPI's and Flask's listings are separate findings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Final

from fwbench.experiments._measure import LoadFigures, MeasurementFailed, drain, expect_ok, load
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import NPlusOneInput, n_plus_one_rule
from fwbench.harness import http
from fwbench.harness.errors import FwbenchError
from fwbench.harness.process import ServiceProcess
from fwbench.harness.servers import FRAMEWORKS, canonical_server

CLAIM: Final = "Django: Run ./manage.py shell_plus --print-sql to catch N+1 queries early"
SMALL_LIMIT: Final = 10
LARGE_LIMIT: Final = 100
CONNECTIONS: Final = 16


@dataclass(frozen=True)
class Settings:
    """wrk seconds per throughput run and runs per mode (the median is kept)."""

    duration_s: int
    repeats: int


QUICK: Final = Settings(duration_s=2, repeats=1)
FULL: Final = Settings(duration_s=5, repeats=3)


@dataclass(frozen=True)
class ListingRun:
    """One framework: statements per request for each mode at both limits, and the
    throughput of each mode at the large limit."""

    framework: str
    server: str
    naive_small: int
    naive_large: int
    eager_small: int
    eager_large: int
    naive: LoadFigures
    eager: LoadFigures
    #: Statements ``shell_plus --print-sql`` printed for the naive listing at both
    #: limits (Django only: the tip is Django's), and its first lines at the small one.
    #: None / empty in evidence recorded before the tip was run (the shipped reference).
    printed_small: int | None = None
    printed_large: int | None = None
    printed_excerpt: tuple[str, ...] = ()

    def rule_input(self) -> NPlusOneInput:
        """The numbers the N+1 rule reads."""
        return NPlusOneInput(
            name=f"{self.framework} {self.server}",
            small_limit=SMALL_LIMIT,
            large_limit=LARGE_LIMIT,
            naive_small=self.naive_small,
            naive_large=self.naive_large,
            eager_small=self.eager_small,
            eager_large=self.eager_large,
            naive_rps=self.naive.ok_rps,
            eager_rps=self.eager.ok_rps,
            printed_small=self.printed_small,
            printed_large=self.printed_large,
        )


@dataclass(frozen=True)
class NPlusOneEvidence:
    """Every framework's listing runs, and the frameworks that could not be measured."""

    runs: tuple[ListingRun, ...]
    failures: tuple[str, ...]


def _query_count(url: str, mode: str, limit: int) -> int:
    try:
        answer = http.request("GET", f"{url}/_lab/purchases?mode={mode}&limit={limit}")
    except OSError as error:
        raise MeasurementFailed(
            f"GET /_lab/purchases failed: {error}", "check the service"
        ) from None
    count = answer.headers.get("x-query-count", "")
    if answer.status != 200 or not count.isdigit():
        raise MeasurementFailed(
            f"GET /_lab/purchases?mode={mode} answered {answer.status} without an X-Query-Count",
            "check that the service implements the /_lab endpoints (FWBENCH_LAB=1)",
        )
    return int(count)


#: How long ``shell_plus`` may take to start, list and exit.
TIP_TIMEOUT_S: Final = 60
#: The line django-extensions prints after each statement under ``--print-sql``.
_STATEMENT_END: Final = "Execution time:"
#: Lines of the tip's output kept as evidence.
EXCERPT_LINES: Final = 12


def print_sql(service: ServiceProcess, limit: int) -> tuple[int, tuple[str, ...]]:
    """Run the article's tip, ``manage.py shell_plus --print-sql``, on the naive listing
    of ``limit`` purchases (its view called as a request would), against ``service``'s
    database; the statements it printed and the first lines of its output."""
    code = (
        "from django.test import RequestFactory\n"
        "from fwbench.services.django_service.lab.views import purchases\n"
        "purchases(RequestFactory().get('/_lab/purchases', "
        f"{{'mode': 'naive', 'limit': {limit}}}))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": service.env["DATABASE_URL"],
        "DJANGO_SETTINGS_MODULE": "fwbench.experiments._print_sql_settings",
    }
    argv = [sys.executable, "-m", "django", "shell_plus", "--print-sql", "--plain", "-c", code]
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=TIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise MeasurementFailed(
            f"shell_plus --print-sql ran longer than {TIP_TIMEOUT_S} s",
            "run it by hand to see where it waits",
        ) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise MeasurementFailed(
            f"shell_plus --print-sql failed: {last}",
            "check that django-extensions is installed (requirements.lock pins it)",
        )
    lines = [line for line in done.stdout.splitlines() if not line.startswith(("from ", "#"))]
    statements = sum(line.startswith(_STATEMENT_END) for line in lines)
    return statements, tuple(lines[:EXCERPT_LINES])


def measure_framework(context: Context, framework: str, settings: Settings) -> ListingRun:
    """Seed the lab tables, count the statements, then load both modes."""
    server = canonical_server(framework)
    with context.service(framework, server) as service:
        expect_ok("POST", service.url, "/_lab/purchases/seed")
        counts = {
            (mode, limit): _query_count(service.url, mode, limit)
            for mode in ("naive", "eager")
            for limit in (SMALL_LIMIT, LARGE_LIMIT)
        }
        throughput = {}
        for mode in ("naive", "eager"):
            context.say(f"n+1: {framework} {mode}")
            runs = []
            for _ in range(settings.repeats):
                path = f"/_lab/purchases?mode={mode}&limit={LARGE_LIMIT}"
                runs.append(load(context, service.url, path, CONNECTIONS, settings.duration_s))
                drain(service)
            runs.sort(key=lambda run: run.ok_rps)
            if not runs[0].ok:
                raise MeasurementFailed(
                    f"{framework} answered no /_lab/purchases?mode={mode} request with 2xx",
                    "check its output and its /_lab endpoints",
                )
            throughput[mode] = runs[len(runs) // 2]
        printed_small = printed_large = None
        excerpt: tuple[str, ...] = ()
        if framework == "django":
            context.say("n+1: django shell_plus --print-sql")
            printed_small, excerpt = print_sql(service, SMALL_LIMIT)
            printed_large, _ = print_sql(service, LARGE_LIMIT)
    return ListingRun(
        framework=framework,
        server=server,
        naive_small=counts["naive", SMALL_LIMIT],
        naive_large=counts["naive", LARGE_LIMIT],
        eager_small=counts["eager", SMALL_LIMIT],
        eager_large=counts["eager", LARGE_LIMIT],
        naive=throughput["naive"],
        eager=throughput["eager"],
        printed_small=printed_small,
        printed_large=printed_large,
        printed_excerpt=excerpt,
    )


class NPlusOne(Experiment[NPlusOneEvidence]):
    """Naive vs eager relation loading: statements per request and throughput."""

    name = "n-plus-one"
    # Across hosts it runs whole on the service host: Django's SQL log is read with
    # `manage.py shell_plus --print-sql` run in the checkout there, beside its database.
    whole_on_service_host = True
    title = "N+1 queries: naive vs eager relation loading"
    claims = (CLAIM,)
    setup = (
        f"GET /_lab/purchases?mode=naive|eager&limit=N (purchases with their merchant, 50 "
        f"merchants, 1,000 purchases) in each framework on its canonical server: statements "
        f"per request at N={SMALL_LIMIT} and N={LARGE_LIMIT} from the ORM's own "
        f"instrumentation, throughput at N={LARGE_LIMIT} with {CONNECTIONS} connections; on "
        f"Django, `manage.py shell_plus --print-sql` (django-extensions) run on the naive "
        f"listing at both N, its printed statements counted."
    )
    evidence_type = NPlusOneEvidence

    def plan(self, context: Context) -> Plan:
        settings = QUICK if context.quick else FULL
        per_framework = 5 + 2 * settings.repeats * (settings.duration_s + 1)
        return Plan(
            len(FRAMEWORKS) * per_framework,
            (
                f"{len(FRAMEWORKS)} frameworks x 2 modes: 4 counted requests, "
                f"{settings.repeats} x {settings.duration_s} s of load",
            ),
        )

    def run(self, context: Context) -> NPlusOneEvidence:
        settings = QUICK if context.quick else FULL
        runs = []
        failures = []
        for framework in FRAMEWORKS:
            try:
                runs.append(measure_framework(context, framework, settings))
            except FwbenchError as error:
                failures.append(f"{framework}: {error.problem}")
        return NPlusOneEvidence(tuple(runs), tuple(failures))

    def tables(self, evidence: NPlusOneEvidence) -> tuple[Table, ...]:
        return (
            Table(
                "Statements per request and throughput",
                (
                    "framework",
                    f"naive N={SMALL_LIMIT}",
                    f"naive N={LARGE_LIMIT}",
                    f"eager N={SMALL_LIMIT}",
                    f"eager N={LARGE_LIMIT}",
                    f"naive req/s N={LARGE_LIMIT}",
                    f"eager req/s N={LARGE_LIMIT}",
                    "eager / naive",
                    f"--print-sql naive N={SMALL_LIMIT} / {LARGE_LIMIT}",
                ),
                tuple(
                    (
                        f"{run.framework} {run.server}",
                        str(run.naive_small),
                        str(run.naive_large),
                        str(run.eager_small),
                        str(run.eager_large),
                        f"{run.naive.ok_rps:,.0f}",
                        f"{run.eager.ok_rps:,.0f}",
                        f"{run.eager.ok_rps / run.naive.ok_rps:.2f}x",
                        "-"
                        if run.printed_small is None
                        else f"{run.printed_small} / {run.printed_large}",
                    )
                    for run in evidence.runs
                ),
                "SQLAlchemy skips the lazy load of a merchant already in the session, so its "
                "naive listing costs 1 + distinct merchants statements; Django's costs 1 + N. "
                "--print-sql: statements `manage.py shell_plus --print-sql` printed (Django).",
            ),
            *(
                Table(
                    f"`manage.py shell_plus --print-sql`, naive listing of {SMALL_LIMIT}: "
                    "its first lines",
                    ("output",),
                    tuple((line,) for line in run.printed_excerpt),
                )
                for run in evidence.runs
                if run.printed_excerpt
            ),
            *failures_table(evidence.failures),
        )

    def verdicts(self, evidence: NPlusOneEvidence) -> tuple[Verdict, ...]:
        points = [run.rule_input() for run in evidence.runs]
        judged = [
            p.name
            for p, run in zip(points, evidence.runs, strict=True)
            if run.framework == "django"
        ]
        verdict = n_plus_one_rule(CLAIM, points, judged)
        return (noting(verdict, evidence.failures),)
