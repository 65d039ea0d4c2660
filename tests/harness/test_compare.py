"""``fwbench compare``: refusal of incomparable runs, ratios and significance verdicts."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from fwbench.harness.compare import IncomparableResults, Metric, compare, differences
from fwbench.harness.results import Placement, Results
from tests.harness.test_results import config, machine, point, results


def with_throughputs(run: Results, throughputs: tuple[float, ...]) -> Results:
    """``run`` whose flask json point measured ``throughputs``."""
    points = tuple(
        point(throughputs=throughputs) if p.key == ("flask", "gunicorn-sync", "json", 64) else p
        for p in run.points
    )
    return replace(run, points=points)


def test_same_conditions_have_no_differences() -> None:
    assert differences(results(), results()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"machine": machine(hostname="laptop")}, "host bench-1 vs laptop"),
        ({"machine": machine(cpu_model="Other CPU")}, "CPU Example CPU @ 3.0GHz vs Other CPU"),
        ({"machine": machine(usable_cpus=1)}, "usable cores 2 vs 1"),
        ({"placement": Placement((0,), (1,))}, "CPU placement"),
        ({"config": config(duration_s=10)}, "duration 5 vs 10"),
        ({"config": config(connections=(16, 64))}, "connections 64 vs 16,64"),
        ({"config": config(downstream_latency_ms=50)}, "downstream latency 10 vs 50"),
        ({"config": config(workers=4)}, "workers documented rule vs 4"),
        ({"config": config(database="postgresql://u@h/db")}, "database embedded SQLite vs"),
    ],
)
def test_refuses_runs_measured_under_different_conditions(
    change: dict[str, object], expected: str
) -> None:
    other = replace(results(), **change)
    with pytest.raises(IncomparableResults, match="different conditions") as refused:
        compare(results(), other)
    assert expected in str(refused.value)


def test_mann_whitney_decides_with_enough_repeats() -> None:
    a = with_throughputs(results(), (1000.0, 1010.0, 990.0, 1005.0, 995.0))
    b = with_throughputs(results(), (1200.0, 1210.0, 1190.0, 1205.0, 1195.0))
    metric = next(
        m
        for m in compare(a, b).metrics
        if m.subject == "flask/gunicorn-sync json c=64" and m.name == "req/s"
    )
    assert metric.test == "mann-whitney"
    assert metric.p_value is not None and metric.p_value < 0.05
    assert metric.ratio == pytest.approx(1.2)
    assert metric.verdict == "better"


def test_lower_is_better_for_latency() -> None:
    metric = Metric("x", "p99 ms", "lower", (10.0,) * 5, (12.0, 12.1, 12.2, 12.3, 12.4))
    assert metric.verdict == "worse"


def test_mann_whitney_finds_no_difference_in_mixed_samples() -> None:
    metric = Metric(
        "x",
        "throughput",
        "higher",
        (1000.0, 1100.0, 900.0, 1050.0, 950.0),
        (1010.0, 1090.0, 910.0, 1040.0, 960.0),
    )
    assert metric.test == "mann-whitney"
    assert not metric.significant
    assert metric.verdict == "not significant"


def test_three_repeats_fall_back_to_non_overlapping_ranges() -> None:
    # With 3 against 3 the smallest two-sided Mann-Whitney p is 0.1: never below 0.05.
    apart = Metric("x", "throughput", "higher", (1000.0, 1010.0, 990.0), (900.0, 910.0, 890.0))
    assert apart.test == "ranges" and apart.p_value is None
    assert apart.verdict == "worse"
    assert apart.ratio == pytest.approx(0.9)
    overlapping = Metric(
        "x", "throughput", "higher", (1000.0, 1100.0, 900.0), (950.0, 1050.0, 1150.0)
    )
    assert overlapping.verdict == "not significant"


def test_lists_what_only_one_run_measured() -> None:
    a = results()
    b = replace(a, points=a.points[:-1], cold_starts=a.cold_starts[:1])
    comparison = compare(a, b)
    assert comparison.only_a == ("flask/gunicorn-sync json c=64", "flask/gunicorn-sync cold start")
    assert comparison.only_b == ()
    cold = [m for m in comparison.metrics if m.name == "first req ms"]
    assert [m.subject for m in cold] == ["fastapi/uvicorn cold start"]


def fwbench(*args: str) -> subprocess.CompletedProcess[str]:
    # A wide console keeps each table row on one line.
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "fwbench", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_command_prints_ratios_and_verdicts(tmp_path: Path) -> None:
    with_throughputs(results(), (1000.0, 1010.0, 990.0)).write(tmp_path / "a.json")
    with_throughputs(results(), (1500.0, 1510.0, 1490.0)).write(tmp_path / "b.json")
    done = fwbench("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "json c=64" in line and "flask" in line)
    assert "1.50x" in row and "better" in row


def test_command_refuses_incomparable_runs_in_one_sentence(tmp_path: Path) -> None:
    results().write(tmp_path / "a.json")
    replace(results(), config=config(duration_s=10)).write(tmp_path / "b.json")
    done = fwbench("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "different conditions (duration 5 vs 10)" in lines[0]
    assert "compare runs made on the same machine with the same options" in lines[0]


def test_command_refuses_a_file_that_is_not_results(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    results().write(tmp_path / "b.json")
    done = fwbench("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert done.returncode == 1
    assert "schema version None" in done.stderr
    assert "Traceback" not in done.stderr
