"""Probes beside the load: memory of a service's process tree, cold start, import time.

* :class:`MemorySampler` samples RSS, USS and PSS of every process of a running service
  (:func:`read_tree`: psutil's ``memory_full_info``, read from ``/proc/PID/smaps_rollup``
  on Linux) in a background thread while wrk loads it; :class:`MemoryRecord` turns the
  samples into a profile, also for samples streamed from a service host.
* :func:`measure_cold_starts` spawns a service N times and times its first answers
  (:func:`time_first_answers`).
* :func:`measure_import_time` runs ``python -X importtime -c "import MODULE"``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Protocol, Self

import psutil

from fwbench.harness import http
from fwbench.harness.errors import FwbenchError, ServiceStartFailed
from fwbench.harness.load import cpu_list, find_taskset
from fwbench.harness.process import ServiceProcess, start_service
from fwbench.harness.results import ColdStart, ImportTime, MemoryProfile, MemoryUse, ProcessMemory

#: Seconds between memory samples: several per measured repeat, at a cost (reading
#: smaps_rollup of a few processes) far below a millisecond of the load CPUs.
MEMORY_INTERVAL_S: Final = 0.5

#: The domain request of a cold start: authenticated, reads the database through the ORM,
#: so lazy initialisation (connection pool, ORM mappers, first query) is paid by it.
FIRST_REQUEST_PATH: Final = "/transactions?limit=1"

#: Costliest top-level packages recorded per import-time measurement.
HEAVIEST: Final = 8

#: Fresh interpreters timed per import-time measurement.
IMPORT_SAMPLES: Final = 3


class ProbeFailed(FwbenchError):
    """A probe could not measure: the service misbehaved or a tool failed."""


class PeriodicSampler(ABC):
    """Calls :meth:`sample` every ``interval_s`` seconds in a background thread, from the
    start of a ``with`` block to its end.

    Args:
        name: the thread's name (seen in py-spy and tracebacks).
        interval_s: pause between the end of one sample and the next.
        cpus: CPUs the thread runs on (keep it off the service's CPUs); None: wherever
            this process may run.
        join_timeout_s: how long leaving the block waits for a sample in progress; None
            waits for it to finish.
    """

    def __init__(
        self,
        name: str,
        interval_s: float,
        cpus: tuple[int, ...] | None,
        join_timeout_s: float | None = None,
    ) -> None:
        self._interval_s = interval_s
        self._cpus = cpus
        self._join_timeout_s = join_timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(self._join_timeout_s)

    @abstractmethod
    def sample(self) -> None:
        """Take one sample (runs in the background thread)."""

    def _loop(self) -> None:
        if self._cpus is not None:
            # On Linux, pid 0 is the calling thread: only the sampler moves.
            os.sched_setaffinity(0, self._cpus)
        while True:
            self.sample()
            if self._stop.wait(self._interval_s):
                return


class ProcessTree(Protocol):
    """What :func:`read_tree` reads: a root process and its descendants
    (:class:`~.process.ServiceProcess`, or :class:`PidTree` for a process fwbench did not
    start, such as a service on this host measured by ``fwbench probe memory``)."""

    @property
    def pid(self) -> int:
        """The root process's id (a server's master)."""
        ...

    def processes(self) -> list[psutil.Process]:
        """The root and all its descendants; empty once it is gone."""
        ...


class PidTree:
    """The process tree rooted at a process id, as it is at each look.

    Args:
        pid: the root process's id.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def processes(self) -> list[psutil.Process]:
        """The root and all its descendants; empty once the root is gone (a zombie is)."""
        try:
            root = psutil.Process(self.pid)
            if root.status() == psutil.STATUS_ZOMBIE:
                return []
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


#: One memory sample: per process id, its name and memory use.
TreeSample = dict[int, tuple[str, MemoryUse]]


def read_tree(tree: ProcessTree) -> TreeSample:
    """RSS, USS and PSS of every process of ``tree`` now (psutil's ``memory_full_info``,
    ``/proc/PID/smaps_rollup`` on Linux); a process that exits meanwhile is left out."""
    processes: TreeSample = {}
    for process in tree.processes():
        try:
            info = process.memory_full_info()
            name = process.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # exited between listing and reading: not part of this sample
        processes[process.pid] = (name, MemoryUse(rss=info.rss, uss=info.uss, pss=info.pss))
    return processes


@dataclass
class _Sample:
    steady: bool
    processes: TreeSample


class MemoryRecord:
    """Memory samples of one process tree and their profile, wherever they were read:
    here by :class:`MemorySampler`, on a service host by ``fwbench probe memory``
    (streamed back by :class:`fwbench.harness.remote.RemoteMemorySampler`).

    Args:
        root: the root process's id (its master, when it has workers).
        interval_s: seconds between samples, recorded in the profile.
    """

    def __init__(self, root: int, interval_s: float) -> None:
        self.root = root
        self.interval_s = interval_s
        self._samples: list[_Sample] = []
        self._steady = False

    def steady(self) -> None:
        """Count the following samples as the steady state under load."""
        self._steady = True

    def add(self, processes: TreeSample) -> None:
        """Record one sample (:func:`read_tree`); an empty one is ignored."""
        if processes:
            self._samples.append(_Sample(self._steady, processes))

    def profile(self) -> MemoryProfile | None:
        """The memory profile of the samples so far: per process and in total, the median
        of the steady samples (all of them when none is steady) and the peak of all;
        None when no process could be read."""
        samples = list(self._samples)
        if not samples:
            return None
        steady = [s for s in samples if s.steady] or samples
        pids = sorted({pid for s in samples for pid in s.processes})
        root = self.root
        processes = []
        for pid in sorted(pids, key=lambda pid: (pid != root, pid)):
            uses = [s.processes[pid][1] for s in steady if pid in s.processes]
            every = [s.processes[pid][1] for s in samples if pid in s.processes]
            name = next(s.processes[pid][0] for s in samples if pid in s.processes)
            role = "worker" if pid != root else "master" if len(pids) > 1 else "single"
            processes.append(
                ProcessMemory(pid, role, name, _median(uses or every), _maximum(every))
            )
        totals = [_total(s.processes.values()) for s in samples]
        steady_totals = [_total(s.processes.values()) for s in steady]
        return MemoryProfile(
            samples=len(samples),
            interval_s=self.interval_s,
            steady=_median(steady_totals),
            peak=_maximum(totals),
            processes=tuple(processes),
        )


class MemorySampler(PeriodicSampler):
    """Samples the memory of a service's process tree in a background thread.

    A context manager: sampling starts on entry and stops on exit. Call :meth:`steady`
    when the warm-up is over; :meth:`profile` then summarizes the samples taken after
    that call (and all samples, for peaks).

    Args:
        service: the running service whose tree is sampled.
        cpus: CPUs the sampling thread runs on (keep it off the service's CPUs);
            None (default): wherever this process may run.
        interval_s: seconds between samples, default :data:`MEMORY_INTERVAL_S`.
        on_sample: also called with each sample as it is taken (``fwbench probe memory``
            prints it); default: nothing.
    """

    def __init__(
        self,
        service: ProcessTree,
        cpus: tuple[int, ...] | None = None,
        interval_s: float = MEMORY_INTERVAL_S,
        on_sample: Callable[[TreeSample], None] = lambda sample: None,
    ) -> None:
        super().__init__("fwbench-memory", interval_s, cpus)
        self._service = service
        self._record = MemoryRecord(service.pid, interval_s)
        self._on_sample = on_sample

    def steady(self) -> None:
        """Count the following samples as the steady state under load."""
        self._record.steady()

    def sample(self) -> None:
        processes = read_tree(self._service)
        self._record.add(processes)
        if processes:
            self._on_sample(processes)

    def profile(self) -> MemoryProfile | None:
        """The memory profile of the samples so far (:meth:`MemoryRecord.profile`)."""
        return self._record.profile()


def _total(processes: Iterable[tuple[str, MemoryUse]]) -> MemoryUse:
    uses = [use for _, use in processes]
    return MemoryUse(
        rss=sum(u.rss for u in uses), uss=sum(u.uss for u in uses), pss=sum(u.pss for u in uses)
    )


def _median(uses: list[MemoryUse]) -> MemoryUse:
    return MemoryUse(
        rss=round(statistics.median(u.rss for u in uses)),
        uss=round(statistics.median(u.uss for u in uses)),
        pss=round(statistics.median(u.pss for u in uses)),
    )


def _maximum(uses: list[MemoryUse]) -> MemoryUse:
    return MemoryUse(
        rss=max(u.rss for u in uses), uss=max(u.uss for u in uses), pss=max(u.pss for u in uses)
    )


def measure_cold_starts(
    framework: str,
    server: str,
    *,
    count: int,
    port: Callable[[], int],
    cpus: tuple[int, ...],
    workers: int | None = None,
    database_url: str | None = None,
    downstream_url: str | None = None,
    timeout_s: float = 60,
    on_spawn: Callable[[int], None] = lambda index: None,
) -> ColdStart:
    """Spawn ``framework`` on ``server`` ``count`` times; time each spawn until its first
    2xx ``/healthz`` and its first 2xx domain request (:data:`FIRST_REQUEST_PATH`).

    The database must already be bootstrapped (each spawn skips the bootstrap, as a
    restarted production instance would). Each service is stopped before the next spawn.

    Args:
        framework / server: what to start.
        count: spawns (at least 1).
        port: returns a free TCP port for each spawn.
        cpus: CPUs the service is pinned to; the server is sized for their count.
        workers: worker processes; None (default) applies the server's documented rule.
        database_url: base database URL; None (default) is the embedded SQLite.
        downstream_url: the downstream's URL (default: the service's own default).
        timeout_s: seconds a spawn may take to answer ``/healthz``, default 60.
        on_spawn: called with the spawn's index (from 0) before it starts, for progress.

    Raises:
        FwbenchError: the service did not start, or its first request failed.
    """
    healthz_ms: list[float] = []
    first_request_ms: list[float] = []
    for index in range(count):
        on_spawn(index)
        with start_service(
            framework,
            port=port(),
            server=server,
            workers=workers,
            cores=len(cpus),
            database_url=database_url,
            downstream_url=downstream_url,
            cpus=cpus,
            bootstrap=False,
            wait=False,
        ) as service:
            healthz, first_request = time_first_answers(service, timeout_s)
            healthz_ms.append(healthz)
            first_request_ms.append(first_request)
    return ColdStart(
        framework=framework,
        server=server,
        healthz_ms=tuple(healthz_ms),
        first_request_ms=tuple(first_request_ms),
        first_request_path=FIRST_REQUEST_PATH,
    )


def time_first_answers(service: ServiceProcess, timeout_s: float = 60) -> tuple[float, float]:
    """Milliseconds from ``service``'s spawn to its first 2xx ``/healthz`` and to the end
    of its first 2xx domain request (:data:`FIRST_REQUEST_PATH`).

    Args:
        service: a service just spawned with ``wait=False``.
        timeout_s: seconds it may take to answer ``/healthz``, default 60.

    Raises:
        FwbenchError: the service did not start, or its first request failed.
    """
    healthz_s = service.wait_ready("/healthz", timeout=timeout_s)
    _first_request(service)
    return healthz_s * 1000, (time.monotonic() - service.started_at) * 1000


def _first_request(service: ServiceProcess) -> None:
    try:
        response = http.request(
            "GET",
            f"{service.url}{FIRST_REQUEST_PATH}",
            headers={"Authorization": f"Bearer {service.env['API_TOKEN']}"},
            timeout_s=30,
        )
    except OSError as error:
        raise ServiceStartFailed(
            f"{service.name} answered /healthz but failed GET {FIRST_REQUEST_PATH}: {error}",
            "run `fwbench serve` to see its errors",
        ) from None
    if not response.ok:
        raise ServiceStartFailed(
            f"{service.name} answered {response.status} to its first GET {FIRST_REQUEST_PATH}",
            "run `fwbench serve` and the contract tests to see why",
        )


def parse_importtime(stderr: str, module: str) -> tuple[int, tuple[tuple[str, int], ...]]:
    """Read ``python -X importtime`` output.

    Args:
        stderr: what the interpreter wrote to stderr.
        module: the dotted module the ``-c "import MODULE"`` statement imported.

    Returns:
        The cumulative microseconds of the statement (the module and the parent packages
        it loaded, each with everything they imported), and the costliest top-level
        packages imported by it, ``(name, cumulative µs)``, largest first.

    Raises:
        ProbeFailed: the output has no entry for ``module``.
    """
    entries: list[tuple[int, str, int]] = []  # (depth, name, cumulative us)
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue  # the header line
        name = fields[2].rstrip()
        depth = (len(name) - len(name.lstrip(" "))) // 2
        entries.append((depth, name.strip(), int(fields[1])))
    parts = module.split(".")
    wanted = {".".join(parts[: i + 1]) for i in range(len(parts))}
    total = 0
    heavy: dict[str, int] = {}
    start = 0
    # Entries are printed when an import completes, so a top-level entry follows all
    # the nested imports it triggered: its subtree is the run of deeper entries before it.
    for index, (depth, name, cumulative) in enumerate(entries):
        if depth != 0:
            continue
        if name in wanted:
            total += cumulative
            for _, nested, nested_us in entries[start:index]:
                if "." not in nested and nested != parts[0]:
                    heavy[nested] = nested_us
        start = index + 1
    if module not in {name for depth, name, _ in entries if depth == 0}:
        raise ProbeFailed(
            f"python -X importtime printed no entry for {module}",
            "check that the module imports: python -c 'import " + module + "'",
        )
    ranked = sorted(heavy.items(), key=lambda item: item[1], reverse=True)[:HEAVIEST]
    return total, tuple(ranked)


def measure_import_time(
    framework: str,
    module: str,
    env: Mapping[str, str],
    *,
    samples: int = IMPORT_SAMPLES,
    cpus: tuple[int, ...] | None = None,
    python: Path = Path(sys.executable),
) -> ImportTime:
    """Import ``module`` in ``samples`` fresh interpreters under ``-X importtime``.

    Args:
        framework: the service the module belongs to.
        module: dotted module name, e.g. ``fwbench.services.flask_service.wsgi``.
        env: the complete environment of the interpreter (the service's configuration).
        samples: fresh interpreters to time, default 3.
        cpus: CPUs to pin them to (``taskset``), default: not pinned.
        python: the interpreter, default this one.

    Raises:
        ProbeFailed: the import failed.
    """
    argv = [str(python), "-X", "importtime", "-c", f"import {module}"]
    if cpus is not None:
        argv = [find_taskset(), "-c", cpu_list(cpus), *argv]
    totals: list[int] = []
    heaviest: tuple[tuple[str, int], ...] = ()
    for _ in range(samples):
        result = subprocess.run(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            last = [line for line in result.stderr.splitlines() if line.strip()][-1:]
            raise ProbeFailed(
                f"importing {module} failed: {last[0] if last else 'no output'}",
                f"run python -c 'import {module}' to see the error",
            )
        total, heaviest = parse_importtime(result.stderr, module)
        totals.append(total)
    return ImportTime(framework, module, tuple(totals), heaviest)
