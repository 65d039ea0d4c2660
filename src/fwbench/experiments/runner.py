"""Run experiments one after the other and record each outcome.

Each experiment becomes an :class:`ExperimentRecord`: its claims, setup and plan, the
evidence it measured (as stored JSON), the printed tables, the verdicts, how long it
took against its budget, or the one-sentence error that stopped it. The records of a
``fwbench claims`` run form a :class:`ClaimsReport`, stored in the results file under
``sections["claims"]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Final

from pydantic import AfterValidator, Field
from pydantic.dataclasses import dataclass

from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict
from fwbench.harness.documents import RECORD, Items, Json, dump, load
from fwbench.harness.errors import FwbenchError
from fwbench.harness.results import Results

#: Version of the ``claims`` section of the results file; a section of a newer version is
#: not read, an older one is read as this one. History:
#:   1 - fwbench 0.1.0: first format.
#:   2 - fwbench 0.1.0: ``experiments[].ran_on``, the service host an experiment ran whole
#:       on (``fwbench claims --hosts``); optional, null "as before", so a format-1
#:       section reads unchanged.
CLAIMS_FORMAT: Final = 2


def _claims_format(version: int) -> int:
    if not 1 <= version <= CLAIMS_FORMAT:
        raise ValueError(f"claims section format {version} is not 1 to {CLAIMS_FORMAT}")
    return CLAIMS_FORMAT


@dataclass(frozen=True, config=RECORD)
class ExperimentRecord:
    """What one experiment produced."""

    name: str
    """The experiment (``fwbench claims --list``)."""
    title: str
    """Its one-line title."""
    claims: Items[str]
    """The article's sentences it tests, verbatim."""
    setup: str
    """What was measured and how."""
    plan: Plan
    """The time budget and the steps announced before running."""
    duration_s: float
    """The wall-clock seconds it took."""
    evidence: Json
    """The raw measurements, as the experiment's evidence dataclass serialises them
    (null when it failed before measuring); :func:`rejudge` applies the rules to it again."""
    tables: Items[Table]
    """The evidence as printed."""
    verdicts: Items[Verdict]
    """One per claim (empty when it failed): ``outcome`` is ``supported``,
    ``contradicted`` or ``depends on configuration``, ``rule`` the written rule with its
    thresholds, ``findings`` one line per configuration with the numbers the rule read."""
    error: str | None
    """Why it could not finish, one sentence; null when it succeeded."""
    ran_on: str | None = None
    """The service host it ran whole on, services and wrk on that host's own CPUs
    (``fwbench claims --hosts``, an experiment that reads the service's processes); null:
    where the results file's ``topology`` says (this machine without one)."""


@dataclass(frozen=True, config=RECORD)
class ClaimsReport:
    """The ``claims`` section of a results file (``sections.claims``): whether ``--quick``
    was used, the records in run order, and the total wall-clock seconds. Read it with
    ``fwbench.harness.documents.load(ClaimsReport, section)``."""

    quick: bool
    """Whether ``--quick`` was used."""
    experiments: Items[ExperimentRecord]
    """One record per experiment, in run order."""
    duration_s: float
    """Wall-clock seconds of all experiments."""
    format: Annotated[
        int, AfterValidator(_claims_format), Field(json_schema_extra={"const": CLAIMS_FORMAT})
    ] = CLAIMS_FORMAT
    """The section's own version (``CLAIMS_FORMAT``), so the experiments can change without
    a new results schema."""


def claims_report(results: Results) -> ClaimsReport | None:
    """The ``fwbench claims`` section of a results file, or None when it has none or it is
    in a format this fwbench does not read."""
    section = results.sections.get("claims")
    if not isinstance(section, dict):
        return None
    try:
        return load(ClaimsReport, section)
    except ValueError:
        return None


def rejudge(experiment: Experiment[Any], record: ExperimentRecord) -> tuple[Verdict, ...]:
    """The verdicts ``experiment``'s rules give for the evidence stored in ``record``
    (e.g. one read from another machine's results file)."""
    evidence: Any = load(experiment.evidence_type, record.evidence)
    return experiment.verdicts(evidence)


def _record(
    experiment: Experiment[Any],
    plan: Plan,
    started: float,
    evidence: Json,
    tables: tuple[Table, ...],
    verdicts: tuple[Verdict, ...],
    error: str | None,
    ran_on: str | None = None,
) -> ExperimentRecord:
    """The record of ``experiment``, planned as ``plan`` and started at ``started``
    (``time.monotonic()``), ending now."""
    return ExperimentRecord(
        name=experiment.name,
        title=experiment.title,
        claims=experiment.claims,
        setup=experiment.setup,
        plan=plan,
        duration_s=time.monotonic() - started,
        evidence=evidence,
        tables=tables,
        verdicts=verdicts,
        error=error,
        ran_on=ran_on,
    )


def run_experiment(experiment: Experiment[Any], context: Context, plan: Plan) -> ExperimentRecord:
    """Run one experiment (planned as ``plan``) and judge its evidence.

    A user-facing error while measuring (a server that does not start, a database that
    cannot be reached, a lab endpoint that is missing) is recorded in the record, so one
    failing experiment does not lose the others; so is evidence too thin for a verdict.
    """
    started = time.monotonic()
    try:
        evidence: Any = experiment.run(context)
    except FwbenchError as error:
        return _record(experiment, plan, started, None, (), (), str(error))
    tables = experiment.tables(evidence)
    try:
        verdicts = experiment.verdicts(evidence)
    except ValueError as error:
        return _record(
            experiment, plan, started, dump(evidence), tables, (), f"no verdict: {error}"
        )
    return _record(experiment, plan, started, dump(evidence), tables, verdicts, None)


def _run_whole(experiment: Experiment[Any], context: Context, plan: Plan) -> ExperimentRecord:
    """Run ``experiment`` whole on the service host of ``context``'s hosts; a failure
    there is recorded as a local one is."""
    hosts = context.hosts
    assert hosts is not None, "only across hosts"
    started = time.monotonic()
    try:
        return hosts.run_whole(experiment, plan, context.quick)
    except FwbenchError as error:
        return _record(experiment, plan, started, None, (), (), str(error), hosts.host.url)


def run_experiments(
    experiments: Sequence[Experiment[Any]],
    context: Context,
    *,
    on_start: Callable[[Experiment[Any], Plan], None] = lambda experiment, plan: None,
    on_done: Callable[[ExperimentRecord], None] = lambda record: None,
) -> ClaimsReport:
    """Run ``experiments`` in order.

    Args:
        experiments: what to run.
        context: the environment they run in.
        on_start: called before each experiment with its plan (to print it).
        on_done: called with each record as soon as it exists (to print and save it, so
            an interruption keeps what was measured).
    """
    started = time.monotonic()
    records = []
    for experiment in experiments:
        plan = experiment.plan(context)
        on_start(experiment, plan)
        if context.hosts is not None and experiment.whole_on_service_host:
            record = _run_whole(experiment, context, plan)
        else:
            record = run_experiment(experiment, context, plan)
        records.append(record)
        on_done(record)
    return ClaimsReport(context.quick, tuple(records), time.monotonic() - started)
