"""Drive wrk, the load generator TechEmpower uses, and read what it measured.

wrk keeps ``connections`` HTTP/1.1 keep-alive connections busy for ``duration``
seconds (a closed loop: each connection sends its next request when the previous
response arrives). Its Lua ``done()`` hook (``lua/fwbench_report.lua``) prints one JSON
line, which :func:`parse_wrk_output` turns into a :class:`~.results.LoadSample`.

wrk runs pinned to the load CPUs with ``taskset`` (its threads inherit the CPU set, which
a ``sched_setaffinity`` call after the spawn would not guarantee), in a session of its
own so that only fwbench decides when it stops; :func:`run_load` kills it on any exit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from fwbench.harness.errors import FwbenchError, MissingTool
from fwbench.harness.results import Latency, LoadSample, SocketErrors
from fwbench.harness.watchdog import Watchdog

#: The Lua scripts: the reporter module and one script per kind of scenario.
LUA_DIR: Final = Path(__file__).with_name("lua")

#: Marker of the reporter's JSON line in wrk's output.
RESULT_MARKER: Final = "FWBENCH_WRK_RESULT "

#: Seconds wrk may run beyond its duration and timeout before fwbench kills it
#: (it writes its report as soon as the duration is over, so this is generous).
_GRACE_S: Final = 30


class LoadError(FwbenchError):
    """wrk failed: it could not connect at all, a script failed, or it printed no report."""


@dataclass(frozen=True)
class LoadSpec:
    """One wrk run.

    Attributes:
        url: base URL of the server, e.g. ``http://127.0.0.1:18601``.
        path: path and query requested by ``get`` scripts, e.g. ``/io?ms=10``.
        script: a script of :data:`LUA_DIR` without ``.lua`` (``get``, ``transactions``).
        connections: open connections (at least ``threads``).
        duration_s: seconds of load.
        threads: wrk threads; one per load CPU is wrk's own advice ("the number of
            threads ... should be [the number of] cores", wrk's README).
        timeout_s: a request without a response after this many seconds counts as a
            timeout error.
        cpus: CPUs wrk is pinned to; None: not pinned.
        script_args: arguments passed to the script's ``init()``.
    """

    url: str
    path: str
    script: str
    connections: int
    duration_s: int
    threads: int
    timeout_s: int
    cpus: tuple[int, ...] | None = None
    script_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (LUA_DIR / f"{self.script}.lua").is_file():
            raise ValueError(f"no wrk script {self.script!r} in {LUA_DIR}")
        if self.threads < 1 or self.connections < self.threads:
            raise ValueError("wrk needs at least one thread and one connection per thread")
        if self.duration_s < 1 or self.timeout_s < 1:
            raise ValueError("duration and timeout must be at least one second")
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', not {self.path!r}")


def find_wrk() -> str:
    """The path of the wrk executable.

    Raises:
        MissingTool: wrk is not on the PATH.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise MissingTool(
            "wrk is not installed, and fwbench measures load with it",
            "install it (apt-get install wrk) or run scripts/fwbench, which does",
        )
    return wrk


def find_taskset() -> str:
    """The path of taskset, which pins wrk and the services to their CPUs.

    Raises:
        MissingTool: taskset is not on the PATH.
    """
    taskset = shutil.which("taskset")
    if taskset is None:
        raise MissingTool(
            "taskset is not installed, so fwbench cannot pin wrk and the services to CPUs",
            "install util-linux (apt-get install util-linux)",
        )
    return taskset


@cache
def wrk_version() -> str:
    """wrk's version, e.g. ``wrk debian/4.1.0-3+b2 [epoll]``.

    Raises:
        MissingTool: wrk is not on the PATH.
    """
    # `wrk -v` prints its version line and its usage, then exits with status 1.
    result = subprocess.run(
        [find_wrk(), "-v"], capture_output=True, text=True, check=False, timeout=10
    )
    first = (result.stdout.strip().splitlines() or ["wrk (unknown version)"])[0]
    return first.split(" Copyright")[0].strip()


def wrk_command(
    spec: LoadSpec,
    *,
    wrk: str | None = None,
    taskset: str | None = None,
    lua_dir: Path = LUA_DIR,
) -> list[str]:
    """The argv that runs ``spec``: ``taskset -c CPUS wrk ... URL -- ARGS``.

    Args:
        spec: the run.
        wrk: the wrk executable; None (default): :func:`find_wrk` here.
        taskset: the taskset executable; None (default): :func:`find_taskset` here.
        lua_dir: where the scripts are, default :data:`LUA_DIR` (another host's checkout
            has them elsewhere).
    """
    argv = [
        wrk if wrk is not None else find_wrk(),
        "--threads", str(spec.threads),
        "--connections", str(spec.connections),
        "--duration", f"{spec.duration_s}s",
        "--timeout", f"{spec.timeout_s}s",
        "--latency",
        "--script", str(lua_dir / f"{spec.script}.lua"),
        f"{spec.url.rstrip('/')}{spec.path}",
    ]  # fmt: skip
    if spec.script_args:
        argv += ["--", *spec.script_args]
    if spec.cpus is not None:
        pin = taskset if taskset is not None else find_taskset()
        argv = [pin, "-c", cpu_list(spec.cpus), *argv]
    return argv


def run_load(spec: LoadSpec) -> LoadSample:
    """Run wrk as ``spec`` says and return what it measured. wrk is killed if fwbench is
    interrupted or if it overruns its duration.

    Raises:
        LoadError: wrk failed or printed no report.
        MissingTool: wrk (or taskset, when pinning) is not installed.
    """
    return parse_wrk_output(run_wrk(spec))


def run_wrk(spec: LoadSpec) -> str:
    """Run wrk as ``spec`` says and return its standard output, for a script that prints
    lines of its own beside the report (see :func:`run_load`).

    Raises:
        LoadError: wrk failed or printed no report.
        MissingTool: wrk (or taskset, when pinning) is not installed.
    """
    return WrkProcess(spec).output()


def wrk_env(spec: LoadSpec, *, histogram: bool = False, lua_dir: Path = LUA_DIR) -> dict[str, str]:
    """The variables wrk's reporter reads, to add to wrk's environment.

    Args:
        spec: the run.
        histogram: also print every latency bucket (``histogram_us``); default False.
        lua_dir: where the scripts are, default :data:`LUA_DIR`.
    """
    # LuaJIT finds `require("fwbench_report")` through LUA_PATH; ";;" keeps its defaults.
    # The reporter needs the connection count to undo wrk's latency correction, and wrk
    # does not give it to scripts.
    env = {"LUA_PATH": f"{lua_dir}/?.lua;;", "FWBENCH_WRK_CONNECTIONS": str(spec.connections)}
    if histogram:
        env["FWBENCH_WRK_HISTOGRAM"] = "1"
    return env


def wrk_deadline_s(spec: LoadSpec) -> int:
    """Seconds after its start by which wrk must have finished, or be killed."""
    return spec.duration_s + spec.timeout_s + _GRACE_S


class WrkProcess:
    """One wrk started on this machine, in a session of its own guarded by a watchdog
    (if fwbench dies, the watchdog stops it); several can run at once.

    Args:
        spec: the run.
        histogram: have the reporter print every latency bucket; default False.

    Raises:
        MissingTool: wrk (or taskset, when pinning) is not installed.
    """

    def __init__(self, spec: LoadSpec, *, histogram: bool = False) -> None:
        self.spec = spec
        self._deadline = time.monotonic() + wrk_deadline_s(spec)
        self._process = subprocess.Popen(
            wrk_command(spec),
            env={**os.environ, **wrk_env(spec, histogram=histogram)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._watchdog = Watchdog(self._process.pid)

    def output(self) -> str:
        """Wait for wrk and return its standard output; kill it if it overruns.

        Raises:
            LoadError: wrk overran, failed or printed no report.
        """
        process, spec = self._process, self.spec
        try:
            stdout, stderr = process.communicate(
                timeout=max(0.0, self._deadline - time.monotonic())
            )
        except subprocess.TimeoutExpired:
            raise LoadError(
                f"wrk did not finish within {wrk_deadline_s(spec)} s",
                "check that the machine is not overloaded, then rerun",
            ) from None
        finally:
            self.stop()
        return checked_output(spec, process.returncode, stdout, stderr)

    def stop(self) -> None:
        """Kill wrk if it still runs and release its watchdog; idempotent."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
        self._watchdog.release()


def checked_output(spec: LoadSpec, returncode: int, stdout: str, stderr: str) -> str:
    """wrk's standard output, if it exited well and printed a report.

    Raises:
        LoadError: it did not; the message quotes its last words.
    """
    if returncode != 0 or RESULT_MARKER not in stdout:
        detail = _last_line(stderr) or _last_line(stdout) or f"exit status {returncode}"
        raise LoadError(
            f"wrk failed against {spec.url}{spec.path}: {detail}",
            "check that the service is running and answers there",
        )
    return stdout


def parse_wrk_output(output: str) -> LoadSample:
    """Read the report line of ``lua/fwbench_report.lua`` from wrk's standard output.

    Args:
        output: everything wrk printed on stdout (its own summary is ignored).

    Raises:
        LoadError: no report line, or a report that is not valid.
    """
    return parse_wrk_report(output)[0]


def parse_wrk_report(output: str) -> tuple[LoadSample, tuple[tuple[int, int], ...] | None]:
    """Read the report line of ``lua/fwbench_report.lua``, with its latency histogram.

    Args:
        output: everything wrk printed on stdout (its own summary is ignored).

    Returns:
        The sample, and the ``(microseconds, count)`` of every non-empty bucket of wrk's
        latency histogram, ascending; None when the reporter was not asked for it
        (:func:`wrk_env`) or could not read it.

    Raises:
        LoadError: no report line, or a report that is not valid.
    """
    lines = [line for line in output.splitlines() if line.startswith(RESULT_MARKER)]
    if len(lines) != 1:
        raise LoadError(
            f"wrk printed {len(lines)} fwbench report lines instead of one",
            "run wrk with one of fwbench's Lua scripts, which all use fwbench_report.lua",
        )
    try:
        report = json.loads(lines[0].removeprefix(RESULT_MARKER))
        errors = report["errors"]
        statuses = {int(status): int(n) for status, n in report["statuses"].items()}
        above_399 = sum(n for status, n in statuses.items() if status > 399)
        if errors["status"] != above_399:
            raise ValueError(
                f"wrk counted {errors['status']} statuses above 399, the script {above_399}"
            )
        latency = report["latency_us"]
        histogram = report.get("histogram_us")
        buckets = None if histogram is None else tuple((int(v), int(n)) for v, n in histogram)
        sample = LoadSample(
            requests=report["requests"],
            duration_us=report["duration_us"],
            bytes=report["bytes"],
            errors=SocketErrors(
                connect=errors["connect"],
                read=errors["read"],
                write=errors["write"],
                timeout=errors["timeout"],
            ),
            statuses=statuses,
            latency_us=Latency(
                p50=latency["p50"],
                p75=latency["p75"],
                p90=latency["p90"],
                p99=latency["p99"],
                p99_9=latency["p99_9"],
                max=latency["max"],
                mean=latency["mean"],
                stdev=latency["stdev"],
                # Absent from wrk outputs recorded before the reporter printed it.
                uncorrected_mean=latency.get("uncorrected_mean"),
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise LoadError(
            f"wrk's fwbench report is not valid: {error}",
            "check the Lua scripts under fwbench/harness/lua",
        ) from None
    return sample, buckets


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def cpu_list(cpus: Iterable[int]) -> str:
    """CPUs as taskset and the reports write them: ``0,1``."""
    return ",".join(str(cpu) for cpu in sorted(cpus))
