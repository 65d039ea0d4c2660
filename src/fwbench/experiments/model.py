"""The experiment model: a claim of the article, the setup that tests it, the evidence it
measures, and the verdict a written rule draws from that evidence.

An experiment never decides a verdict from a literal: :meth:`Experiment.run` measures and
returns an evidence object (frozen dataclasses of numbers, stored in the results file),
and :meth:`Experiment.verdicts` is a pure function of that evidence, so the same verdict
can be recomputed from a results file written on another machine.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

if TYPE_CHECKING:
    from fwbench.experiments.context import Context


class Outcome(enum.StrEnum):
    """What the measurements say about a claim."""

    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    DEPENDS = "depends on configuration"
    #: The measurement does not clear the rule's threshold by more than its own spread.
    INCONCLUSIVE = "inconclusive here"


@dataclass(frozen=True)
class Verdict:
    """The judgement of one claim.

    ``claim`` is the article's sentence, quoted verbatim; ``rule`` the written rule (with
    its thresholds) that produced ``outcome``; ``condition`` one sentence saying why, and
    for :attr:`Outcome.DEPENDS` which configurations the claim holds in and which not;
    ``findings`` one line per configuration judged, with the numbers the rule read.
    """

    claim: str
    outcome: Outcome
    rule: str
    condition: str
    findings: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table as printed or rendered (claims evidence, report tables): formatted cells, a
    title and an optional note."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def failures_table(failures: tuple[str, ...]) -> tuple[Table, ...]:
    """A table of the configurations that could not be measured (none when all were)."""
    if not failures:
        return ()
    return (
        Table("Not measured", ("configuration: what went wrong",), tuple((f,) for f in failures)),
    )


def noting(verdict: Verdict, failures: tuple[str, ...]) -> Verdict:
    """``verdict`` with a finding for each configuration that could not be measured, and
    its condition saying so: the rule judged the others only."""
    if not failures:
        return verdict
    notes = tuple(f"not measured, so not judged: {failure}" for failure in failures)
    condition = (
        f"{verdict.condition} (on incomplete evidence: {len(failures)} "
        f"configuration{'s' if len(failures) > 1 else ''} not measured)"
    )
    return replace(verdict, condition=condition, findings=(*verdict.findings, *notes))


@dataclass(frozen=True)
class Plan:
    """What an experiment will measure in a given mode and the time it is expected to take.

    ``budget_s`` is the planned wall-clock time in seconds on a 2-core machine, printed
    before the experiment starts and compared with the real duration afterwards."""

    budget_s: float
    steps: tuple[str, ...]


E = TypeVar("E")


class Experiment(ABC, Generic[E]):
    """A named, self-describing test of one or more claims of the article.

    Subclasses set the class attributes and implement the four methods; the evidence
    type ``E`` is a frozen dataclass that :func:`fwbench.harness.documents.dump` can store.
    """

    #: Short identifier used by ``fwbench claims --only NAME``.
    name: ClassVar[str]
    #: One-line title printed above the experiment.
    title: ClassVar[str]
    #: The claims this experiment judges, quoted verbatim from the article, in the order
    #: :meth:`verdicts` returns their verdicts.
    claims: ClassVar[tuple[str, ...]]
    #: How the experiment tests the claims, in prose.
    setup: ClassVar[str]
    #: The class of the evidence :meth:`run` returns, to rebuild it from a results file.
    evidence_type: ClassVar[type]
    #: Across hosts (``fwbench claims --hosts``): True runs it whole on the service host,
    #: for an experiment that reads the service's processes or runs its code there (its
    #: per-worker peak memory, its event loop's lag, its imports, its SQL log), which the
    #: load hosts cannot; False (default) starts its services on the service host and
    #: loads them from the load hosts.
    whole_on_service_host: ClassVar[bool] = False

    @abstractmethod
    def plan(self, context: Context) -> Plan:
        """What :meth:`run` will measure in ``context`` (its mode, and what earlier
        experiments of the run already measured and this one will reuse)."""

    @abstractmethod
    def run(self, context: Context) -> E:
        """Measure, and return the evidence. Every server it starts is stopped on return."""

    @abstractmethod
    def tables(self, evidence: E) -> tuple[Table, ...]:
        """The evidence formatted for printing."""

    @abstractmethod
    def verdicts(self, evidence: E) -> tuple[Verdict, ...]:
        """One verdict per claim of :attr:`claims`, computed from ``evidence`` alone."""
