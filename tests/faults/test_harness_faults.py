"""fwbench under its own faults: SIGKILL of ``fwbench serve`` or ``fwbench run`` leaves no
server, worker, wrk or downstream behind (the watchdog of fwbench.harness.watchdog stops
them), and Ctrl-C or SIGTERM in each phase of ``run``, ``claims``, ``model`` and
``calibrate`` stops everything, says so, exits 130 and keeps a valid results file; before
``run``, ``claims``, ``model`` or ``fairness`` has started anything, it says so and exits
130 too. Every process here is real; the tests find fwbench's descendants with psutil and
tell the phases apart by what fwbench does (a wrk's argv, the results file, a server it
starts, its database check), never by waiting a guessed time."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import httpx
import psutil
import pytest

from fwbench.harness.calibrate import WARMUP_S as CALIBRATION_WARMUP_S
from fwbench.harness.plan import CALIBRATION_S
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


def _is_load(process: psutil.Process) -> bool:
    """Whether ``process`` is a wrk loading a server (its argv has ``--duration``), not the
    ``wrk -v`` with which fwbench describes the machine before it starts anything."""
    try:
        return process.name() == "wrk" and "--duration" in process.cmdline()
    except psutil.Error:  # it ended between two looks
        return False


def _has_wrk(process: subprocess.Popen[str]) -> bool:
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    return any(_is_load(p) for p in _descendants(process))


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
        return any(_is_load(p) for p in trees[-1])

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
    assert any(_is_load(p) for p in tree)
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


def _is_server(process: psutil.Process) -> bool:
    """Whether ``process`` is a server: anything but wrk and the watchdogs."""
    try:
        return process.name() != "wrk" and not any(
            "fwbench.harness.watchdog" in part for part in process.cmdline()
        )
    except psutil.Error:  # it ended between two looks
        return False


def _has_server(process: subprocess.Popen[str]) -> bool:
    """Whether a server runs under ``process``."""
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    return any(_is_server(p) for p in _descendants(process))


#: Says whether fwbench (the process, writing its results to the path) is in a phase.
InPhase = Callable[[subprocess.Popen[str], Path], bool]


def _wrk_runs(process: subprocess.Popen[str], output: Path) -> bool:
    return _has_wrk(process)


def _server_runs(process: subprocess.Popen[str], output: Path) -> bool:
    return _has_server(process)


#: ``--warmup`` of the run whose warm-up is interrupted: a wrk that runs this long is the
#: warm-up, since the load side's calibration runs wrk for 1 s and 5 s and the repeats for
#: ``--duration``.
RUN_WARMUP_S: Final = 30
assert RUN_WARMUP_S not in {CALIBRATION_WARMUP_S, CALIBRATION_S}


def _run_warms_up(process: subprocess.Popen[str], output: Path) -> bool:
    """Whether the wrk of ``fwbench run``'s warm-up runs (seen by its ``--duration``)."""
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    for child in _descendants(process):
        with contextlib.suppress(psutil.Error):
            argv = child.cmdline()
            if _is_load(child) and argv[argv.index("--duration") + 1] == f"{RUN_WARMUP_S}s":
                return True
    return False


class _RunColdStarts:
    """Whether ``fwbench run`` of one point has begun its cold starts: its results file
    holds the point, and a gunicorn runs under it that did not run before the point was
    written. The measured service's processes all did (they served the whole measurement,
    which this condition watches every 0.1 s), and the import-time probe that follows the
    cold starts runs no gunicorn. One instance per test: it remembers what it saw."""

    def __init__(self) -> None:
        self._before: set[tuple[int, float]] = set()

    def __call__(self, process: subprocess.Popen[str], output: Path) -> bool:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        measured = False
        if output.exists():  # written atomically: never half a document
            measured = bool(json.loads(output.read_text(encoding="utf-8"))["points"])
        servers = set()
        for child in _descendants(process):
            with contextlib.suppress(psutil.Error):
                if "gunicorn" in " ".join(child.cmdline()):
                    servers.add((child.pid, child.create_time()))
        if not measured:
            self._before |= servers
            return False
        return bool(servers - self._before)


#: ``fwbench run`` of one point (Flask on gunicorn, json, 64 connections) without the
#: warm-up, repeats and cold starts the options of each phase add.
RUN_ONE_POINT: Final = [
    "run", "--frameworks", "flask", "--scenarios", "json", "--duration", "2", "--repeats", "1",
]  # fmt: skip

#: Each phase of each long command, with a factory of the condition that says fwbench is
#: in it. The commands are the shortest that reach the phase: one point, one experiment,
#: one pair, --quick.
PHASES: Final[dict[str, tuple[list[str], Callable[[], InPhase]]]] = {
    "run-warm-up": (
        [*RUN_ONE_POINT, "--warmup", str(RUN_WARMUP_S), "--cold-starts", "0"],
        lambda: _run_warms_up,
    ),
    "run-cold-start": (
        [*RUN_ONE_POINT, "--warmup", "0", "--cold-starts", "3"],
        _RunColdStarts,
    ),
    "calibrate": (["calibrate", "--duration", "3"], lambda: _wrk_runs),
    "claims-measuring": (["claims", "--quick", "--only", "io-ratio"], lambda: _wrk_runs),
    "claims-cold-start": (["claims", "--quick", "--only", "cold-start"], lambda: _server_runs),
    "model-measuring": (
        ["model", "--quick", "--frameworks", "flask", "--servers", "gunicorn-sync"],
        lambda: _wrk_runs,
    ),
}


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_ctrl_c_or_sigterm_in_each_phase_stops_everything_and_keeps_the_results(
    phase: str, sent: signal.Signals, tmp_path: Path, reaper: list[psutil.Process]
) -> None:
    args, condition = PHASES[phase]
    in_phase = condition()
    output = tmp_path / "out.json"
    previous = '{"previous": true}\n'
    if phase == "calibrate":
        output.write_text(previous, encoding="utf-8")  # an earlier calibration
    process = _fwbench([*args, "--output", str(output)], tmp_path)
    _wait_until(lambda: in_phase(process, output), START_LIMIT_S, f"fwbench {phase}")
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
    elif phase.startswith("run"):
        results = Results.read(output)
        assert results.status == "interrupted"
        # The warm-up comes before the point; the cold starts after it, which is kept.
        assert len(results.points) == (1 if phase == "run-cold-start" else 0)
    else:
        _assert_whole_or_absent(output)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


#: The commands that check their database before they start anything, each as short as in
#: PHASES (fairness: one framework; the signal comes long before it would measure).
PREPARING: Final = {
    "run": [*RUN_ONE_POINT, "--warmup", "0", "--cold-starts", "0"],
    "claims": ["claims", "--quick", "--only", "io-ratio"],
    "model": ["model", "--quick", "--frameworks", "flask", "--servers", "gunicorn-sync"],
    "fairness": ["fairness", "--frameworks", "flask", "--scenarios", "json"],
}


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("command", list(PREPARING))
def test_ctrl_c_or_sigterm_while_fwbench_prepares_exits_130_and_writes_nothing(
    command: str, sent: signal.Signals, tmp_path: Path, reaper: list[psutil.Process]
) -> None:
    """The signal while fwbench prepares (checks its tools, database and output, describes
    the machine), before it starts anything: seen by a stand-in PostgreSQL, a socket that
    accepts fwbench's connection and never answers. fwbench says so and exits 130 as in
    every later phase, not with click's "Aborted!" and 1, nor killed by SIGTERM."""
    output = tmp_path / "out.json"
    with socket.create_server(("127.0.0.1", 0)) as database:
        database.settimeout(START_LIMIT_S)
        url = f"postgresql://postgres@127.0.0.1:{database.getsockname()[1]}/fwbench"
        args = [*PREPARING[command], "--database", url, "--output", str(output)]
        process = _fwbench(args, tmp_path)
        try:
            connection, _ = database.accept()  # fwbench checks its database
            with connection:
                tree = _descendants(process)
                reaper.extend(tree)
                process.send_signal(sent)
                stdout, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "Interrupted before fwbench started anything" in stdout, stdout
    assert _survivors(snapshot(tree)) == []
    assert not output.exists()
