"""Every experiment of ``fwbench claims``, in run order, and selection by name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from fwbench.experiments.article_table import ArticleTable
from fwbench.experiments.blocking_async import BlockingAsync
from fwbench.experiments.cold_start import ColdStart
from fwbench.experiments.footprint import Footprint
from fwbench.experiments.httpx_tip import HttpxTip
from fwbench.experiments.io_ratio import IoRatio
from fwbench.experiments.memory import Memory
from fwbench.experiments.model import Experiment
from fwbench.experiments.n_plus_one import NPlusOne
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
