"""Experiment 9: the article's table (requests/s for I/O, memory, cold start).

The same three columns, measured here: ``/io`` throughput at ``fwbench run``'s io point,
the whole service's memory (PSS) under that load, and the cold start to the first
domain request, each framework on its canonical server and, as a second configuration,
all three on the same server (granian, which serves every one of them). Absolute values
depend on the machine; the verdicts compare what carries over: the ranking and the
ratios between frameworks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fwbench.experiments._measure import (
    IO_CONNECTIONS,
    IO_LATENCY_MS,
    PSS_BETWEEN_RUNS,
    IoSetup,
    pss_figure,
)
from fwbench.experiments._sessions import io_session, sessions_budget
from fwbench.experiments.cold_start import SPAWN_ESTIMATE_S, cold_start_run, spawns_for
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import TIE_MARGIN, table_ranking_rule, table_ratio_rule
from fwbench.harness.article import ARTICLE
from fwbench.harness.errors import FwbenchError
from fwbench.harness.probes import IMPORT_SAMPLES
from fwbench.harness.servers import FRAMEWORK_NAMES, FRAMEWORKS, canonical_server

#: The article's table, per framework: requests/s (I/O), memory (MB), cold start (ms).
#: (The published table itself lives in :data:`fwbench.harness.article.ARTICLE`.)
ARTICLE_RPS: Final = {FRAMEWORK_NAMES[f]: float(a.rps) for f, a in ARTICLE.items()}
ARTICLE_MB: Final = {FRAMEWORK_NAMES[f]: float(a.memory_mb) for f, a in ARTICLE.items()}
ARTICLE_MS: Final = {FRAMEWORK_NAMES[f]: float(a.cold_start_ms) for f, a in ARTICLE.items()}

RPS_CLAIM: Final = "Requests/sec (I/O): FastAPI 12,000, Flask 4,500, Django 2,800"
MB_CLAIM: Final = "Memory (MB): FastAPI 90, Flask 120, Django 310"
MS_CLAIM: Final = "Cold Start (ms): FastAPI 300, Flask 150, Django 1200"
#: Each column is two findings with a verdict each: the ranking, and the ratios.
RANKING: Final = " (ranking)"
RATIOS: Final = " (ratios)"

CANONICAL: Final = "canonical servers"
SAME_SERVER: Final = "all on granian"


#: Configuration name -> framework -> server.
CONFIGURATIONS: Final[dict[str, dict[str, str]]] = {
    CANONICAL: {framework: canonical_server(framework) for framework in FRAMEWORKS},
    SAME_SERVER: dict.fromkeys(FRAMEWORKS, "granian"),
}


def _cold_configurations(context: Context) -> tuple[str, ...]:
    """The configurations whose cold starts are measured (``--quick``: canonical only)."""
    return (CANONICAL,) if context.quick else (CANONICAL, SAME_SERVER)


@dataclass(frozen=True)
class TableEntry:
    """One framework in one configuration: ``rps`` 2xx requests/s of ``/io`` (median
    repeat; ``rps_repeats`` every repeat), ``memory_mb`` the service's PSS under that
    load (steady median; ``memory_peak_mb`` the largest sample, None when not kept),
    ``cold_start_ms`` the median spawn-to-first-domain-request (``cold_start_repeats``
    every spawn; None and empty when not measured in that configuration). MB = 10^6 bytes.
    """

    configuration: str
    framework: str
    server: str
    workers: int
    rps: float
    memory_mb: float
    cold_start_ms: float | None
    # Defaults: evidence recorded before the repeats were kept (the shipped reference
    # claims) has only the medians, which then stand alone.
    rps_repeats: tuple[float, ...] = ()
    memory_peak_mb: float | None = None
    cold_start_repeats: tuple[float, ...] = ()

    def rps_range(self) -> tuple[float, ...]:
        """The throughput as repeats (the median alone when they were not kept)."""
        return self.rps_repeats or (self.rps,)

    def memory_range(self) -> tuple[float, ...]:
        """The memory figure as repeats: the low end, the steady median and the high end of
        :func:`~fwbench.experiments._measure.pss_figure` (what it moves between runs, and
        the peak when known)."""
        figure = pss_figure(self.memory_mb, self.memory_peak_mb)
        return (figure.low, figure.value, figure.high)

    def cold_start_range(self) -> tuple[float, ...]:
        """The cold start as repeats (the median alone when they were not kept; empty when
        not measured)."""
        if self.cold_start_repeats or self.cold_start_ms is None:
            return self.cold_start_repeats
        return (self.cold_start_ms,)


@dataclass(frozen=True)
class ArticleTableEvidence:
    """The entries, those that could not be measured, and the io point the throughput was
    measured at."""

    latency_ms: int
    connections: int
    entries: tuple[TableEntry, ...]
    failures: tuple[str, ...]


def column(
    evidence: ArticleTableEvidence, values: Callable[[TableEntry], tuple[float, ...]]
) -> dict[str, dict[str, tuple[float, ...]]]:
    """Configuration -> framework name -> ``values(entry)`` (its repeats), for the
    configurations where every framework has some."""
    result: dict[str, dict[str, tuple[float, ...]]] = {}
    for configuration in dict.fromkeys(entry.configuration for entry in evidence.entries):
        found = {
            FRAMEWORK_NAMES[entry.framework]: values(entry)
            for entry in evidence.entries
            if entry.configuration == configuration
        }
        if len(found) == len(FRAMEWORK_NAMES) and all(found.values()):
            result[configuration] = found
    return result


class ArticleTable(Experiment[ArticleTableEvidence]):
    """The article's three columns, measured, with ranking and ratios compared."""

    name = "article-table"
    title = "The article's table, measured"
    claims = tuple(
        claim + finding
        for claim in (RPS_CLAIM, MB_CLAIM, MS_CLAIM)
        for finding in (RANKING, RATIOS)
    )
    setup = (
        f"/io?ms={IO_LATENCY_MS} throughput at {IO_CONNECTIONS} connections, the service's PSS "
        "under that load, and the median cold start to the first domain request, for each "
        "framework on its canonical server and all three on granian (cold starts on granian "
        "in the full run only). Reuses what the other experiments measured in this run."
    )
    evidence_type = ArticleTableEvidence

    def plan(self, context: Context) -> Plan:
        setups = tuple(
            IoSetup(framework, server)
            for servers in CONFIGURATIONS.values()
            for framework, server in servers.items()
        )
        spawns = spawns_for(context)
        cold = [
            (framework, server, False, spawns)
            for name in _cold_configurations(context)
            for framework, server in CONFIGURATIONS[name].items()
        ]
        missing = [key for key in cold if ("cold-start", *key) not in context.shared]
        cold_s = len(missing) * ((spawns + 1) * SPAWN_ESTIMATE_S + IMPORT_SAMPLES * 1.5)
        return Plan(
            sessions_budget(context, setups) + cold_s,
            ("io sessions and cold starts not measured yet by the other experiments",),
        )

    def run(self, context: Context) -> ArticleTableEvidence:
        entries = []
        failures = []
        cold_configurations = _cold_configurations(context)
        for name, servers in CONFIGURATIONS.items():
            for framework, server in servers.items():
                try:
                    session = io_session(context, IoSetup(framework, server))
                    point = session.at(IO_LATENCY_MS, IO_CONNECTIONS)
                    cold = None
                    if name in cold_configurations:
                        spawns = spawns_for(context)
                        cold = cold_start_run(context, framework, server, False, spawns)
                except FwbenchError as error:
                    failures.append(f"{framework} {server} ({name}): {error.problem}")
                    continue
                entries.append(
                    TableEntry(
                        configuration=name,
                        framework=framework,
                        server=session.server,
                        workers=session.workers,
                        rps=point.load.ok_rps,
                        rps_repeats=point.repeats_ok_rps,
                        memory_mb=session.loaded.total_pss_mb,
                        memory_peak_mb=session.loaded.total_pss_peak_mb,
                        cold_start_ms=None if cold is None else cold.first_request,
                        cold_start_repeats=() if cold is None else cold.first_request_ms,
                    )
                )
        return ArticleTableEvidence(IO_LATENCY_MS, IO_CONNECTIONS, tuple(entries), tuple(failures))

    def tables(self, evidence: ArticleTableEvidence) -> tuple[Table, ...]:
        rows = []
        for entry in evidence.entries:
            name = FRAMEWORK_NAMES[entry.framework]
            cold = "-" if entry.cold_start_ms is None else f"{entry.cold_start_ms:,.0f}"
            rows.append(
                (
                    f"{name} ({entry.configuration})",
                    f"{entry.server} x{entry.workers}",
                    f"{entry.rps:,.0f}",
                    f"{ARTICLE_RPS[name]:,.0f}",
                    f"{entry.memory_mb:,.0f}",
                    f"{ARTICLE_MB[name]:,.0f}",
                    cold,
                    f"{ARTICLE_MS[name]:,.0f}",
                )
            )
        return (
            Table(
                "Measured here vs the article",
                (
                    "framework",
                    "server x workers",
                    "req/s (I/O)",
                    "article",
                    "memory MB",
                    "article",
                    "cold start ms",
                    "article",
                ),
                tuple(rows),
                f"req/s: 2xx responses of GET /io?ms={evidence.latency_ms} at "
                f"{evidence.connections} connections; memory: whole-service PSS under that "
                f"load (MB = 10^6 bytes; judged as ranging {PSS_BETWEEN_RUNS:.0%} either side, "
                "what it moves between runs); cold start: median spawn to first 2xx domain "
                "request.",
            ),
            *failures_table(evidence.failures),
        )

    def verdicts(self, evidence: ArticleTableEvidence) -> tuple[Verdict, ...]:
        # Throughput and cold start drift between runs by more than their repeats spread,
        # so their medians need TIE_MARGIN to be told apart; a memory figure already ranges
        # what PSS moves between runs (pss_figure), so no margin is added on top.
        columns = (
            (RPS_CLAIM, TableEntry.rps_range, ARTICLE_RPS, "throughput", True, TIE_MARGIN),
            (MB_CLAIM, TableEntry.memory_range, ARTICLE_MB, "memory", False, 0.0),
            (MS_CLAIM, TableEntry.cold_start_range, ARTICLE_MS, "cold start", False, TIE_MARGIN),
        )
        verdicts = []
        for claim, values, article, what, higher_first, margin in columns:
            measured = column(evidence, values)
            verdicts += [
                table_ranking_rule(claim + RANKING, measured, article, what, higher_first, margin),
                table_ratio_rule(claim + RATIOS, measured, article, what),
            ]
        return tuple(noting(verdict, evidence.failures) for verdict in verdicts)
