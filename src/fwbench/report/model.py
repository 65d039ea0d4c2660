"""What the report shows, computed once from a results file for both the HTML and the
Markdown templates: the article's table beside the measured one, the charts, the claims,
the machine and the commands to reproduce; or, from a ``fwbench fairness`` document, what
the contract's extras cost each framework."""

from __future__ import annotations

import shlex
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fwbench.experiments.model import Table
from fwbench.experiments.registry import judged_by_these_rules, rejudged_sentence
from fwbench.experiments.runner import ClaimsReport, claims_report
from fwbench.harness.article import ARTICLE, MB, heaviest_memory, measured_row, scenario_points
from fwbench.harness.fairness import (
    CellKind,
    Fairness,
    VariantService,
    fairness_cells,
    legend,
    reading,
)
from fwbench.harness.results import Machine, Placement, Point, Results, RunConfig, ServiceRun
from fwbench.harness.scenarios import SCENARIOS
from fwbench.harness.servers import FRAMEWORK_NAMES, server_name
from fwbench.report.svg import (
    Bar,
    RangeRow,
    Series,
    bar_chart,
    color_for,
    line_chart,
    range_chart,
)

_PERCENTILES = (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p99.9", "p99_9"))


def pair_label(framework: str, server: str) -> str:
    """e.g. ``Flask · gunicorn gthread``."""
    return f"{FRAMEWORK_NAMES.get(framework, framework)} \u00b7 {server_name(server)}"


@dataclass(frozen=True)
class ArticleRow:
    """One framework: the article's figures and the measured ones (None: not measured),
    with the server configuration the measured figures come from."""

    framework: str
    name: str
    color: str
    configuration: str
    article_rps: int
    measured_rps: float | None
    article_mb: int
    measured_mb: float | None
    article_cold_ms: int
    measured_cold_ms: float | None


@dataclass(frozen=True)
class Chart:
    """A titled SVG chart with a caption explaining how to read it."""

    svg: str
    caption: str


@dataclass(frozen=True)
class Verdict:
    """A claim with its verdict, as shown."""

    claim: str
    outcome: str
    condition: str
    rule: str
    findings: tuple[str, ...]


@dataclass(frozen=True)
class Experiment:
    """One claims experiment as shown: its verdicts and evidence tables, or its error."""

    name: str
    title: str
    setup: str
    verdicts: tuple[Verdict, ...]
    tables: tuple[Table, ...]
    error: str | None


@dataclass(frozen=True)
class Report:
    """Everything the templates render."""

    title: str
    source: str
    status: str
    started_at: str
    finished_at: str
    article: tuple[ArticleRow, ...]
    article_scenario: str
    throughput: tuple[Chart, ...]
    latency: tuple[Chart, ...]
    memory: Chart | None
    memory_table: Table | None
    cold_start: Chart | None
    cold_start_table: Table | None
    throughput_tables: tuple[Table, ...]
    experiments: tuple[Experiment, ...]
    warnings: tuple[str, ...]
    machine: tuple[tuple[str, str], ...]
    packages: tuple[tuple[str, str], ...]
    settings: tuple[tuple[str, str], ...]
    commands: tuple[tuple[str, str], ...]
    servers: tuple[tuple[str, str, str], ...]


def _pairs(results: Results) -> list[tuple[str, str]]:
    return list(dict.fromkeys((s.framework, s.server) for s in results.services))


def _valid(results: Results, framework: str, server: str, scenario: str) -> list[Point]:
    return [p for p in scenario_points(results, framework, server, scenario) if p.valid]


def _article(results: Results) -> tuple[tuple[ArticleRow, ...], str]:
    """Per framework, its canonical (first measured) server, measured by the one rule of
    :mod:`fwbench.harness.article` (valid points only)."""
    scenario = "io" if "io" in results.config.scenarios else results.config.scenarios[0]
    rows = []
    for framework, article in ARTICLE.items():
        name, color = FRAMEWORK_NAMES[framework], color_for(framework)
        service = next((s for s in _unique_services(results) if s.framework == framework), None)
        if service is None:
            rows.append(
                ArticleRow(framework, name, color, "not measured", article.rps, None,
                           article.memory_mb, None, article.cold_start_ms, None)
            )  # fmt: skip
            continue
        measured = measured_row(results, framework, service.server, scenario)
        threads = f" x {service.threads} threads" if service.threads else ""
        rows.append(
            ArticleRow(
                framework=framework,
                name=name,
                color=color,
                configuration=f"{server_name(service.server)}, {service.workers} "
                f"worker{'s' if service.workers > 1 else ''}{threads}",
                article_rps=article.rps,
                measured_rps=measured.rps,
                article_mb=article.memory_mb,
                measured_mb=measured.memory_mb,
                article_cold_ms=article.cold_start_ms,
                measured_cold_ms=measured.cold_start_ms,
            )
        )
    return tuple(rows), scenario


def _scenario_title(results: Results, scenario: str) -> str:
    if scenario == "io":
        return f"/io ({results.config.downstream_latency_ms} ms downstream)"
    return SCENARIOS[scenario].path or scenario


def _throughput(results: Results) -> tuple[tuple[Chart, ...], tuple[Table, ...]]:
    charts, tables = [], []
    for scenario in results.config.scenarios:
        series, rows = [], []
        for framework, server in _pairs(results):
            points = _valid(results, framework, server, scenario)
            if not points:
                continue
            series.append(
                Series(
                    pair_label(framework, server), framework, server,
                    tuple((p.connections, p.throughput.median, p.throughput.min,
                           p.throughput.max) for p in points),
                )
            )  # fmt: skip
            for p in points:
                cv = f"{p.throughput.cv:.1%}" if p.throughput.cv is not None else "-"
                spread = f"{p.throughput.min:,.0f}-{p.throughput.max:,.0f}"
                rows.append(
                    (pair_label(framework, server), str(p.connections),
                     f"{p.throughput.median:,.0f}", spread, cv,
                     f"{p.latency_p50_us.median / 1000:,.1f}",
                     f"{p.latency_p99_us.median / 1000:,.1f}")
                )  # fmt: skip
        if not series:
            continue
        title = f"Throughput vs concurrency: {_scenario_title(results, scenario)}"
        charts.append(
            Chart(
                line_chart(series, title=title, x_label="wrk connections (log scale)",
                           y_label="requests per second (median)"),
                "Median of the repeats; whiskers span min to max. Colour = framework, "
                "dash and marker = server.",
            )
        )  # fmt: skip
        tables.append(
            Table(
                title,
                ("configuration", "connections", "req/s (median)", "range", "CV",
                 "p50 ms", "p99 ms"),
                tuple(rows),
            )
        )  # fmt: skip
    return tuple(charts), tuple(tables)


def _latency(results: Results) -> tuple[Chart, ...]:
    charts = []
    for scenario in results.config.scenarios:
        rows, level = [], 0
        for framework, server in _pairs(results):
            points = _valid(results, framework, server, scenario)
            if not points:
                continue
            point = points[-1]
            level = max(level, point.connections)
            values = tuple(
                (name, statistics.median(getattr(s.latency_us, key) for s in point.repeats) / 1000)
                for name, key in _PERCENTILES
            )
            rows.append(RangeRow(f"{pair_label(framework, server)} ({point.connections})",
                                 framework, values))  # fmt: skip
        if rows:
            title = f"Latency percentiles: {_scenario_title(results, scenario)}"
            charts.append(
                Chart(
                    range_chart(rows, title=title, x_label="latency in milliseconds (log scale)"),
                    "At the highest concurrency measured for each configuration (in "
                    "brackets); median of each percentile over the repeats.",
                )
            )
    return tuple(charts)


def _memory(results: Results) -> tuple[Chart | None, Table | None]:
    bars, rows = [], []
    for framework, server in _pairs(results):
        point = heaviest_memory(results, framework, server)
        if point is None or point.memory is None:
            continue
        memory = point.memory
        master = sum(p.steady.pss for p in memory.processes if p.role == "master") / MB
        workers = sum(p.steady.pss for p in memory.serving) / MB
        per_worker = memory.per_worker
        label = pair_label(framework, server)
        bars.append(
            Bar(label, framework, ((workers, "workers (PSS)"), (master, "master (PSS)")),
                note=f"{memory.steady.pss / MB:,.0f} MB, {len(memory.serving)} x "
                f"{per_worker.pss / MB:,.0f} MB")
        )  # fmt: skip
        rows.append(
            (label, str(len(memory.serving)), f"{per_worker.pss / MB:,.1f}",
             f"{per_worker.uss / MB:,.1f}", f"{per_worker.rss / MB:,.1f}",
             f"{memory.steady.pss / MB:,.1f}", f"{memory.steady.rss / MB:,.1f}",
             f"{memory.peak.pss / MB:,.1f}", f"{point.scenario} @ {point.connections}")
        )  # fmt: skip
    if not bars:
        return None, None
    chart = Chart(
        bar_chart(bars, title="Memory of the whole process tree under the heaviest load",
                  x_label="megabytes (PSS, steady under load)",
                  legend=(("workers", 1.0), ("master", 0.45))),
        "PSS shares pages between forked workers, so it adds up to the real footprint; "
        "RSS counts shared pages once per process. Label: total, workers x per worker.",
    )  # fmt: skip
    table = Table(
        "Memory per worker and in total (MB)",
        ("configuration", "workers", "PSS/worker", "USS/worker", "RSS/worker", "PSS total",
         "RSS total", "PSS peak", "measured at"),
        tuple(rows),
    )  # fmt: skip
    return chart, table


def _cold_start(results: Results) -> tuple[Chart | None, Table | None]:
    bars, rows = [], []
    for framework, server in _pairs(results):
        start = results.cold_start(framework, server)
        if start is None:
            continue
        label = pair_label(framework, server)
        first, health = start.first_request, start.healthz
        bars.append(
            Bar(label, framework, ((first.median, "first domain response"),),
                whisker=(first.min, first.max), note=f"{first.median:,.0f} ms")
        )  # fmt: skip
        rows.append(
            (label, f"{health.median:,.0f}", f"{first.median:,.0f}",
             f"{first.min:,.0f}-{first.max:,.0f}", str(first.n), start.first_request_path)
        )  # fmt: skip
    if not bars:
        return None, None
    chart = Chart(
        bar_chart(bars, title="Cold start: spawn to first domain response",
                  x_label="milliseconds (median; whisker min to max)"),
        "Time from spawning the server to the first successful domain request, which "
        "includes imports, worker start-up and lazy initialisation.",
    )  # fmt: skip
    table = Table(
        "Cold start (ms)",
        ("configuration", "to /healthz", "to first request", "range", "spawns", "request"),
        tuple(rows),
    )
    return chart, table


def _claims(results: Results) -> tuple[ClaimsReport | None, tuple[str, ...]]:
    """The results' claims section judged by this fwbench's rules (None when there is
    none), and the experiments whose stored verdicts that changed."""
    report = claims_report(results)
    if report is None:
        return None, ()
    return judged_by_these_rules(report)


def _experiments(report: ClaimsReport | None) -> tuple[Experiment, ...]:
    if report is None:
        return ()
    return tuple(
        Experiment(
            name=record.name,
            title=record.title,
            setup=record.setup,
            verdicts=tuple(
                Verdict(v.claim, v.outcome.value, v.condition, v.rule, v.findings)
                for v in record.verdicts
            ),
            tables=record.tables,
            error=record.error,
        )
        for record in report.experiments
    )


def _warnings(results: Results, rejudged: tuple[str, ...]) -> tuple[str, ...]:
    out = list(results.notes)
    if rejudged:
        out.append(rejudged_sentence(rejudged))
    if not results.placement.trustworthy:
        out.append("The service and the load shared CPUs: figures are not trustworthy.")
    if results.status != "complete":
        out.append(
            f"The run is {results.status}" + (f": {results.error}" if results.error else ".")
        )
    for p in results.points:
        where = f"{pair_label(p.framework, p.server)}, {p.scenario} @ {p.connections}"
        out += [f"{where}: invalid, {problem}" for problem in p.problems]
        if p.throughput.unstable and p.throughput.cv is not None:
            out.append(
                f"{where}: unstable (CV {p.throughput.cv:.0%} > 10%); rerun with more "
                "--repeats or a longer --duration on a quieter machine"
            )
        out += [f"{where}: {c.message} {c.action}" for c in p.failed_checks]
    return tuple(out)


def build_report(results: Results, source: Path) -> Report:
    """The report of ``results``, read from ``source`` (named in the commands)."""
    article, scenario = _article(results)
    throughput, tables = _throughput(results)
    memory, memory_table = _memory(results)
    cold, cold_table = _cold_start(results)
    claims, rejudged = _claims(results)
    machine = results.machine
    placement = results.placement
    return Report(
        title="fwbench report: Flask vs FastAPI vs Django, measured",
        source=source.name,
        status=results.status,
        started_at=results.started_at,
        finished_at=results.finished_at or "still running",
        article=article,
        article_scenario=_scenario_title(results, scenario),
        throughput=throughput,
        latency=_latency(results),
        memory=memory,
        memory_table=memory_table,
        cold_start=cold,
        cold_start_table=cold_table,
        throughput_tables=tables,
        experiments=_experiments(claims),
        warnings=_warnings(results, rejudged),
        machine=_machine_facts(machine, placement),
        packages=tuple(machine.packages.items()),
        settings=_settings(results.config),
        commands=_commands(results, source),
        servers=tuple(
            (pair_label(s.framework, s.server), shlex.join(s.command), s.advice)
            for s in _unique_services(results)
        ),
    )


def _unique_services(results: Results) -> Sequence[ServiceRun]:
    seen: dict[tuple[str, str], ServiceRun] = {}
    for service in results.services:
        seen.setdefault((service.framework, service.server), service)
    return list(seen.values())


def _commands(results: Results, source: Path) -> tuple[tuple[str, str], ...]:
    out = [("Measure (the command that wrote these results)", shlex.join(results.command))]
    if claims_report(results) is not None:
        out.append(("Run the claims experiments", "fwbench claims"))
    out.append(
        ("Write this report", f"fwbench report {shlex.quote(source.name)} --html report.html")
    )
    return tuple(out)


def _machine_facts(machine: Machine, placement: Placement) -> tuple[tuple[str, str], ...]:
    return (
        ("CPU", machine.cpu_model),
        ("CPUs", f"{machine.usable_cpus} usable of {machine.logical_cpus}"),
        ("Memory", f"{machine.memory_bytes / 2**30:.1f} GiB"),
        ("OS", machine.os),
        ("Python", machine.python),
        ("wrk", machine.wrk),
        ("Host", machine.hostname),
        ("Service CPUs", ", ".join(map(str, placement.service_cpus))),
        ("Load CPUs", ", ".join(map(str, placement.load_cpus))),
    )


def _settings(config: RunConfig) -> tuple[tuple[str, str], ...]:
    return tuple(
        (k, ", ".join(map(str, v)) if isinstance(v, tuple) else str(v))
        for k, v in config.conditions().items()
    )


# --- fwbench fairness -------------------------------------------------------------------


@dataclass(frozen=True)
class FairnessPair:
    """One framework/server pair of a fairness document, as shown: its table (headings,
    then rows of cells, each with the kind of figure it is) and one sentence reading it."""

    name: str
    headings: tuple[str, ...]
    rows: tuple[tuple[tuple[str, CellKind], ...], ...]
    reading: str


@dataclass(frozen=True)
class FairnessReport:
    """Everything the fairness templates render."""

    title: str
    source: str
    status: str
    started_at: str
    finished_at: str
    variants: tuple[str, ...]
    legend: str
    pairs: tuple[FairnessPair, ...]
    warnings: tuple[str, ...]
    machine: tuple[tuple[str, str], ...]
    packages: tuple[tuple[str, str], ...]
    settings: tuple[tuple[str, str], ...]
    command: str
    servers: tuple[tuple[str, str], ...]


def build_fairness_report(document: Fairness, source: Path) -> FairnessReport:
    """The report of a ``fwbench fairness`` document read from ``source``."""
    pairs = []
    for pair in document.pairs():
        headings, rows = fairness_cells(document, pair)
        pairs.append(
            FairnessPair(
                pair_label(*pair),
                headings,
                tuple(tuple(row) for row in rows),
                reading(document, pair),
            )
        )
    warnings = []
    if not document.placement.trustworthy:
        warnings.append("The services and wrk shared CPUs: figures are not trustworthy.")
    if document.status != "complete":
        warnings.append(
            f"The run is {document.status}" + (f": {document.error}" if document.error else ".")
        )
    return FairnessReport(
        title="fwbench fairness: what the contract's extras cost",
        source=source.name,
        status=document.status,
        started_at=document.started_at,
        finished_at=document.finished_at or "still running",
        variants=document.variants,
        legend=legend(document.config),
        pairs=tuple(pairs),
        warnings=tuple(warnings),
        machine=_machine_facts(document.machine, document.placement),
        packages=tuple(document.machine.packages.items()),
        settings=_settings(document.config),
        command=shlex.join(document.command),
        servers=tuple(_variant_server(s) for s in document.services),
    )


def _variant_server(started: VariantService) -> tuple[str, str]:
    service = started.service
    return f"{pair_label(service.framework, service.server)}, {started.variant}", shlex.join(
        service.command
    )
