"""The article's table: one rule (valid points only) for the terminal, the report and
``advise``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.console import Console

from fwbench.advice.evidence import evidence_from_results
from fwbench.harness.article import MB, best_point, heaviest_memory, measured_row
from fwbench.harness.display import article_table
from fwbench.harness.results import Results
from fwbench.report.model import build_report
from tests.harness.test_results import memory, point, results, sample


def _with_a_faster_invalid_point() -> Results:
    """flask io: valid at 1,000 req/s (c=64), and an invalid c=128 point at 9,000 req/s
    (every response a 500) with more memory than any valid point."""
    broken = point(
        "flask",
        "gunicorn-sync",
        "io",
        connections=128,
        repeats=tuple(sample(9_000.0, statuses={500: 45_000}) for _ in range(3)),
        memory=replace(memory(), steady=replace(memory().steady, pss=999 * MB)),
    )
    run = results()
    return replace(run, points=(*run.points, broken))


def test_only_valid_points_count() -> None:
    run = _with_a_faster_invalid_point()
    best = best_point(run, "flask", "gunicorn-sync", "io")
    assert best is not None and best.valid and best.connections == 64
    heaviest = heaviest_memory(run, "flask", "gunicorn-sync")
    assert heaviest is not None and heaviest.valid
    row = measured_row(run, "flask", "gunicorn-sync")
    assert row.rps == best.throughput.median
    assert row.memory_mb is not None and row.memory_mb < 999


def test_terminal_report_and_advise_show_the_same_figures() -> None:
    run = _with_a_faster_invalid_point()
    row = measured_row(run, "flask", "gunicorn-sync")
    assert row.rps is not None and row.memory_mb is not None
    console = Console(record=True, width=200)
    console.print(article_table(run))
    text = console.export_text()
    assert f"{row.rps:,.0f}" in text and "9,000" not in text
    assert f"{row.memory_mb:,.0f}" in text and "999" not in text
    flask = next(r for r in build_report(run, Path("run.json")).article if r.framework == "flask")
    assert (flask.measured_rps, flask.measured_mb) == (row.rps, row.memory_mb)
    setup = next(s for s in evidence_from_results(run, "run.json").setups if s.framework == "flask")
    assert setup.memory_total_mb == row.memory_mb
    assert max(p.rps for points in setup.io.values() for p in points) == row.rps
