"""``fwbench run`` end to end, as a user runs it: real services, real wrk, a real results
file checked against the documented schema, and no process left behind. Also the one-
sentence errors of ``fwbench run`` and ``fwbench calibrate``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from fwbench.harness.results import Calibration, Results
from tests.harness.test_results import validator

#: The ports these tests give fwbench (the harness tests' range is 18600-18699).
PORTS = range(18600, 18640)
BUSY_PORT = 18690
#: Nothing listens here: an unreachable PostgreSQL server.
NO_DATABASE = "postgresql://postgres@127.0.0.1:18699/fwbench_hn"

QUICK = ("--duration", "1", "--warmup", "0", "--repeats", "1", "--cold-starts", "1")


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    # Own state directory: SQLite files and the calibration of this test only.
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "160", **extra}


def fwbench(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fwbench", *args],
        capture_output=True,
        text=True,
        env=env_for(tmp_path, **env),
        timeout=900,
        check=False,
    )


def interrupt(tmp_path: Path, *args: str, ready: Callable[[Any], bool]) -> tuple[int, str, str]:
    """Run ``fwbench ARGS --output FILE``, send it Ctrl-C once ``ready(document)`` holds for
    the document written to FILE; its exit status, stdout and stderr."""
    output = Path(args[args.index("--output") + 1])
    process = subprocess.Popen(
        [sys.executable, "-m", "fwbench", *args],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if output.exists() and ready(json.loads(output.read_text(encoding="utf-8"))):
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, stderr


def listening(ports: range) -> list[int]:
    return sorted(
        c.laddr.port
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port in ports
    )


def measured_pids(results: Results) -> Iterator[int]:
    for point in results.points:
        if point.memory is not None:
            yield from (process.pid for process in point.memory.processes)


def assert_nothing_left(results: Results) -> None:
    assert listening(PORTS) == [], "a server started by fwbench is still listening"
    for pid in measured_pids(results):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    wrk = [p for p in psutil.process_iter(["name", "cmdline"]) if p.info["name"] == "wrk"]
    assert not [p for p in wrk if any(f":{port}" in " ".join(p.info["cmdline"]) for port in PORTS)]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_run_measures_the_three_frameworks_and_writes_a_valid_file(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    report = tmp_path / "report.html"
    done = fwbench(
        tmp_path, "run", "--scenarios", "json", *QUICK, "--ports", "18600-18639",
        "--output", str(output), "--report", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Report: {report}" in done.stdout
    assert "<svg" in report.read_text(encoding="utf-8")
    validator().validate(json.loads(output.read_text(encoding="utf-8")))
    results = Results.read(output)
    assert results.status == "complete"
    assert results.config.pairs == (
        ("fastapi", "uvicorn"),
        ("flask", "gunicorn-sync"),
        ("django", "gunicorn-sync"),
    )
    assert [p.key for p in results.points] == [
        ("fastapi", "uvicorn", "json", 64),
        ("flask", "gunicorn-sync", "json", 64),
        ("django", "gunicorn-sync", "json", 64),
    ]
    for point in results.points:
        assert point.valid, point.problems
        assert len(point.repeats) == 1 and point.repeats[0].requests > 0
        assert point.memory is not None and point.memory.steady.rss > 0
        assert {c.name for c in point.sanity} >= {"littles_law", "generator_bound"}
    for service in results.services:
        assert Path(service.command[0]).name == "taskset"
        assert service.cpus == results.placement.service_cpus
    assert [(c.framework, len(c.first_request_ms)) for c in results.cold_starts] == [
        ("fastapi", 1),
        ("flask", 1),
        ("django", 1),
    ]
    assert [i.framework for i in results.import_times] == ["fastapi", "flask", "django"]
    assert results.calibration is not None
    assert (tmp_path / "cache" / "fwbench" / "calibration.json").exists()
    assert results.machine.packages["fastapi"] != "not installed"
    assert "The article's table, measured on this machine" in done.stdout
    assert str(output) in done.stdout
    assert_nothing_left(results)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ctrl_c_keeps_the_points_measured_and_stops_everything(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    returncode, stdout, stderr = interrupt(
        tmp_path,
        "run", "--scenarios", "json,db", *QUICK, "--cold-starts", "0",
        "--ports", "18600-18639", "--output", str(output),
        # Once the first point is in the file (the run has more to do).
        ready=lambda document: bool(document["points"]),
    )  # fmt: skip
    assert returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Interrupted" in stdout
    results = Results.read(output)
    assert results.status == "interrupted"
    assert results.finished_at is not None
    assert 1 <= len(results.points) < 6
    assert_nothing_left(results)


def one_sentence_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_unknown_scenario_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence_error(fwbench(tmp_path, "run", "--scenarios", "json,nope"))
    assert "unknown scenario nope" in line and "use a list of: json, plaintext" in line


def test_unknown_server_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence_error(fwbench(tmp_path, "run", "--servers", "apache"))
    assert "unknown server apache" in line


def test_server_no_framework_runs_on_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence_error(
        fwbench(tmp_path, "run", "--frameworks", "fastapi", "--servers", "gunicorn-sync")
    )
    assert "none of fastapi runs on gunicorn-sync" in line


def test_malformed_option_gets_clicks_usage_error(tmp_path: Path) -> None:
    done = fwbench(tmp_path, "run", "--connections", "0")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        "Error: Invalid value for '--connections': '0' must list integers of 1 or more"
    ]


def test_missing_wrk_is_one_sentence(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    line = one_sentence_error(fwbench(tmp_path, "run", PATH=str(empty)))
    assert "wrk is not installed" in line and "apt-get install wrk" in line
    line = one_sentence_error(fwbench(tmp_path, "calibrate", PATH=str(empty)))
    assert "wrk is not installed" in line


def test_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence_error(fwbench(tmp_path, "run", "--database", NO_DATABASE))
    assert "cannot reach PostgreSQL at 127.0.0.1:18699" in line
    assert not (tmp_path / "results").exists()


def test_busy_port_is_one_sentence_and_starts_nothing(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", BUSY_PORT))
        holder.listen()
        done = fwbench(
            tmp_path, "run", *QUICK, "--ports", f"{BUSY_PORT}-{BUSY_PORT}",
            "--output", str(output),
        )  # fmt: skip
    line = one_sentence_error(done)
    assert f"every port in {BUSY_PORT}-{BUSY_PORT} on 127.0.0.1 is in use" in line
    results = Results.read(output)
    assert results.status == "failed" and results.points == ()
    assert results.error is not None and "in use" in results.error


@pytest.mark.slow
def test_calibrate_stores_the_ceilings_run_uses(tmp_path: Path) -> None:
    done = fwbench(tmp_path, "calibrate", "--duration", "1", "--connections", "8,16",
                   "--ports", "18600-18639")  # fmt: skip
    assert done.returncode == 0, done.stderr
    stored = tmp_path / "cache" / "fwbench" / "calibration.json"
    assert f"Stored in {stored}" in done.stdout
    calibration = Calibration.read(stored)
    assert [level.connections for level in calibration.levels] == [8, 16]
    for level in calibration.levels:
        assert level.generator.throughput > 0 and level.downstream.throughput > 0
        assert set(level.generator.statuses) == {200}
    assert listening(PORTS) == []
