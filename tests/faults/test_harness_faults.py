"""fwbench under its own faults: SIGKILL of ``fwbench serve`` or ``fwbench run`` leaves no
server, worker, wrk or downstream behind (the watchdog of fwbench.harness.watchdog stops
them), and Ctrl-C or SIGTERM in each phase of ``run``, ``claims``, ``model`` and
``calibrate`` stops everything, says so, exits 130 and keeps a valid results file.
Every process here is real; the tests find fwbench's descendants with psutil."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import psutil
import pytest

from fwbench.harness.process import free_port
from fwbench.harness.results import Results
from tests.processes import Snapshot, snapshot, still_running

#: Seconds a descendant may outlive fwbench: the watchdog's SIGTERM grace period (10 s)
#: plus slack for a loaded machine.
SURVIVAL_LIMIT_S: Final = 30.0

#: Seconds fwbench may take to start its first server on a loaded machine.
START_LIMIT_S: Final = 180.0


def _fwbench(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "160"}
    return subprocess.Popen(
        [sys.executable, "-m", "fwbench", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _descendants(process: subprocess.Popen[str]) -> list[psutil.Process]:
    try:
        return psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_until(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _survivors(processes: Snapshot) -> list[int]:
    """Pids of ``processes`` still running after SURVIVAL_LIMIT_S at most."""
    deadline = time.monotonic() + SURVIVAL_LIMIT_S
    while (alive := still_running(processes)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


@pytest.fixture
def reaper() -> Iterator[list[psutil.Process]]:
    """Processes a failing test must not leave running: killed at teardown."""
    spawned: list[psutil.Process] = []
    yield spawned
    for process in spawned:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()  # psutil checks it is still the same process


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["flask", "--workers", "2"], id="flask-gunicorn"),
        pytest.param(["fastapi", "--workers", "2"], id="fastapi-uvicorn"),
        pytest.param(["django", "--workers", "2"], id="django-gunicorn"),
        pytest.param(["downstream"], id="downstream"),
    ],
)
def test_sigkill_of_fwbench_serve_leaves_no_process(
    args: list[str], tmp_path: Path, reaper: list[psutil.Process]
) -> None:
    port = free_port()
    database = [] if args[0] == "downstream" else ["--database", f"sqlite:///{tmp_path}/s.db"]
    serve = _fwbench(["serve", *args, "--port", str(port), *database], tmp_path)

    def ready() -> bool:
        assert serve.poll() is None, serve.stderr.read() if serve.stderr else ""
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    _wait_until(ready, START_LIMIT_S, f"fwbench serve {args[0]} to answer")
    tree = _descendants(serve)
    reaper.extend(tree)
    # The server's master, its workers (none for the downstream) and the watchdog.
    assert len(tree) >= 2, tree
    serve.kill()
    serve.wait()
    assert _survivors(snapshot(tree)) == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def _has_wrk(process: subprocess.Popen[str]) -> bool:
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    return any(p.name() == "wrk" for p in _descendants(process) if p.is_running())


RUN_ARGS: Final = [
    "run", "--frameworks", "flask", "--scenarios", "json", "--duration", "20",
    "--warmup", "0", "--repeats", "1", "--cold-starts", "0",
]  # fmt: skip


def _run_until_wrk(
    tmp_path: Path, reaper: list[psutil.Process]
) -> tuple[subprocess.Popen[str], list[psutil.Process]]:
    """A short ``fwbench run`` of one framework, once wrk runs (calibrating the load side
    or measuring); its descendants then."""
    run = _fwbench([*RUN_ARGS, "--output", str(tmp_path / "run.json")], tmp_path)
    trees: list[list[psutil.Process]] = []

    def wrk_in_tree() -> bool:
        # The tree is taken in the same look that sees wrk: a short calibration wrk can
        # end between two looks.
        assert run.poll() is None, run.stderr.read() if run.stderr else ""
        trees.append(_descendants(run))
        return any(p.name() == "wrk" for p in trees[-1] if p.is_running())

    _wait_until(wrk_in_tree, START_LIMIT_S, "fwbench run to start wrk")
    tree = trees[-1]
    reaper.extend(tree)
    return run, tree


def _assert_whole_or_absent(path: Path) -> None:
    """Whatever was written is whole JSON: the results file is written atomically."""
    if path.exists():
        json.loads(path.read_text(encoding="utf-8"))


def test_sigkill_of_fwbench_run_while_wrk_runs_leaves_no_process(
    tmp_path: Path, reaper: list[psutil.Process]
) -> None:
    run, tree = _run_until_wrk(tmp_path, reaper)
    assert "wrk" in {p.name() for p in tree}
    run.kill()
    run.wait()
    assert _survivors(snapshot(tree)) == []
    _assert_whole_or_absent(tmp_path / "run.json")


def test_sigterm_of_fwbench_run_while_wrk_runs_stops_everything(
    tmp_path: Path, reaper: list[psutil.Process]
) -> None:
    run, tree = _run_until_wrk(tmp_path, reaper)
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert still_running(snapshot(tree)) == []
    _assert_whole_or_absent(tmp_path / "run.json")


def _has_server(process: subprocess.Popen[str]) -> bool:
    """Whether a server (anything but wrk and the watchdogs) runs under ``process``."""
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    return any(
        p.name() != "wrk" and "fwbench.harness.watchdog" not in " ".join(p.cmdline())
        for p in _descendants(process)
        if p.is_running()
    )


#: Each phase of each long command, with a condition that says fwbench is in it. The
#: commands are the shortest that reach the phase: one experiment, one pair, --quick.
PHASES: Final = {
    "calibrate": (["calibrate", "--duration", "3"], _has_wrk),
    "claims-measuring": (["claims", "--quick", "--only", "io-ratio"], _has_wrk),
    "claims-cold-start": (["claims", "--quick", "--only", "cold-start"], _has_server),
    "model-measuring": (
        ["model", "--quick", "--frameworks", "flask", "--servers", "gunicorn-sync"],
        _has_wrk,
    ),
}


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_ctrl_c_or_sigterm_in_each_phase_stops_everything_and_keeps_the_results(
    phase: str, sent: signal.Signals, tmp_path: Path, reaper: list[psutil.Process]
) -> None:
    args, in_phase = PHASES[phase]
    output = tmp_path / "out.json"
    previous = '{"previous": true}\n'
    if phase == "calibrate":
        output.write_text(previous, encoding="utf-8")  # an earlier calibration
    process = _fwbench([*args, "--output", str(output)], tmp_path)
    _wait_until(lambda: in_phase(process), START_LIMIT_S, f"fwbench {phase}")
    tree = _descendants(process)
    reaper.extend(tree)
    process.send_signal(sent)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "Interrupted; every process fwbench started is stopped" in stdout, stdout
    assert _survivors(snapshot(tree)) == []
    if phase == "calibrate":
        assert output.read_text(encoding="utf-8") == previous
    elif phase.startswith("claims"):
        assert Results.read(output).status == "interrupted"
    else:
        _assert_whole_or_absent(output)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
