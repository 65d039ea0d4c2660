"""Terminal output of ``fwbench run`` and ``fwbench compare`` (rich).

Every figure printed comes from a results object; a figure whose point failed a sanity
check, or is invalid, carries the check's short label, so the table never shows a
number without saying when it cannot be trusted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from fwbench.harness.article import (
    ARTICLE,
    MB,
    best_point,
    measured_row,
    scenario_points,
)
from fwbench.harness.compare import Comparison
from fwbench.harness.results import ColdStart, Machine, Placement, Point, Results, RunConfig
from fwbench.harness.sanity import BOUND_FRACTION as BOUND
from fwbench.harness.sanity import label
from fwbench.harness.servers import ServerConfig, is_framework
from fwbench.harness.stats import summarize


def make_console() -> Console:
    """A console for fwbench's tables: the terminal's width, or 120 columns when the output
    is not a terminal (a file, a pipe, CI logs) and ``COLUMNS`` is unset, so that tables
    keep a readable shape instead of rich's default of 80."""
    width = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
    return Console(highlight=False, width=width)


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``1 file``, ``3 files``, ``2 passes``."""
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n} {noun if n == 1 else plural}"


def format_duration(seconds: float) -> str:
    """``3 min 05 s`` or ``42 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def flags(point: Point) -> list[str]:
    """Short labels of what is wrong with a point: ``invalid`` and failed checks."""
    found = ["invalid"] if not point.valid else []
    return found + [label(check) for check in point.failed_checks]


def point_line(point: Point) -> str:
    """One line (rich markup) summarizing a measured point, printed as it completes."""
    t = point.throughput
    cv = f", CV {t.cv:.1%}" if t.cv is not None else ""
    memory = f", {point.memory.steady.pss / MB:,.0f} MB" if point.memory else ""
    found = flags(point)
    mark = "[yellow]![/]" if found else "[green]✓[/]"
    expected = {
        status: sum(s.statuses.get(status, 0) for s in point.repeats)
        for status in point.expected_statuses
    }
    sent = ", ".join(f"{n} x {status}" for status, n in expected.items() if n)
    text = (
        f"{mark} {point.framework}/{point.server} {point.scenario} c={point.connections}: "
        f"{t.median:,.0f} req/s (median of {t.n}, {t.min:,.0f}-{t.max:,.0f}{cv}), "
        f"p99 {point.latency_p99_us.median / 1000:,.1f} ms{memory}"
        + (f"; {sent} expected by the scenario" if sent else "")
    )
    return text + (f" [yellow]{', '.join(found)}[/]" if found else "")


def cold_start_line(cold: ColdStart, import_ms: float | None) -> str:
    """One line (rich markup) summarizing the cold starts of a pair."""
    first = cold.first_request
    text = (
        f"[green]✓[/] {cold.framework}/{cold.server} cold start: first request "
        f"{first.median:,.0f} ms (median of {first.n}, {first.min:,.0f}-{first.max:,.0f}; "
        f"/healthz {cold.healthz.median:,.0f} ms)"
    )
    return text + (f", import {import_ms:,.0f} ms" if import_ms is not None else "")


def _cpus(cpus: Sequence[int]) -> str:
    return ("CPU " if len(cpus) == 1 else "CPUs ") + ",".join(map(str, cpus))


def print_plan(
    console: Console,
    *,
    config: RunConfig,
    placement: Placement,
    machine: Machine,
    servers: Sequence[ServerConfig],
    estimate_s: float,
    calibrate: bool,
    output: Path,
) -> None:
    """Print what a run will measure, on which CPUs and servers, and how long it should take.

    Args:
        console: where to print.
        config: the resolved options.
        placement: the CPU placement.
        machine: the machine description.
        servers: the configuration of each pair, in order.
        estimate_s: the plan's estimated duration.
        calibrate: whether the run starts by calibrating the load side.
        output: the results file.
    """
    scenarios = ", ".join(config.scenarios)
    connections = ", ".join(map(str, config.connections))
    console.print(
        f"[bold]fwbench run[/]: {len(config.pairs)} framework/server pairs x {scenarios} at "
        f"{connections} connections; {config.repeats} x {config.duration_s} s per point after "
        f"{config.warmup_s} s of warm-up"
        + (f"; {config.cold_starts} cold starts per pair" if config.cold_starts else "")
    )
    console.print(
        f"Machine: {machine.cpu_model}, {machine.usable_cpus} usable CPUs; service on "
        f"{_cpus(placement.service_cpus)}, wrk ({config.wrk_threads} thread"
        f"{'s' if config.wrk_threads > 1 else ''}) + downstream + fwbench's sampler on "
        f"{_cpus(placement.load_cpus)}. Database: {config.database or 'embedded SQLite'}; "
        f"downstream latency {config.downstream_latency_ms} ms."
    )
    if not placement.trustworthy:
        console.print(
            "[bold red]Only one CPU is usable: wrk, the downstream and the service share it, "
            "so these results are not trustworthy. Run on a machine with 2 or more cores.[/]"
        )
    table = Table(title="Server configurations (each server's documented advice)", expand=True)
    table.add_column("Framework / server", no_wrap=True)
    table.add_column("Workers", justify="right")
    table.add_column("Threads", justify="right")
    table.add_column("Why")
    for server in servers:
        threads = str(server.threads) if server.threads else "-"
        table.add_row(
            f"{server.framework}/{server.server}", str(server.workers), threads, server.advice
        )
    console.print(table)
    console.print(
        f"Estimated duration: [bold]{format_duration(estimate_s)}[/]"
        + (" (includes calibrating the load side, once per machine)" if calibrate else "")
        + f". Results: {output}"
    )


def _figure(results: Results, pair: tuple[str, str], scenario: str, sweep: bool) -> str:
    point = best_point(results, *pair, scenario)
    if point is None:
        measured = scenario_points(results, *pair, scenario)
        return "-\n[yellow]invalid[/]" if measured else "-"
    text = f"{point.throughput.median:,.0f}"
    if sweep:
        text += f" (c={point.connections})"
    found = flags(point)
    return text + (f"\n[yellow]{', '.join(found)}[/]" if found else "")


def _with_article(measured: str, article: int) -> str:
    return f"{measured}\n[dim]article {article:,}[/]"


def article_table(results: Results) -> Table:
    """The article's table with the measured figures above the article's: valid points
    only (:mod:`fwbench.harness.article`); a column whose points are all invalid says so."""
    sweep = len(results.config.connections) > 1
    table = Table(title="The article's table, measured on this machine")
    table.add_column("Framework / server", no_wrap=True)
    for name in ("I/O req/s", "JSON req/s", "DB req/s", "Memory MB", "Cold start ms"):
        table.add_column(name, justify="right")
    for framework, server in results.config.pairs:
        if not is_framework(framework):
            continue  # not a framework of the article
        article = ARTICLE[framework]
        row = measured_row(results, framework, server)
        memory = "-" if row.memory_mb is None else f"{row.memory_mb:,.0f}"
        cold_text = "-"
        if row.cold_start is not None:
            cold_text = f"{row.cold_start.first_request.median:,.0f}"
            if row.cold_start.first_request.unstable:
                cold_text += "\n[yellow]unstable[/]"
        table.add_row(
            f"{framework}\n{server}",
            _with_article(_figure(results, (framework, server), "io", sweep), article.rps),
            _figure(results, (framework, server), "json", sweep),
            _figure(results, (framework, server), "db", sweep),
            _with_article(memory, article.memory_mb),
            _with_article(cold_text, article.cold_start_ms),
        )
    return table


def points_table(results: Results) -> Table:
    """Every measured point: throughput spread, latency, memory and failed checks."""
    table = Table(title="Every point (req/s: median of the repeats, with min-max and CV)")
    table.add_column("Framework/server", no_wrap=True)
    table.add_column("Scenario")
    table.add_column("Conns", justify="right")
    table.add_column("req/s", justify="right")
    table.add_column("min-max", justify="right")
    table.add_column("CV", justify="right")
    table.add_column("p50 / p99 ms", justify="right")
    table.add_column("MB total (per worker)", justify="right")
    table.add_column("Checks")
    for p in results.points:
        t = p.throughput
        memory = p.memory
        table.add_row(
            f"{p.framework}/{p.server}",
            p.scenario,
            str(p.connections),
            f"{t.median:,.0f}",
            f"{t.min:,.0f}-{t.max:,.0f}",
            f"{t.cv:.1%}" if t.cv is not None else "-",
            f"{p.latency_p50_us.median / 1000:,.1f} / {p.latency_p99_us.median / 1000:,.1f}",
            f"{memory.steady.pss / MB:,.0f} ({memory.per_worker.pss / MB:,.0f} x "
            f"{len(memory.serving)})"
            if memory
            else "-",
            ", ".join(flags(p)) or "[green]ok[/]",
        )
    return table


def print_summary(console: Console, results: Results, *, elapsed_s: float, output: Path) -> None:
    """Print the tables of a finished run, what its checks found, and where it is stored.

    Args:
        console: where to print.
        results: the run's results.
        elapsed_s: wall-clock seconds the run took.
        output: the results file.
    """
    console.print()
    console.print(points_table(results))
    problems = [
        (p, f"{p.framework}/{p.server} {p.scenario} c={p.connections}")
        for p in results.points
        if not p.valid or p.failed_checks
    ]
    if problems:
        console.print("[bold]What the checks found:[/]")
    for point, name in problems:
        if point.problems:
            allowed = ", ".join(["2xx", *map(str, point.expected_statuses)])
            console.print(
                f"  [yellow]invalid[/] {name}: {'; '.join(point.problems)}. Its figure is not a "
                f"measurement of the service working (the scenario expects {allowed}, no socket "
                "error). What to do: run `fwbench serve` on it and look at its errors."
            )
        for check in point.failed_checks:
            console.print(
                f"  [yellow]{label(check)}[/] {name}: {check.message}. What to do: {check.action}"
            )
    console.print()
    console.print(article_table(results))
    console.print(
        "[dim]I/O: GET /io waiting "
        f"{results.config.downstream_latency_ms} ms on the downstream, at "
        f"{', '.join(map(str, results.config.connections))} connections. Memory: steady PSS "
        "of the service's whole process tree (master + workers) under the heaviest load "
        "measured. Cold start: median time from spawn to the first successful domain request. "
        "The article's figures come from an unnamed machine and setup.[/]"
    )
    if results.calibration is not None:
        ceilings = "; ".join(
            f"c={level.connections}: wrk against a trivial server "
            f"{level.generator.throughput:,.0f} req/s, wrk + downstream "
            f"{level.downstream.throughput:,.0f} req/s"
            for level in results.calibration.levels
            if level.connections in results.config.connections
        )
        console.print(
            f"[dim]Load-side ceilings (fwbench calibrate, {results.calibration.measured_at}): "
            f"{ceilings}. Figures from {BOUND:.0%} of them on are marked bound.[/]"
        )
    for note in results.notes:
        console.print(f"[bold red]Note:[/] {note}")
    console.print(
        f"Done in {format_duration(elapsed_s)}. Results: [bold]{output}[/] "
        f"(schema version {results.schema_version}, docs/results-schema.md)"
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def print_comparison(console: Console, comparison: Comparison, name_a: str, name_b: str) -> None:
    """Print a comparison of two runs: medians, B/A ratio and the significance verdict.

    Args:
        console: where to print.
        comparison: what :func:`fwbench.harness.compare.compare` returned.
        name_a / name_b: how to call the two runs (their file names).
    """
    table = Table(title=f"B = {name_b} compared with A = {name_a} (medians)", box=box.SIMPLE_HEAD)
    table.add_column("Measured", min_width=20)
    table.add_column("Metric", no_wrap=True)
    for name in ("A", "B", "B/A"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("Test", no_wrap=True)
    table.add_column("Verdict")
    colours = {"better": "green", "worse": "red"}
    for metric in comparison.metrics:
        p_value = metric.p_value
        test = f"MWU p={p_value:.3f}" if p_value is not None else "ranges"
        colour = colours.get(metric.verdict, "dim")
        table.add_row(
            metric.subject,
            metric.name,
            _number(summarize(metric.a).median),
            _number(summarize(metric.b).median),
            f"{metric.ratio:.2f}x",
            test,
            f"[{colour}]{metric.verdict}[/]",
        )
    console.print(table)
    console.print(
        "[dim]Test: two-sided Mann-Whitney U (MWU) on the raw repeats, p < 0.05; with too "
        "few repeats for the test to reach that (e.g. 3 against 3), non-overlapping ranges "
        "instead. Use --repeats 4 or more for the test to apply.[/]"
    )
    for side, subjects in (("only in A", comparison.only_a), ("only in B", comparison.only_b)):
        if subjects:
            console.print(f"Not compared, {side}: {', '.join(subjects)}")
