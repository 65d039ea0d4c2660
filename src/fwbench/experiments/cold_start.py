"""Experiment 5: cold start ("Django's cold start kills serverless deployments").

Each framework is spawned several times under its servers and timed from spawn to its
first 2xx ``/healthz`` and to its first 2xx domain request (``GET
/transactions?limit=1``, authenticated, through the ORM: what a serverless instance's
first caller waits for). Django is measured twice: as shipped (admin, auth, sessions,
messages, staticfiles installed) and with ``FWBENCH_DJANGO_MINIMAL=1``, which removes
those contrib apps. ``python -X importtime`` of each application module says where the
time goes.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import ColdStartInput, cold_start_rule
from fwbench.harness.errors import FwbenchError, ServiceStartFailed
from fwbench.harness.probes import (
    FIRST_REQUEST_PATH,
    IMPORT_SAMPLES,
    measure_import_time,
    time_first_answers,
)
from fwbench.harness.process import start_service

if TYPE_CHECKING:
    from fwbench.experiments._hosts import HostsSite

CLAIM: Final = "Django’s cold start kills serverless deployments"

#: ``FWBENCH_DJANGO_MINIMAL=1`` makes the Django settings drop the default contrib apps.
MINIMAL_ENV: Final = {"FWBENCH_DJANGO_MINIMAL": "1"}

#: (framework, server, minimal) measured in each mode.
QUICK_SETUPS: Final[tuple[tuple[str, str, bool], ...]] = (
    ("fastapi", "uvicorn", False),
    ("flask", "gunicorn-sync", False),
    ("django", "gunicorn-sync", False),
    ("django", "gunicorn-sync", True),
)
FULL_SETUPS: Final[tuple[tuple[str, str, bool], ...]] = (
    *QUICK_SETUPS,
    ("fastapi", "granian", False),
    ("flask", "granian", False),
    ("django", "granian", False),
    ("django", "granian", True),
    ("django", "uvicorn", False),
    ("django", "uvicorn", True),
)
QUICK_SPAWNS: Final = 3
FULL_SPAWNS: Final = 7
#: Seconds one spawn takes on the reference 2-core machine, for the plan.
SPAWN_ESTIMATE_S: Final = 2.5


@dataclass(frozen=True)
class ColdStartRun:
    """The spawns of one setup and the import time of its application module.

    Attributes:
        framework / server: what was spawned.
        minimal: Django without its default contrib apps.
        workers: worker processes (the server's documented rule).
        healthz_ms: per spawn, ms from spawn to the first 2xx ``/healthz``.
        first_request_ms: per spawn, ms from spawn to the first 2xx domain request.
        import_ms: ``-X importtime`` cumulative ms of the application module, per sample.
    """

    framework: str
    server: str
    minimal: bool
    workers: int
    healthz_ms: tuple[float, ...]
    first_request_ms: tuple[float, ...]
    import_ms: tuple[float, ...]

    @property
    def label(self) -> str:
        """e.g. ``django gunicorn-sync (minimal)``."""
        return f"{self.framework} {self.server}{' (minimal)' if self.minimal else ''}"

    @property
    def first_request(self) -> float:
        """Median ms to the first domain request."""
        return float(statistics.median(self.first_request_ms))


@dataclass(frozen=True)
class ColdStartEvidence:
    """Every setup's cold starts, and the setups that could not be measured."""

    runs: tuple[ColdStartRun, ...]
    failures: tuple[str, ...]


def cold_start_run(
    context: Context, framework: str, server: str, minimal: bool, spawns: int
) -> ColdStartRun:
    """Spawn a setup ``spawns`` times (after one unmeasured spawn that bootstraps the
    database and warms the disk cache, as a deployed image would have it) and time it.

    Each spawn is timed as ``fwbench run`` times it
    (:func:`~fwbench.harness.probes.time_first_answers`); the spawns are started here
    because the minimal Django needs extra environment and the first spawn bootstraps.
    Runs (and failures) are shared with the other experiments of the run.

    Raises:
        FwbenchError: the service did not start, or its first request failed.
    """
    if context.hosts is not None:
        # Across hosts only the article's table asks (this experiment runs whole on the
        # service host), for the canonical service: `fwbench probe start` times it there.
        assert not minimal, "the minimal variants run whole on the service host"
        hosts = context.hosts
        return context.measure_once(
            ("cold-start", framework, server, minimal, spawns),
            lambda: _spawn_on_host(hosts, framework, server, spawns),
        )
    return context.measure_once(
        ("cold-start", framework, server, minimal, spawns),
        lambda: _spawn(context, framework, server, minimal, spawns),
    )


def _spawn_on_host(hosts: HostsSite, framework: str, server: str, spawns: int) -> ColdStartRun:
    config, cold, imported = hosts.cold_starts(framework, server, spawns)
    return ColdStartRun(
        framework=framework,
        server=server,
        minimal=False,
        workers=config.workers,
        healthz_ms=cold.healthz_ms,
        first_request_ms=cold.first_request_ms,
        import_ms=tuple(us / 1000 for us in imported.samples_us),
    )


def _spawn(
    context: Context, framework: str, server: str, minimal: bool, spawns: int
) -> ColdStartRun:
    healthz: list[float] = []
    first: list[float] = []
    for spawn in range(spawns + 1):
        context.say(f"cold start: {framework} {server}{' minimal' if minimal else ''} {spawn}")
        with start_service(
            framework,
            port=context.port(),
            server=server,
            cores=context.service_cores,
            database_url=context.database,
            downstream_url=context.downstream_url(),
            extra_env=MINIMAL_ENV if minimal else None,
            cpus=context.placement.service_cpus,
            bootstrap=spawn == 0,
            wait=False,
            state_dir=context.state_dir,
        ) as service:
            ready_ms, done_ms = time_first_answers(service)
            if spawn:
                healthz.append(ready_ms)
                first.append(done_ms)
            config = service.config
            import_env = {**os.environ, **service.env}
    if config is None:
        raise ServiceStartFailed(f"{framework} started without a configuration", "report a bug")
    # A single import needs no shared metrics directory (and it was removed on stop).
    import_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    imported = measure_import_time(
        framework,
        config.app.partition(":")[0],
        import_env,
        samples=IMPORT_SAMPLES,
        cpus=context.placement.service_cpus,
    )
    return ColdStartRun(
        framework=framework,
        server=server,
        minimal=minimal,
        workers=config.workers,
        healthz_ms=tuple(healthz),
        first_request_ms=tuple(first),
        import_ms=tuple(us / 1000 for us in imported.samples_us),
    )


def spawns_for(context: Context) -> int:
    """Measured spawns per setup in this run's mode."""
    return QUICK_SPAWNS if context.quick else FULL_SPAWNS


class ColdStart(Experiment[ColdStartEvidence]):
    """Spawn-to-first-response per framework and server, Django with and without contrib."""

    name = "cold-start"
    # Across hosts it runs whole on the service host: cold starts and imports are the
    # host's own (no load), and its minimal variants need the checkout's environment there.
    whole_on_service_host = True
    title = "Cold start: spawn to first response"
    claims = (CLAIM,)
    setup = (
        "Each setup spawned repeatedly on the service CPUs (after one unmeasured spawn that "
        f"bootstraps its database), timed to its first 2xx /healthz and first 2xx "
        f"GET {FIRST_REQUEST_PATH}; Django also with FWBENCH_DJANGO_MINIMAL=1 (no admin, auth, "
        "sessions, messages, staticfiles). Import time from python -X importtime."
    )
    evidence_type = ColdStartEvidence

    def _setups(self, context: Context) -> tuple[tuple[str, str, bool], ...]:
        return QUICK_SETUPS if context.quick else FULL_SETUPS

    def plan(self, context: Context) -> Plan:
        setups = self._setups(context)
        spawns = spawns_for(context)
        missing = [s for s in setups if ("cold-start", *s, spawns) not in context.shared]
        return Plan(
            len(missing) * ((spawns + 1) * SPAWN_ESTIMATE_S + IMPORT_SAMPLES * 1.5),
            (
                f"{len(setups)} setups x {spawns} spawns (+1 unmeasured), "
                f"import time x {IMPORT_SAMPLES}",
            ),
        )

    def run(self, context: Context) -> ColdStartEvidence:
        spawns = spawns_for(context)
        runs = []
        failures = []
        for framework, server, minimal in self._setups(context):
            try:
                runs.append(cold_start_run(context, framework, server, minimal, spawns))
            except FwbenchError as error:
                label = f"{framework} {server}{' (minimal)' if minimal else ''}"
                failures.append(f"{label}: {error.problem}")
        return ColdStartEvidence(tuple(runs), tuple(failures))

    def tables(self, evidence: ColdStartEvidence) -> tuple[Table, ...]:
        def spread(values: tuple[float, ...]) -> str:
            return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"

        return (
            Table(
                "Cold start in ms: median (min-max)",
                (
                    "setup",
                    "workers",
                    "spawns",
                    "to /healthz",
                    "to first domain request",
                    "import time",
                ),
                tuple(
                    (
                        run.label,
                        str(run.workers),
                        str(len(run.healthz_ms)),
                        spread(run.healthz_ms),
                        spread(run.first_request_ms),
                        spread(run.import_ms),
                    )
                    for run in evidence.runs
                ),
                "import time: python -X importtime of the application module alone, in a fresh "
                "interpreter on the service CPUs.",
            ),
            *failures_table(evidence.failures),
        )

    def verdicts(self, evidence: ColdStartEvidence) -> tuple[Verdict, ...]:
        others = [run for run in evidence.runs if run.framework != "django"]
        if not others:
            raise ValueError("no other framework was measured to compare Django with")
        points = []
        for run in evidence.runs:
            if run.framework != "django":
                continue
            # The same server isolates the framework: gunicorn forking its workers costs
            # every framework the same. Without another framework on it, the fastest one.
            same = [other for other in others if other.server == run.server]
            reference = min(same or others, key=lambda other: other.first_request)
            points.append(
                ColdStartInput(
                    run.label, run.first_request, reference.label, reference.first_request
                )
            )
        return (noting(cold_start_rule(CLAIM, points), evidence.failures),)
