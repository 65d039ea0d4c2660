"""Start services under their production servers, and stop them without leaving a process.

Each service runs in its own session (hence its own process group): :meth:`ServiceProcess.stop`
asks the server's master to shut down gracefully (SIGTERM, what every supported server
documents as its graceful stop), waits, then SIGKILLs whatever is left of the group and
of the process tree. Use it as a context manager; an ``atexit`` hook stops anything still
running when the interpreter exits, :func:`exit_on_sigterm` makes SIGTERM unwind the
stack like Ctrl-C so context managers run, and a watchdog per service
(:mod:`fwbench.harness.watchdog`) stops it if fwbench dies without any of these running.

Typical use::

    with start_downstream(port=18401) as downstream:
        with start_service("flask", port=18402, downstream_url=downstream.url) as flask:
            ...  # flask.url answers /healthz
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Final

import psutil

from fwbench.harness import http
from fwbench.harness.databases import database_url_for, redacted
from fwbench.harness.errors import (
    BootstrapFailed,
    InvalidOption,
    MissingTool,
    PortInUse,
    ServiceStartFailed,
)
from fwbench.harness.load import cpu_list
from fwbench.harness.results import ServiceRun
from fwbench.harness.servers import (
    FRAMEWORK_FACTS,
    Framework,
    ServerConfig,
    canonical_server,
    configure,
)
from fwbench.harness.watchdog import Watchdog
from fwbench.services.downstream.faults import ERROR_RATE_ENV, LATENCY_ENV, Faults

#: Tokens used when ``API_TOKEN`` / ``ADMIN_TOKEN`` are not in the environment.
DEFAULT_TOKENS: Final[dict[str, str]] = {
    "API_TOKEN": "fwbench-api-token",
    "ADMIN_TOKEN": "fwbench-admin-token",
}

#: RSGI target of the downstream service, always run by granian with one worker: its
#: fault settings live in process memory, and one core serves far more than needed.
DOWNSTREAM_APP: Final = "fwbench.services.downstream.app:app"

#: Seconds a database bootstrap may take (seeding 10,000 rows is well under that).
_BOOTSTRAP_TIMEOUT: Final = 300


class ServiceProcess:
    """One started server and its whole process tree. A context manager: leaving the
    ``with`` block (normally, by exception or by Ctrl-C) calls :meth:`stop`.

    Attributes:
        name: ``fastapi``, ``flask``, ``django`` or ``downstream``.
        config: the server configuration (None for the downstream, see ``argv``).
        argv: the exact command line executed (``taskset -c ...`` first when pinned).
        env: the environment variables fwbench set for it (the rest is inherited).
        url: base URL, e.g. ``http://127.0.0.1:18401``.
        cpus: the CPUs it is pinned to, or None when not pinned.
        pid: process id of the server's master (the process group leader).
        started_at: ``time.monotonic()`` just before the spawn (cold starts count from it).

    Normally made by :func:`start_service` or :func:`start_downstream`; constructing one
    spawns ``argv`` at once. ``workdir`` is an existing directory the service owns (its
    log unless ``inherit_output``, its metrics files), removed by :meth:`stop`.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        *,
        url: str,
        config: ServerConfig | None,
        cpus: frozenset[int] | None,
        workdir: Path,
        inherit_output: bool,
    ) -> None:
        self.name = name
        self.config = config
        self.argv = argv
        self.env = dict(env)
        self.url = url
        self.cpus = cpus
        self._workdir = workdir
        self._log_path = None if inherit_output else workdir / "server.log"
        self._stopped = False
        full_env = {**os.environ, **self.env}
        if "PROMETHEUS_MULTIPROC_DIR" not in self.env:
            # An inherited directory would make a single-process server share state
            # with a stranger; only fwbench decides when a server is multiprocess.
            full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        log = None if self._log_path is None else self._log_path.open("wb")
        try:
            self.started_at = time.monotonic()
            self._popen = subprocess.Popen(
                argv,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                # Own session = own process group, so stop() can reach every worker,
                # and a terminal's Ctrl-C reaches only fwbench, which then stops it.
                start_new_session=True,
            )
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        finally:
            if log is not None:
                log.close()
        self.pid = self._popen.pid
        # Stops the group if fwbench dies without running stop() (e.g. SIGKILL).
        self._watchdog = Watchdog(self.pid)
        _live.add(self)

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ServiceProcess {self.name} pid={self.pid} {self.url}>"

    def exit_code(self) -> int | None:
        """The master's exit code (negative signal number if killed), None while it
        runs. Does not reap it, so its process group stays reserved until :meth:`stop`."""
        try:
            result = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # already reaped by stop()
            return self._popen.returncode
        return None if result is None else _status(result)

    def wait(self) -> int:
        """Block until the master exits on its own; return its exit code (see
        :meth:`exit_code`). Interrupted by signals whose handlers raise, e.g. Ctrl-C."""
        try:
            result = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            return self._popen.returncode
        # Without WNOHANG, waitid returns only once the master has exited.
        assert result is not None
        return _status(result)

    def output(self) -> str:
        """What the server wrote to stdout/stderr so far ("" when it inherits them)."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, path: str = "/healthz", timeout: float = 30) -> float:
        """Poll ``GET path`` until it answers 2xx; return the seconds from spawn to it.

        Args:
            path: URL path to poll, default ``/healthz``.
            timeout: seconds to wait from now, default 30.

        Raises:
            ServiceStartFailed: the server exited, or did not answer 2xx in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            code = self.exit_code()
            if code is not None:
                raise ServiceStartFailed(
                    f"{self.name} exited with code {code} before answering {path}"
                    + _last_line(self.output(), prefix=": "),
                    "fix the error above and start it again",
                )
            try:
                if http.request("GET", f"{self.url}{path}", timeout_s=2).ok:
                    return time.monotonic() - self.started_at
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise ServiceStartFailed(
                    f"{self.name} did not answer 2xx on {self.url}{path} within {timeout:g} s",
                    "check its output for errors, or allow a longer start-up",
                )
            time.sleep(0.01)

    def processes(self) -> list[psutil.Process]:
        """The master and all its descendants (workers, helpers), for memory probes.
        Empty once stopped."""
        if self._stopped:
            return []
        try:
            master = psutil.Process(self.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 10) -> None:
        """Stop the server and every process it started; idempotent.

        SIGTERM to the master (graceful stop for gunicorn, uvicorn and granian), up to
        ``timeout`` seconds (default 10) for the tree to exit, then SIGKILL to the
        process group and to any descendant that left it. Removes the service's
        temporary directory (logs, Prometheus multiprocess files).
        """
        if self._stopped:
            return
        deadline = time.monotonic() + timeout
        tree = self.processes()
        _signal(self.pid, signal.SIGTERM)
        while self.exit_code() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.exit_code() is not None:
            # Master gone: any worker it left behind gets the same graceful chance.
            _signal_group(self.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(
            [p for p in tree if p.pid != self.pid], timeout=max(0.0, deadline - time.monotonic())
        )
        # The master is not reaped yet (exit_code() uses WNOWAIT), so the group id
        # cannot have been reused by an unrelated process when we signal it here.
        _signal_group(self.pid, signal.SIGKILL)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=5)
        self._watchdog.release()
        self._popen.wait()
        self._stopped = True
        _live.discard(self)
        shutil.rmtree(self._workdir, ignore_errors=True)


def _status(result: os.waitid_result) -> int:
    """Exit code from a ``waitid`` result: the code, or minus the killing signal."""
    return result.si_status if result.si_code == os.CLD_EXITED else -result.si_status


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _last_line(text: str, prefix: str = "") -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{prefix}{lines[-1]}" if lines else ""


_live: set[ServiceProcess] = set()


@atexit.register
def _stop_all() -> None:
    """Safety net: stop every service still running when the interpreter exits."""
    for service in list(_live):
        service.stop()


def exit_on_sigterm() -> None:
    """Make SIGTERM raise KeyboardInterrupt in the main thread, like Ctrl-C, so that
    ``with`` blocks stop their services and partial results are kept. Call it once from
    the main thread of a command that starts services."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def ensure_port_free(host: str, port: int) -> None:
    """Raise PortInUse when nothing can bind ``host:port`` (something listens there).

    Args:
        host: address the service will bind, e.g. ``"127.0.0.1"``.
        port: TCP port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Same option the servers set: a port left in TIME_WAIT by a stopped server
        # is free for them, so it is free for us.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is already in use",
                    "stop whatever listens there or pass another --port",
                ) from None
            raise InvalidOption(
                f"cannot bind {host}:{port}: {error.strerror}", "pass another --host or --port"
            ) from None


def free_port(candidates: Iterable[int] | None = None, host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on.

    Args:
        candidates: ports to try in order (e.g. your assigned range), consumed only up
            to the port returned; None (default) lets the kernel pick an ephemeral port.
        host: address the port must be free on, default ``127.0.0.1``.

    Raises:
        PortInUse: every candidate is taken.
    """
    if candidates is None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
            return port
    tried: list[int] = []
    # Lazily: an iterator shared by several callers keeps the ports not yet tried.
    for port in candidates:
        tried.append(port)
        try:
            ensure_port_free(host, port)
        except PortInUse:
            continue
        return port
    raise PortInUse(
        f"every port in {tried[0]}-{tried[-1]} on {host} is in use" if tried else "no port to try",
        "stop the services holding them or choose other ports",
    )


class PortRotation:
    """Free TCP ports taken in turn from ``ports``, so a port just released is not reused
    at once (a stopped server's sockets may linger in TIME_WAIT); with ``ports`` None,
    ports the operating system picks. Call it for the next port.

    Raises (on call):
        PortInUse: every port of the range is taken.
    """

    def __init__(self, ports: range | None) -> None:
        self._ports = ports
        self._next = 0

    def __call__(self) -> int:
        if self._ports is None:
            return free_port()
        ordered = [*self._ports[self._next :], *self._ports[: self._next]]
        port = free_port(ordered)
        self._next = (self._ports.index(port) + 1) % len(self._ports)
        return port


def _pinned(argv: list[str], cpus: Iterable[int] | None) -> tuple[list[str], frozenset[int] | None]:
    """Prefix ``argv`` with ``taskset -c`` so the server and every worker it forks
    inherit the CPU set (affinity survives fork and exec)."""
    if cpus is None:
        return argv, None
    pinned = frozenset(cpus)
    available = os.sched_getaffinity(0)
    if not pinned or not pinned <= available:
        missing = cpu_list(pinned - available) or "(none given)"
        raise InvalidOption(
            f"CPU {missing} is not available here", f"choose among CPUs {cpu_list(available)}"
        )
    taskset = shutil.which("taskset")
    if taskset is None:
        raise MissingTool(
            "taskset is not installed, so services cannot be pinned to CPUs",
            "install util-linux (apt-get install util-linux) or leave --cpus out",
        )
    return [taskset, "-c", cpu_list(pinned), *argv], pinned


def run_bootstrap(framework: Framework, env: Mapping[str, str]) -> None:
    """Create and seed ``framework``'s database (``python -m <service>.bootstrap``).

    Args:
        framework: one of the three frameworks.
        env: variables to add to the inherited environment (``DATABASE_URL`` ...).

    Raises:
        BootstrapFailed: it exited non-zero (the message carries its last stderr line)
            or ran longer than five minutes.
    """
    module = f"{FRAMEWORK_FACTS[framework].package}.bootstrap"
    try:
        result = subprocess.run(
            [sys.executable, "-m", module],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_BOOTSTRAP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BootstrapFailed(
            f"the {framework} database bootstrap ran longer than {_BOOTSTRAP_TIMEOUT} s",
            "check that the database is not locked or overloaded, then retry",
        ) from None
    if result.returncode != 0:
        detail = _last_line(result.stderr) or _last_line(result.stdout) or "no output"
        detail = detail.rstrip(".")
        raise BootstrapFailed(
            f"the {framework} database bootstrap failed: {detail}",
            "fix the database (or pass another --database) and retry",
        )


def service_run(process: ServiceProcess, cpus: tuple[int, ...]) -> ServiceRun:
    """What the results file records of a framework service started on ``cpus``.

    Raises:
        ServiceStartFailed: ``process`` is the downstream (it has no server configuration).
    """
    config = process.config
    if config is None:
        raise ServiceStartFailed(f"{process.name} has no server configuration", "report a bug")
    return ServiceRun(
        framework=config.framework,
        server=config.server,
        workers=config.workers,
        threads=config.threads,
        advice=config.advice,
        command=tuple(process.argv),
        cpus=cpus,
        database=redacted(process.env["DATABASE_URL"]),
    )


def service_env(
    config: ServerConfig,
    database_url: str,
    downstream_url: str | None,
    served_at: Sequence[str] = (),
) -> dict[str, str]:
    """The environment of a service run as ``config`` says, on this or another host
    (:mod:`fwbench.harness.remote`), before its metrics directory is added.

    Args:
        config: the server configuration.
        database_url: its ``DATABASE_URL`` (:func:`database_url_for`).
        downstream_url: its ``DOWNSTREAM_URL``; None leaves the environment's value or
            the service's own default.
        served_at: the host names clients address it by besides loopback (a service
            host's address, a balancer's), which a framework that checks the ``Host``
            header is told to answer (``FrameworkFacts.allowed_hosts_env``); default none.
    """
    env = {
        "DATABASE_URL": database_url,
        **{name: os.environ.get(name, token) for name, token in DEFAULT_TOKENS.items()},
        **FRAMEWORK_FACTS[config.framework].env,
        **config.env,
        # Server output goes to a log file when captured: line-buffer it.
        "PYTHONUNBUFFERED": "1",
    }
    if downstream_url is not None:
        env["DOWNSTREAM_URL"] = downstream_url
    allowed_hosts_env = FRAMEWORK_FACTS[config.framework].allowed_hosts_env
    if served_at and allowed_hosts_env is not None:
        env[allowed_hosts_env] = ",".join(served_at)
    return env


def start_service(
    framework: str,
    *,
    port: int,
    server: str | None = None,
    host: str = "127.0.0.1",
    workers: int | None = None,
    threads: int | None = None,
    cores: int | None = None,
    database_url: str | None = None,
    downstream_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    cpus: Iterable[int] | None = None,
    bootstrap: bool = True,
    wait: bool = True,
    ready_timeout: float = 30,
    state_dir: Path | None = None,
    inherit_output: bool = False,
    announce: Callable[[str], None] | None = None,
) -> ServiceProcess:
    """Prepare ``framework``'s database and start it under a production server.

    Args:
        framework: ``fastapi``, ``flask`` or ``django``.
        port: TCP port to listen on (checked free first).
        server: server name; None (default) is the framework's canonical server.
        host: address to bind, default ``127.0.0.1``.
        workers: worker processes; None (default) follows the server's documented rule.
        threads: threads per worker (gunicorn-gthread, granian WSGI); None: the rule.
        cores: core budget the rule is sized for; None (default): the number of
            ``cpus`` when given, else the CPUs this process may use.
        database_url: base database URL (see :func:`database_url_for`); None (default)
            is a SQLite file per service in ``state_dir``.
        downstream_url: ``DOWNSTREAM_URL`` for the service; None (default) leaves the
            environment's value or the service's own default (``http://127.0.0.1:8900``).
        extra_env: more variables for the service, applied last (e.g. ``FWBENCH_LAB``).
        cpus: CPUs to pin the server and its workers to; None (default): no pinning.
        bootstrap: run the database bootstrap first (default True).
        wait: wait until ``/healthz`` answers 2xx before returning (default True).
        ready_timeout: seconds :meth:`ServiceProcess.wait_ready` waits, default 30.
        state_dir: directory of the default SQLite files; None: ``~/.cache/fwbench``.
        inherit_output: let the server write to our stdout/stderr (``fwbench serve``)
            instead of a log file readable with :meth:`ServiceProcess.output` (default).
        announce: called with a one-line message before the slow bootstrap step, once
            every option has been checked; None (default): silent.

    Raises:
        FwbenchError: subclasses for an unknown server, a bad option, a busy port, an
            unreachable database, a failed bootstrap or a server that did not start.
    """
    server = server if server is not None else canonical_server(framework)
    argv_cpus = frozenset(cpus) if cpus is not None else None
    if cores is None:
        cores = len(argv_cpus) if argv_cpus else len(os.sched_getaffinity(0))
    config = configure(framework, server, cores, workers=workers, threads=threads)
    argv, pinned = _pinned(config.command(host, port), argv_cpus)
    ensure_port_free(host, port)
    env = service_env(config, database_url_for(framework, database_url, state_dir), downstream_url)
    if bootstrap:
        if announce is not None:
            announce(f"preparing the {framework} database {redacted(env['DATABASE_URL'])}")
        run_bootstrap(config.framework, {**env, **(extra_env or {})})
    workdir = Path(tempfile.mkdtemp(prefix=f"fwbench-{framework}-"))
    if config.multiprocess:
        # prometheus_client's multiprocess mode: a fresh, empty directory per run.
        metrics_dir = workdir / "prometheus"
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    env.update(extra_env or {})
    service = ServiceProcess(
        framework,
        argv,
        env,
        url=_url(host, port),
        config=config,
        cpus=pinned,
        workdir=workdir,
        inherit_output=inherit_output,
    )
    if wait:
        _wait_or_stop(service, ready_timeout)
    return service


def start_downstream(
    *,
    port: int,
    host: str = "127.0.0.1",
    cpus: Iterable[int] | None = None,
    latency_ms: int = 0,
    error_rate: float = 0.0,
    wait: bool = True,
    inherit_output: bool = False,
) -> ServiceProcess:
    """Start the downstream service (granian RSGI, one worker).

    Args:
        port: TCP port to listen on (checked free first).
        host: address to bind, default ``127.0.0.1``.
        cpus: CPUs to pin it to; None (default): no pinning.
        latency_ms: extra latency of every ``/delay`` and ``/score`` answer, default 0.
        error_rate: fraction of those answered with an error, 0..1, default 0.
        wait: wait until ``/healthz`` answers before returning (default True).
        inherit_output: write to our stdout/stderr instead of a log file (default False).

    Faults can be changed while it runs with ``PUT /_faults``; to test a downstream
    that refuses connections, stop it or point the service at a port nothing listens on.

    Raises:
        InvalidOption: a fault setting out of range.
        PortInUse: the port is taken.
    """
    try:
        Faults(latency_ms=latency_ms, error_rate=error_rate).validate()
    except ValueError as error:
        raise InvalidOption(str(error), "pass --latency-ms >= 0 and --error-rate in 0..1") from None
    argv, pinned = _pinned(downstream_command(host, port), cpus)
    ensure_port_free(host, port)
    env = downstream_env(latency_ms, error_rate)
    service = ServiceProcess(
        "downstream",
        argv,
        env,
        url=_url(host, port),
        config=None,
        cpus=pinned,
        workdir=Path(tempfile.mkdtemp(prefix="fwbench-downstream-")),
        inherit_output=inherit_output,
    )
    if wait:
        _wait_or_stop(service, 30)
    return service


def start_server(
    name: str,
    command: list[str],
    *,
    host: str,
    port: int,
    cpus: Iterable[int] | None = None,
    workdir: Path | None = None,
) -> ServiceProcess:
    """Start a server that is not one of fwbench's services (HAProxy in front of
    replicas, :mod:`fwbench.harness.balancer`), owned like them, and wait until it answers
    ``/healthz``.

    Args:
        name: what it is, for messages.
        command: its argv.
        host: the address it listens on (checked free first, with ``port``).
        port: its TCP port.
        cpus: CPUs to pin it to; None (default): not pinned.
        workdir: a directory it owns, removed when it stops (its log, its configuration);
            None: a new temporary one.

    Raises:
        FwbenchError: the port is taken, or it did not answer within 30 s.
    """
    argv, pinned = _pinned(command, cpus)
    ensure_port_free(host, port)
    server = ServiceProcess(
        name,
        argv,
        {},
        url=_url(host, port),
        config=None,
        cpus=pinned,
        workdir=workdir if workdir is not None else Path(tempfile.mkdtemp(prefix="fwbench-")),
        inherit_output=False,
    )
    _wait_or_stop(server, 30)
    return server


def downstream_command(host: str, port: int) -> list[str]:
    """The argv of the downstream, ``sys.executable -m granian ...``, bound to
    ``host:port`` (on this or another host, :mod:`fwbench.harness.remote`)."""
    return [
        sys.executable, "-m", "granian", "--interface", "rsgi",
        "--host", host, "--port", str(port),
        "--workers", "1", "--loop", "uvloop",
        "--no-access-log", "--workers-kill-timeout", "10",
        DOWNSTREAM_APP,
    ]  # fmt: skip


def downstream_env(latency_ms: int = 0, error_rate: float = 0.0) -> dict[str, str]:
    """The downstream's environment: its initial faults (see :func:`start_downstream`)."""
    return {
        LATENCY_ENV: str(latency_ms),
        ERROR_RATE_ENV: repr(error_rate),
        "PYTHONUNBUFFERED": "1",
    }


def _wait_or_stop(service: ServiceProcess, timeout: float) -> None:
    """Wait for readiness; on any failure (or Ctrl-C) stop the service before raising."""
    try:
        service.wait_ready(timeout=timeout)
    except BaseException:
        service.stop()
        raise


def set_faults(url: str, faults: Faults) -> None:
    """Replace every fault setting of the downstream running at ``url`` (``PUT /_faults``).

    Raises:
        ServiceStartFailed: the downstream did not answer, or refused the settings.
    """
    try:
        response = http.request("PUT", f"{url}/_faults", json=faults.as_json(), timeout_s=10)
    except OSError as error:
        raise ServiceStartFailed(
            f"the downstream did not take its fault settings: {error}",
            "check the downstream's output",
        ) from None
    if not response.ok:
        raise ServiceStartFailed(
            f"the downstream refused its fault settings (HTTP {response.status})",
            "report it with the downstream's output",
        )
