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
from dataclasses import dataclass
from typing import Any, Final

from fwbench.experiments._jsonable import Json, from_json, to_json
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict
from fwbench.harness.errors import FwbenchError
from fwbench.harness.results import Results

#: Version of the ``claims`` section of the results file (docs: ExperimentRecord).
CLAIMS_FORMAT: Final = 1


@dataclass(frozen=True)
class ExperimentRecord:
    """What one experiment produced.

    Attributes:
        name / title / claims / setup: copied from the experiment.
        plan: what it planned to measure, with its time budget.
        duration_s: the wall-clock seconds it took.
        evidence: the evidence as stored JSON (None when it failed before measuring).
        tables: the evidence as printed.
        verdicts: one per claim (empty when it failed).
        error: why it failed, one sentence; None when it succeeded.
    """

    name: str
    title: str
    claims: tuple[str, ...]
    setup: str
    plan: Plan
    duration_s: float
    evidence: Json
    tables: tuple[Table, ...]
    verdicts: tuple[Verdict, ...]
    error: str | None

    def to_json(self) -> dict[str, Json]:
        """The record as JSON values; the evidence is stored as measured."""
        data = to_json(self)
        assert isinstance(data, dict)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentRecord:
        """Rebuild a record written by :meth:`to_json`.

        Raises ``ValueError`` naming the field that does not fit."""
        return from_json(cls, data)


@dataclass(frozen=True)
class ClaimsReport:
    """The ``claims`` section of a results file: whether ``--quick`` was used, the
    records in run order, and the total wall-clock seconds."""

    quick: bool
    experiments: tuple[ExperimentRecord, ...]
    duration_s: float

    def to_json(self) -> dict[str, Json]:
        return {
            "format": CLAIMS_FORMAT,
            "quick": self.quick,
            "duration_s": self.duration_s,
            "experiments": [record.to_json() for record in self.experiments],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClaimsReport:
        """Rebuild the section; ``ValueError`` when it is another format or malformed."""
        if data.get("format") != CLAIMS_FORMAT:
            raise ValueError(f"claims section format {data.get('format')!r} is not {CLAIMS_FORMAT}")
        return cls(
            quick=bool(data["quick"]),
            experiments=tuple(ExperimentRecord.from_json(item) for item in data["experiments"]),
            duration_s=float(data["duration_s"]),
        )


def claims_report(results: Results) -> ClaimsReport | None:
    """The ``fwbench claims`` section of a results file, or None when it has none or it is
    in a format this fwbench does not read."""
    section = results.sections.get("claims")
    if not isinstance(section, dict):
        return None
    try:
        return ClaimsReport.from_json(section)
    except (ValueError, KeyError, TypeError):
        return None


def rejudge(experiment: Experiment[Any], record: ExperimentRecord) -> tuple[Verdict, ...]:
    """The verdicts ``experiment``'s rules give for the evidence stored in ``record``
    (e.g. one read from another machine's results file)."""
    evidence: Any = from_json(experiment.evidence_type, record.evidence)
    return experiment.verdicts(evidence)


def run_experiment(experiment: Experiment[Any], context: Context, plan: Plan) -> ExperimentRecord:
    """Run one experiment (planned as ``plan``) and judge its evidence.

    A user-facing error while measuring (a server that does not start, a database that
    cannot be reached, a lab endpoint that is missing) is recorded in the record, so one
    failing experiment does not lose the others; so is evidence too thin for a verdict.
    """
    started = time.monotonic()

    def record(
        evidence: Json, tables: tuple[Table, ...], verdicts: tuple[Verdict, ...], error: str | None
    ) -> ExperimentRecord:
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
        )

    try:
        evidence: Any = experiment.run(context)
    except FwbenchError as error:
        return record(None, (), (), str(error))
    tables = experiment.tables(evidence)
    try:
        verdicts = experiment.verdicts(evidence)
    except ValueError as error:
        return record(to_json(evidence), tables, (), f"no verdict: {error}")
    return record(to_json(evidence), tables, verdicts, None)


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
        record = run_experiment(experiment, context, plan)
        records.append(record)
        on_done(record)
    return ClaimsReport(context.quick, tuple(records), time.monotonic() - started)
