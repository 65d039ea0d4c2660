"""Every experiment of ``fwbench claims``, in run order, and selection by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Final

from fwbench.experiments.article_table import ArticleTable
from fwbench.experiments.blocking_async import BlockingAsync
from fwbench.experiments.cold_start import ColdStart
from fwbench.experiments.footprint import Footprint
from fwbench.experiments.httpx_tip import HttpxTip
from fwbench.experiments.io_ratio import IoRatio
from fwbench.experiments.memory import Memory
from fwbench.experiments.model import Experiment, Outcome, Verdict
from fwbench.experiments.n_plus_one import NPlusOne
from fwbench.experiments.runner import ClaimsReport, rejudge
from fwbench.experiments.thread_pools import ThreadPools
from fwbench.experiments.unbounded_reads import UnboundedReads
from fwbench.harness.errors import InvalidOption

#: The experiments, in the order ``fwbench claims`` runs them: the article's order, with
#: the experiments that share io sessions (thread pools, I/O ratio, httpx tip, memory)
#: together, and the article's table last because it reuses what the others measured.
EXPERIMENTS: Final[tuple[Experiment[Any], ...]] = (
    BlockingAsync(),
    ThreadPools(),
    IoRatio(),
    HttpxTip(),
    Memory(),
    ColdStart(),
    UnboundedReads(),
    NPlusOne(),
    Footprint(),
    ArticleTable(),
)


def select(names: Iterable[str] = ()) -> list[Experiment[Any]]:
    """The experiments named (all of them when ``names`` is empty), in run order.

    Raises:
        InvalidOption: a name that is not an experiment.
    """
    wanted = list(dict.fromkeys(names))
    known = {experiment.name: experiment for experiment in EXPERIMENTS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InvalidOption(
            f"unknown experiment {', '.join(repr(name) for name in unknown)}",
            f"use one of: {', '.join(known)}",
        )
    return [experiment for experiment in EXPERIMENTS if not wanted or experiment.name in wanted]


def judged_by_these_rules(report: ClaimsReport) -> tuple[ClaimsReport, tuple[str, ...]]:
    """``report`` with every record's verdicts given again by this fwbench's rules for the
    evidence it stored, and the names of the experiments where that changed an outcome.

    The rules improve between versions while a results file keeps its numbers, so the
    verdicts of an older file are brought up to date on reading, as pyperf upgrades an
    older file on load; advice and reports then agree with what ``fwbench claims`` says of
    the same numbers today. A record without evidence (a failed experiment), of an
    experiment this fwbench does not have, or whose evidence it cannot read, keeps its
    stored verdicts.
    """
    by_name = {experiment.name: experiment for experiment in EXPERIMENTS}
    records = []
    changed = []
    for record in report.experiments:
        experiment = by_name.get(record.name)
        if experiment is None or record.evidence is None:
            records.append(record)
            continue
        try:
            verdicts = rejudge(experiment, record)
        except ValueError:  # evidence of a shape this version no longer reads
            records.append(record)
            continue
        if _outcomes(verdicts) != _outcomes(record.verdicts):
            changed.append(record.name)
        records.append(replace(record, verdicts=verdicts))
    return replace(report, experiments=tuple(records)), tuple(changed)


def rejudged_sentence(names: Iterable[str]) -> str:
    """The sentence that tells a reader which experiments' verdicts
    :func:`judged_by_these_rules` changed."""
    return (
        "The claims verdicts are this fwbench's rules applied to the stored numbers; they "
        f"differ from the verdicts stored for {', '.join(names)}."
    )


def _outcomes(verdicts: tuple[Verdict, ...]) -> list[tuple[str, Outcome]]:
    """What a reader takes from verdicts: each claim's outcome (not the wording)."""
    return [(verdict.claim, verdict.outcome) for verdict in verdicts]
