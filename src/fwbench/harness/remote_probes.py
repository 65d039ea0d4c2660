"""The probes of ``fwbench run`` on the host that runs the service: memory of its process
tree, cold start and import time, measured there by ``fwbench probe`` (the same code as a
local run, :mod:`fwbench.harness.probes`) and streamed back as JSON lines over SSH.

* :class:`RemoteMemorySampler` runs ``fwbench probe memory --pid PID`` under the guard
  beside a remote service while wrk loads it, and feeds each sample line it reads into a
  :class:`~.probes.MemoryRecord`, so the profile is computed exactly as a local one;
  samples read after :meth:`RemoteMemorySampler.steady` count as the steady state.
* :func:`remote_cold_starts` runs ``fwbench probe start`` and reads the cold starts and
  import time it prints;
* :class:`RemoteCpuCounters` keeps ``fwbench probe cpu --pid PID`` running beside a
  remote service and asks it for the CPU-time counters of the service's tree and CPUs
  (:mod:`~.cputime`) whenever ``fwbench model --hosts`` reads them around a wrk run.
"""

from __future__ import annotations

import json
import shlex
import threading
from types import TracebackType
from typing import Final, Self

import paramiko

from fwbench.harness.cputime import CpuReading
from fwbench.harness.documents import load
from fwbench.harness.load import cpu_list
from fwbench.harness.probes import MEMORY_INTERVAL_S, MemoryRecord, ProbeFailed, TreeSample
from fwbench.harness.remote import Remote, RemoteError, RemoteProcess, RemoteService
from fwbench.harness.results import ColdStart, ImportTime, MemoryProfile, MemoryUse

#: Seconds the memory probe may take to print its first sample (start an interpreter).
_FIRST_SAMPLE_S: Final = 60

#: Seconds one cold start may take on the host, its first request included.
_SPAWN_S: Final = 100

#: Seconds the import-time measurement may take (three fresh interpreters).
_IMPORTS_S: Final = 400

#: Seconds the CPU probe may take to start, and then to answer one question.
_CPU_START_S: Final = 60
_CPU_ANSWER_S: Final = 30


def _probe_argv(remote: Remote, cpus: tuple[int, ...] | None, *args: str) -> list[str]:
    """``fwbench probe ARGS`` (:mod:`~.hostprobe`) with the host's Python, pinned to
    ``cpus`` when given."""
    argv = [remote.python, "-m", "fwbench.harness.hostprobe", *args]
    return ["taskset", "-c", cpu_list(cpus), *argv] if cpus else argv


def parse_memory_line(line: str) -> TreeSample:
    """One sample printed by ``fwbench probe memory``.

    Raises:
        ProbeFailed: the line is not such a sample.
    """
    try:
        processes = json.loads(line)["memory"]
        return {
            int(pid): (str(name), MemoryUse(rss=rss, uss=uss, pss=pss))
            for pid, (name, rss, uss, pss) in processes.items()
        }
    except (ValueError, KeyError, TypeError) as error:
        raise ProbeFailed(
            f"the memory probe printed {line[:80]!r}, not a sample ({error})",
            "check that the host runs the same fwbench checkout",
        ) from None


class RemoteMemorySampler:
    """Samples the memory of a remote service's process tree on its host, for the
    length of a ``with`` block, with the interface of :class:`~.probes.MemorySampler`.

    Args:
        service: the running service on its host.
        cpus: CPUs of the host the probe runs on (keep it off the service's); None: not
            pinned.
        interval_s: seconds between samples, default :data:`~.probes.MEMORY_INTERVAL_S`.
    """

    def __init__(
        self,
        service: RemoteService,
        cpus: tuple[int, ...] | None = None,
        interval_s: float = MEMORY_INTERVAL_S,
    ) -> None:
        self._remote = service.remote
        self._argv = _probe_argv(
            service.remote, cpus, "memory", "--pid", str(service.pid), "--interval", f"{interval_s}"
        )
        self._record = MemoryRecord(service.pid, interval_s)
        self._process: RemoteProcess | None = None
        self._reader = threading.Thread(
            target=self._read, name="fwbench-remote-memory", daemon=True
        )
        self._first = threading.Event()
        self.error: ProbeFailed | None = None

    def __enter__(self) -> Self:
        self._process = self._remote.start(self._argv, {})
        self._reader.start()
        # The block is what is measured: it starts once the probe samples.
        if not self._first.wait(_FIRST_SAMPLE_S) or self._record.profile() is None:
            self._process.stop()
            raise self.error or ProbeFailed(
                f"the memory probe on {self._remote.url} printed no sample within "
                f"{_FIRST_SAMPLE_S} s",
                "check that the host is not overloaded, then rerun",
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.stop()
        self._reader.join(timeout=10)

    def _read(self) -> None:
        process = self._process
        assert process is not None, "started on entering the block"
        try:
            # The probe prints a line every interval; an empty read is the end of its output.
            while line := process.read_line(timeout=3600):
                self._record.add(parse_memory_line(line))
                self._first.set()
        except ProbeFailed as error:
            self.error = error
        except (OSError, EOFError, paramiko.SSHException):
            pass  # the session was closed under the read: the block is over
        finally:
            self._first.set()  # the block waits no longer for a probe that ended

    def steady(self) -> None:
        """Count the samples read from now on as the steady state under load."""
        self._record.steady()

    def profile(self) -> MemoryProfile | None:
        """The memory profile of the samples read so far; None when none was."""
        return self._record.profile()


def remote_cold_starts(
    service: RemoteService,
    count: int,
    *,
    workers: int | None,
    downstream_url: str | None,
    ports: range | None,
) -> tuple[ColdStart, ImportTime]:
    """Time ``count`` cold starts of ``service``'s configuration on its host, then its
    import time (``fwbench probe start``), pinned to the service's CPUs, with its database
    (already prepared) and downstream. Call it once the service is halted
    (:meth:`~.remote.RemoteService.halt`), as a local run times cold starts once the
    measured service is stopped.

    Args:
        service: the (halted) service whose configuration is started.
        count: spawns to time.
        workers: ``--workers`` as the run was given it; None: the server's rule.
        downstream_url: the downstream, as the host reaches it; None: the default.
        ports: TCP ports of the host for the spawns; None: ones free there.

    Raises:
        FwbenchError: the probe failed on the host (its sentence is quoted).
    """
    config = service.config
    assert config is not None, "a framework service has its configuration"
    args = ["start", "--framework", config.framework, "--server", config.server]
    args += ["--count", str(count), "--cpus", ",".join(map(str, service.cpus))]
    if workers is not None:
        args += ["--workers", str(workers)]
    if service.database is not None:
        args += ["--database", service.database]
    if downstream_url is not None:
        args += ["--downstream-url", downstream_url]
    if ports is not None:
        args += ["--ports", f"{ports[0]}-{ports[-1]}"]
    remote = service.remote
    process = remote.start(_probe_argv(remote, None, *args), {})
    try:
        status, stdout, stderr = process.finish(count * _SPAWN_S + _IMPORTS_S)
    finally:
        process.stop()
    if status != 0:
        lines = [line.removeprefix("Error: ") for line in stderr.splitlines() if line.strip()]
        raise RemoteError(
            f"cold starts failed on {remote.url}: {lines[-1] if lines else f'status {status}'}",
            "run `" + shlex.join(["fwbench", "probe", *args]) + "` there to see why",
        )
    found: dict[str, object] = {}
    for line in stdout.splitlines():
        if line.strip():
            found.update(json.loads(line))
    try:
        return load(ColdStart, found["cold_start"]), load(ImportTime, found["import_time"])
    except (KeyError, ValueError) as error:
        raise ProbeFailed(
            f"the start probe on {remote.url} printed no cold start and import time ({error})",
            "check that the host runs the same fwbench checkout",
        ) from None


class RemoteCpuCounters:
    """The CPU-time counters of a remote service, read on its host for the length of a
    ``with`` block: ``fwbench probe cpu`` runs beside it (its own guard: it ends with the
    SSH session) and answers each :meth:`read` with the counters at that moment, so two
    readings' ``at_s`` are of the host's clock and subtract.

    Args:
        service: the running service on its host.
        cpus: CPUs of the host the probe runs on (keep it off the service's); None: not
            pinned.
    """

    def __init__(self, service: RemoteService, cpus: tuple[int, ...] | None = None) -> None:
        self._remote = service.remote
        self._argv = _probe_argv(
            service.remote,
            cpus,
            "cpu",
            "--pid",
            str(service.pid),
            "--cpus",
            ",".join(map(str, service.cpus)),
        )
        self._process: RemoteProcess | None = None

    def __enter__(self) -> Self:
        self._process = self._remote.start(self._argv, {}, guarded=False)
        self.read(_CPU_START_S)  # the first answer: the probe has imported what it reads with
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.stop()

    def read(self, timeout: float = _CPU_ANSWER_S) -> CpuReading:
        """The counters now, read on the service host.

        Raises:
            ProbeFailed: the probe did not answer a reading within ``timeout`` seconds.
            RemoteError: the session is gone.
        """
        assert self._process is not None, "started on entering the block"
        line = self._process.ask("read", timeout)
        try:
            at_s, tree_s, busy_s = json.loads(line)["cpu"]
            return CpuReading(at_s=float(at_s), tree_s=float(tree_s), busy_s=float(busy_s))
        except (ValueError, KeyError, TypeError) as error:
            raise ProbeFailed(
                f"the CPU probe on {self._remote.url} answered {line[:80]!r}, not its "
                f"counters ({error})",
                "check that the host runs the same fwbench checkout",
            ) from None
