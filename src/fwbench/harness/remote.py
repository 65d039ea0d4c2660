"""Run services and wrk on other hosts over SSH, with Fabric, and leave nothing behind.

Each host of a hosts file (:mod:`fwbench.harness.hosts`) gets one :class:`Remote`: a
Fabric connection (Paramiko underneath, so keys, agents and ``~/.ssh/config`` work as with
``ssh``). Short commands (checks, machine facts, a database bootstrap) run with Fabric's
``run``. Everything that lasts (a service, wrk) runs under
:mod:`fwbench.harness.guard` in an SSH session of its own whose standard input fwbench
holds: closing it, or fwbench dying in any way, ends the session, and the guard then
stops the command's whole process group. docs/hosts.md says why Fabric, and what a
host needs.

A host runs the fwbench checkout set up by the README's commands (``.venv`` with the
pinned versions, wrk, taskset) at ``HostsFile.checkout``, by default this checkout's
path, which ``fwbench prepare`` (:mod:`fwbench.harness.prepare`) copies and sets up;
:meth:`Remote.check_ready` says in one sentence what is missing.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, cast

import paramiko
from fabric import Connection

import fwbench
from fwbench.harness import http
from fwbench.harness.balancer import haproxy_config
from fwbench.harness.databases import database_url_for, redacted
from fwbench.harness.documents import load
from fwbench.harness.errors import FwbenchError, ServiceStartFailed
from fwbench.harness.generators import Generator, WrkRun
from fwbench.harness.guard import STARTED
from fwbench.harness.hosts import HostsFile, ssh_target
from fwbench.harness.load import (
    LUA_DIR,
    LoadError,
    LoadSpec,
    checked_output,
    cpu_list,
    wrk_command,
    wrk_deadline_s,
    wrk_env,
)
from fwbench.harness.process import downstream_command, downstream_env, service_env
from fwbench.harness.results import Machine, ServiceRun
from fwbench.harness.servers import FRAMEWORK_FACTS, ServerConfig
from fwbench.harness.watchdog import GRACE_S

#: This checkout: the root of the fwbench source tree the driver runs from.
CHECKOUT: Final = Path(fwbench.__file__).resolve().parents[2]

#: Seconds to wait for a host's SSH server to answer.
CONNECT_TIMEOUT_S: Final = 5

#: Seconds a short remote command (a check, a bootstrap) may take.
_COMMAND_TIMEOUT_S: Final = 300


class RemoteError(FwbenchError):
    """A host cannot be reached, is not set up, or a command failed on it."""


class Remote:
    """One SSH connection to a host of the hosts file.

    Args:
        url: the host, ``ssh://[user@]host[:port]``.
        identity_file: the private key to log in with; None: SSH's defaults.
        checkout: the fwbench checkout on the host; None: this checkout's path.

    Raises:
        RemoteError: the host cannot be reached or refuses the login.
    """

    def __init__(
        self, url: str, identity_file: str | None = None, checkout: str | None = None
    ) -> None:
        target = ssh_target(url)
        self.url = url
        self.address = target.host
        self.checkout = Path(checkout) if checkout is not None else CHECKOUT
        self._processes: list[RemoteProcess] = []
        connect: dict[str, Any] = {"key_filename": identity_file} if identity_file else {}
        self._connection = Connection(
            target.host,
            user=target.user,
            port=target.port,
            connect_timeout=CONNECT_TIMEOUT_S,
            connect_kwargs=connect,
        )
        try:
            self._connection.open()
        except (OSError, paramiko.SSHException) as error:
            self._connection.close()
            reason = str(error) or type(error).__name__
            raise RemoteError(
                f"cannot reach {url} over SSH ({reason})",
                "check the address, that sshd runs there and that your key may log in",
            ) from None

    def __enter__(self) -> Remote:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process started on the host, then close the connection."""
        for process in reversed(self._processes):
            process.stop()
        self._connection.close()

    @property
    def python(self) -> str:
        """The checkout's Python on the host."""
        return str(self.checkout / ".venv" / "bin" / "python")

    def on_host(self, path: Path) -> Path:
        """Where ``path``, a file of this checkout, is in the host's checkout."""
        return self.checkout / path.resolve().relative_to(CHECKOUT)

    def run(
        self,
        command: str,
        *,
        timeout: int = _COMMAND_TIMEOUT_S,
        input: str | None = None,
    ) -> str:
        """Run a short shell command on the host and return its standard output.

        Args:
            command: the shell command.
            timeout: seconds it may take.
            input: its standard input; None: none.

        Raises:
            RemoteError: it failed (the message quotes its last line of error output).
        """
        try:
            if input is None:
                result = self._connection.run(
                    command, hide=True, warn=True, in_stream=False, timeout=timeout
                )
                status, stdout, stderr = result.exited, result.stdout, result.stderr
            else:
                status, stdout, stderr = self._exchange(command, input.encode(), timeout)
        except Exception as error:  # invoke and paramiko: timeouts and channel failures
            raise RemoteError(
                f"{command.split()[0]} failed on {self.url}: {error}",
                "check the host and rerun",
            ) from None
        if status != 0:
            lines = (stderr or stdout).strip().splitlines()
            raise RemoteError(
                f"`{command}` failed on {self.url}: {lines[-1] if lines else status}",
                "check the host's set-up (docs/hosts.md)",
            )
        return str(stdout)

    def _exchange(self, command: str, data: bytes, timeout: float) -> tuple[int, str, str]:
        """Run ``command`` with ``data`` as its standard input on a channel of its own
        (invoke's ``in_stream`` feeds a program one byte per 10 ms); its status,
        standard output and error output."""
        channel = self._session()
        try:
            channel.settimeout(timeout)
            channel.exec_command(command)
            channel.sendall(data)
            channel.shutdown_write()
            stdout = _read_all(channel.recv)
            return channel.recv_exit_status(), stdout, _read_all(channel.recv_stderr)
        finally:
            channel.close()

    def check_ready(self) -> None:
        """Check that the host can run fwbench's services and wrk.

        Raises:
            RemoteError: one sentence naming what is missing.
        """
        python = shlex.quote(self.python)
        probe = (
            f"test -x {python} || {{ echo 'no {self.python}'; exit 0; }}; "
            f"{python} -c 'import fwbench' 2>/dev/null || "
            f"{{ echo 'fwbench is not installed in {self.python}'; exit 0; }}; "
            'for tool in wrk taskset; do command -v $tool >/dev/null || echo "no $tool"; done'
        )
        missing = self.run(probe).strip()
        if missing:
            raise RemoteError(
                f"{self.url} is not set up for fwbench: {missing.splitlines()[0]}",
                "run `fwbench prepare --hosts FILE`, or set up the checkout "
                f"{self.checkout} there with the README's commands (docs/hosts.md)",
            )

    def describe(self, rtt_targets: Sequence[tuple[str, int]] = ()) -> HostFacts:
        """The host's machine, usable CPUs and round trips to ``rtt_targets``, measured on
        the host (:mod:`fwbench.harness.hostinfo`).

        Args:
            rtt_targets: ``(address, port)`` pairs to time a TCP connection to.

        Raises:
            RemoteError: the description failed on the host.
        """
        targets = [f"{address}:{port}" for address, port in rtt_targets]
        command = shlex.join([self.python, "-m", "fwbench.harness.hostinfo", *targets])
        report = json.loads(self.run(command))
        return HostFacts(
            machine=load(Machine, report["machine"]),
            cpus=tuple(report["cpus"]),
            rtt_ms=tuple(report["rtt_ms"][target] for target in targets),
        )

    def start(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        output: str | None = None,
        guarded: bool = True,
        python: str | None = None,
    ) -> RemoteProcess:
        """Start ``argv`` on the host under :mod:`fwbench.harness.guard`; it is stopped by
        :meth:`RemoteProcess.stop`, :meth:`close`, or the end of fwbench.

        Args:
            argv: the command.
            env: variables to set for it (and for the guard).
            output: a file on the host for its output; None: the session carries it.
            guarded: False runs ``argv`` without the guard, for a command that is its own
                guard: it starts no process, prints the guard's first line with its own
                process id and ends at the end of its standard input, which it reads
                (:meth:`RemoteProcess.ask` writes to it; ``fwbench probe cpu``).
            python: the Python that runs the guard; None: the checkout's venv. (The
                guard needs only the standard library: before the venv exists, the
                host's Python runs it with ``PYTHONPATH`` at the checkout's ``src``.)
        """
        guard = [python or self.python, "-m", "fwbench.harness.guard"] if guarded else []
        if output is not None:
            assert guarded, "only the guard sends the output to a file"
            guard += ["--output", output]
        variables = [f"{name}={value}" for name, value in env.items()]
        command = shlex.join(["env", *variables, *guard, "--", *argv])
        process = RemoteProcess(self.url, self._session(), command)
        self._processes.append(process)
        return process

    def unpack(
        self,
        directory: str,
        files: Iterable[tuple[str, Path | bytes]],
        *,
        timeout: float = _COMMAND_TIMEOUT_S,
    ) -> None:
        """Write ``files`` under ``directory`` on the host (created when missing) as one
        tar stream over an SSH channel, extracted there by ``tar`` as it arrives: one
        round trip however many files.

        Args:
            directory: the directory on the host.
            files: ``(path relative to directory, local file or content)`` pairs; a local
                file keeps its mode.
            timeout: seconds the transfer may take.

        Raises:
            RemoteError: the transfer or the extraction failed (tar's last line of error
                output, e.g. ``No space left on device``).
        """
        channel = self._session()
        channel.settimeout(timeout)
        target = shlex.quote(directory)
        channel.exec_command(f"mkdir -p {target} && tar -xf - --no-same-owner -C {target}")
        try:
            # The stream mode of tarfile only writes: that is all a _Sender does.
            sender = cast("IO[bytes]", _Sender(channel))
            with tarfile.open(fileobj=sender, mode="w|") as archive:
                for name, source in files:
                    if isinstance(source, bytes):
                        info = tarfile.TarInfo(name)
                        info.size, info.mtime, info.mode = len(source), int(time.time()), 0o644
                        archive.addfile(info, io.BytesIO(source))
                    else:
                        archive.add(source, arcname=name, recursive=False)
            channel.shutdown_write()
        except (OSError, paramiko.SSHException):
            pass  # tar stopped reading (it failed): its status and message say why
        if not channel.status_event.wait(timeout):
            channel.close()
            raise RemoteError(
                f"copying files to {directory} on {self.url} took over {timeout:.0f} s",
                "check the network to the host and rerun",
            )
        status = channel.recv_exit_status()
        errors = _read_all(channel.recv_stderr).strip()
        channel.close()
        if status != 0:
            last = errors.splitlines()[-1] if errors else f"exit status {status}"
            raise RemoteError(
                f"copying files to {directory} on {self.url} failed: {last}",
                "check the space and permissions there (docs/hosts.md)",
            )

    def _session(self) -> paramiko.Channel:
        """A new SSH session channel on the connection."""
        transport = self._connection.client.get_transport()
        if transport is None or not transport.is_active():
            raise RemoteError(f"the SSH connection to {self.url} was lost", "rerun")
        return transport.open_session()


class _Sender:
    """A write-only file whose writes are sent on an SSH channel, for :mod:`tarfile`'s
    streams (paramiko's own channel files flush again when collected, which fails once
    the channel is closed and prints a traceback)."""

    def __init__(self, channel: paramiko.Channel) -> None:
        self._channel = channel

    def write(self, data: bytes) -> int:
        self._channel.sendall(data)
        return len(data)


def _read_all(receive: Callable[[int], bytes]) -> str:
    """What ``receive`` (a channel's ``recv`` or ``recv_stderr``) yields until its end."""
    chunks = []
    while chunk := receive(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@dataclass(frozen=True)
class HostFacts:
    """What :meth:`Remote.describe` found on a host.

    Attributes:
        machine: its machine and software.
        cpus: the CPUs fwbench may use there.
        rtt_ms: the median TCP round trip to each target asked for, in order.
    """

    machine: Machine
    cpus: tuple[int, ...]
    rtt_ms: tuple[float, ...]


class RemoteProcess:
    """A command running under the guard in an SSH session of its own.

    Args:
        host: the host's URL, for messages.
        channel: a fresh session channel.
        command: the shell command to execute.
    """

    def __init__(self, host: str, channel: paramiko.Channel, command: str) -> None:
        self.host = host
        self._channel = channel
        self._stdout = b""
        channel.exec_command(command)
        first = self.read_line(timeout=30)
        if not first.startswith(STARTED):
            self.stop()
            raise RemoteError(
                f"the fwbench guard did not start on {host}: {first or 'no output'}",
                "check the host's set-up (docs/hosts.md)",
            )
        self.pid = int(first.removeprefix(STARTED))

    def read_line(self, timeout: float) -> str:
        """The next line the command prints, without its end; "" when it printed none
        within ``timeout`` seconds or its output ended (or the line was empty: a command
        that prints empty lines is read with :meth:`next_line`)."""
        return self.next_line(timeout) or ""

    def next_line(self, timeout: float) -> str | None:
        """The next line the command prints, without its end (an empty line is ""); None
        when it printed none within ``timeout`` seconds or its output ended."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._stdout and time.monotonic() < deadline:
            self._channel.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = self._channel.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            self._stdout += chunk
        if not self._stdout:
            return None
        line, _, self._stdout = self._stdout.partition(b"\n")
        return line.decode(errors="replace").strip()

    def ask(self, line: str, timeout: float) -> str:
        """Write ``line`` to the standard input of a command started without the guard
        (:meth:`Remote.start`) and return the line it answers; "" when it answered none
        within ``timeout`` seconds or its output ended.

        Raises:
            RemoteError: the session is gone.
        """
        try:
            self._channel.sendall(f"{line}\n".encode())
        except (OSError, paramiko.SSHException) as error:
            raise RemoteError(
                f"the SSH session to {self.host} was lost ({error})", "check the host and rerun"
            ) from None
        return self.read_line(timeout)

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait for the command to exit; its status, standard output and error output.

        Raises:
            RemoteError: it did not exit within ``timeout`` seconds (it is then stopped).
        """
        deadline = time.monotonic() + timeout
        channel = self._channel
        while not channel.exit_status_ready() or channel.recv_ready():
            if time.monotonic() > deadline:
                self.stop()
                raise RemoteError(
                    f"a command on {self.host} did not finish within {timeout:.0f} s",
                    "check that the host is not overloaded, then rerun",
                )
            channel.settimeout(0.5)
            try:
                chunk = channel.recv(65536)
            except TimeoutError:
                continue
            self._stdout += chunk
            if not chunk and channel.exit_status_ready():
                break
        stderr = b""
        while channel.recv_stderr_ready():
            stderr += channel.recv_stderr(65536)
        status = channel.recv_exit_status()
        channel.close()
        return status, self._stdout.decode(errors="replace"), stderr.decode(errors="replace")

    def stop(self) -> None:
        """Close the session's input, so the guard stops the command's process group, and
        wait for it to be gone; idempotent."""
        channel = self._channel
        if channel.closed:
            return
        try:
            channel.shutdown_write()
            deadline = time.monotonic() + GRACE_S + 5
            while not channel.exit_status_ready() and time.monotonic() < deadline:
                time.sleep(0.05)
        except (OSError, paramiko.SSHException):
            pass  # the connection is gone: sshd ended the session, the guard stops it
        channel.close()


class RemoteWrk:
    """wrk started on a load host with the histogram reporter (a
    :class:`~.generators.WrkRun`).

    Args:
        remote: the load host.
        spec: the run.
    """

    def __init__(self, remote: Remote, spec: LoadSpec) -> None:
        self.spec = spec
        lua_dir = remote.on_host(LUA_DIR)
        argv = wrk_command(spec, wrk="wrk", taskset="taskset", lua_dir=lua_dir)
        env = wrk_env(spec, histogram=True, lua_dir=lua_dir)
        self._process = remote.start(argv, env)
        self._started = time.monotonic()

    def output(self) -> str:
        """Wait for wrk and return its standard output.

        Raises:
            LoadError: wrk overran, failed or printed no report.
        """
        left = wrk_deadline_s(self.spec) - (time.monotonic() - self._started)
        try:
            status, stdout, stderr = self._process.finish(max(1.0, left))
        except RemoteError as error:
            raise LoadError(error.problem, error.action) from None
        return checked_output(self.spec, status, stdout, stderr)

    def stop(self) -> None:
        """Stop wrk if it still runs; idempotent."""
        self._process.stop()


def remote_generator(
    remote: Remote, cpus: tuple[int, ...] | None = None, threads: int | None = None
) -> Generator:
    """A load generator on ``remote``, pinned to ``cpus`` there (None: not pinned), with
    ``threads`` wrk threads at most (None: the run's)."""

    def start(spec: LoadSpec) -> WrkRun:
        return RemoteWrk(remote, spec)

    return Generator(cpus=cpus, host=remote.url, start=start, threads=threads)


class RemoteService:
    """A server started on a host under the guard, pinned with taskset, bound to the
    host's address, with a temporary directory there for its files and log; stopped
    and its directory removed by :meth:`stop`. Made by :func:`start_remote_service` and
    :func:`start_remote_downstream`.

    Args:
        remote: the host.
        name: what it is, for messages (``flask/gunicorn-sync``, ``downstream``).
        port: TCP port on the host.
        cpus: CPUs on the host to pin the server and its workers to.
        config: the server configuration of a framework service; None: the downstream.
    """

    def __init__(
        self,
        remote: Remote,
        name: str,
        port: int,
        cpus: tuple[int, ...],
        config: ServerConfig | None,
    ) -> None:
        self.remote = remote
        self.name = name
        self.config = config
        self.cpus = cpus
        self.url = f"http://{remote.address}:{port}"
        self.workdir = remote.run("mktemp -d /tmp/fwbench-remote-XXXXXXXX").strip()
        self.env: dict[str, str] = {}
        self.argv: tuple[str, ...] = ()
        #: The base database URL it was started with (``--database``'s form).
        self.database: str | None = None
        self._process: RemoteProcess | None = None

    def launch(
        self,
        server_argv: Sequence[str],
        env: Mapping[str, str],
        timeout: float,
        *,
        python: bool = True,
    ) -> None:
        """Start ``server_argv`` with ``env`` and wait until ``/healthz`` answers.

        Args:
            server_argv: the command; by default ``python -m SERVER ...``, whose Python is
                replaced by the host's.
            env: variables to set for it.
            timeout: seconds to wait for ``/healthz``.
            python: False runs ``server_argv`` as it is (HAProxy).

        Raises:
            ServiceStartFailed: it did not answer within ``timeout`` seconds.
        """
        remote = self.remote
        self.env = dict(env)
        argv = [remote.python, *server_argv[1:]] if python else list(server_argv)
        command = ["taskset", "-c", cpu_list(self.cpus), *argv]
        self.argv = tuple(command)
        self._process = remote.start(command, self.env, output=f"{self.workdir}/service.log")
        if not self.answers(timeout):
            log = remote.run(f"tail -n 3 {self.workdir}/service.log || true").strip()
            raise ServiceStartFailed(
                f"{self.name} did not answer on {self.url}/healthz within {timeout:.0f} s: "
                f"{log.splitlines()[-1] if log else 'no output'}",
                "check the host's set-up and its firewall",
            )

    def answers(self, timeout: float) -> bool:
        """Whether it answers ``/healthz`` with a 2xx within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if http.request("GET", f"{self.url}/healthz", timeout_s=2).ok:
                    return True
            except OSError:
                pass  # not listening yet
            time.sleep(0.05)
        return False

    def __enter__(self) -> RemoteService:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """The server's process id on the host."""
        assert self._process is not None, "launch() starts the server"
        return self._process.pid

    def halt(self) -> None:
        """Stop the server but keep its files (its database, for cold starts); idempotent."""
        if self._process is not None:
            self._process.stop()

    def stop(self) -> None:
        """Stop the server and remove its files on the host; idempotent."""
        self.halt()
        # An unreachable host keeps the directory (under /tmp): nothing more can be done.
        with contextlib.suppress(RemoteError):
            self.remote.run(f"rm -rf {shlex.quote(self.workdir)}")

    def service_run(self) -> ServiceRun:
        """What the results file records of this framework service."""
        config = self.config
        assert config is not None, "the downstream is no framework service"
        return ServiceRun(
            framework=config.framework,
            server=config.server,
            workers=config.workers,
            threads=config.threads,
            advice=config.advice,
            command=self.argv,
            cpus=self.cpus,
            database=redacted(self.env["DATABASE_URL"]),
            host=self.remote.url,
        )


def start_remote_service(
    remote: Remote,
    config: ServerConfig,
    port: int,
    *,
    cpus: tuple[int, ...],
    database_url: str | None = None,
    downstream_url: str | None = None,
    ready_timeout: float = 60,
    bootstrap: bool = True,
    extra_env: Mapping[str, str] | None = None,
    served_at: Sequence[str] = (),
) -> RemoteService:
    """Start a framework service on a service host as ``config`` says: its database
    bootstrapped there, its environment that of a local service
    (:func:`fwbench.harness.process.service_env`), answering requests addressed to the
    host's address (and to ``served_at``).

    Args:
        remote: the service host.
        config: the server configuration (:func:`fwbench.harness.servers.configure`).
        port: TCP port on the host.
        cpus: CPUs on the host to pin the server and its workers to.
        database_url: base database URL (as ``--database``); None: SQLite in the
            service's temporary directory on the host.
        downstream_url: ``DOWNSTREAM_URL`` as the host reaches it; None: the default.
        ready_timeout: seconds to wait for ``/healthz``, default 60.
        bootstrap: prepare the database first (default True); False for a replica
            that shares a database an earlier one prepared.
        extra_env: more variables for the service, applied last (e.g. ``FWBENCH_LAB``);
            default none.
        served_at: other host names clients address it by (a balancer's address);
            default none.

    Raises:
        FwbenchError: the bootstrap failed or the service did not answer in time.
    """
    name = f"{config.framework}/{config.server}"
    service = RemoteService(remote, name, port, cpus, config)
    try:
        base = database_url or f"sqlite:///{service.workdir}/fwbench.sqlite3"
        service.database = base
        env = service_env(
            config,
            database_url_for(config.framework, base),
            downstream_url,
            served_at=(remote.address, *served_at),
        )
        env.update(extra_env or {})
        package = FRAMEWORK_FACTS[config.framework].package
        if bootstrap:
            remote.run(
                shlex.join(["env", *(f"{k}={v}" for k, v in env.items())])
                + f" {shlex.quote(remote.python)} -m {package}.bootstrap"
            )
        if config.multiprocess:
            metrics = f"{service.workdir}/prometheus"
            remote.run(f"mkdir {shlex.quote(metrics)}")
            env["PROMETHEUS_MULTIPROC_DIR"] = metrics
        service.launch(config.command(remote.address, port), env, ready_timeout)
    except BaseException:
        service.stop()
        raise
    return service


def start_remote_downstream(
    remote: Remote, port: int, *, cpus: tuple[int, ...], ready_timeout: float = 30
) -> RemoteService:
    """Start the downstream on a host, as :func:`fwbench.harness.process.start_downstream`
    does here.

    Raises:
        ServiceStartFailed: it did not answer in time.
    """
    downstream = RemoteService(remote, "downstream", port, cpus, None)
    try:
        downstream.launch(downstream_command(remote.address, port), downstream_env(), ready_timeout)
    except BaseException:
        downstream.stop()
        raise
    return downstream


def start_remote_balancer(
    remote: Remote,
    port: int,
    backends: Sequence[tuple[str, int]],
    *,
    cpus: tuple[int, ...],
    ready_timeout: float = 30,
) -> RemoteService:
    """Start HAProxy on a host in front of ``backends``, with the configuration a local
    ``--replicas`` run uses (:func:`fwbench.harness.balancer.haproxy_config`), and wait
    until it answers ``/healthz`` through a replica.

    Args:
        remote: the balancer host.
        port: TCP port on the host.
        backends: each replica's ``(address, port)`` as the balancer host reaches it.
        cpus: CPUs on the host to pin HAProxy to.
        ready_timeout: seconds to wait for ``/healthz``, default 30.

    Raises:
        RemoteError: haproxy is not installed on the host.
        ServiceStartFailed: it did not answer in time.
    """
    if remote.run("command -v haproxy || true").strip() == "":
        raise RemoteError(
            f"haproxy is not installed on {remote.url}, and --replicas puts the instances "
            "behind it",
            "install it there (apt-get install haproxy)",
        )
    balancer = RemoteService(remote, "haproxy", port, cpus, None)
    try:
        config = f"{balancer.workdir}/haproxy.cfg"
        text = haproxy_config((remote.address, port), backends)
        remote.run(f"printf %s {shlex.quote(text)} > {shlex.quote(config)}")
        balancer.launch(["haproxy", "-db", "-f", config], {}, ready_timeout, python=False)
    except BaseException:
        balancer.stop()
        raise
    return balancer


def connect_all(hosts: HostsFile) -> dict[str, Remote]:
    """Connect to every host of ``hosts`` and check its set-up; on any failure the hosts
    already connected are closed.

    Raises:
        RemoteError: a host cannot be reached or is not set up (the first one found).
    """
    remotes: dict[str, Remote] = {}
    try:
        for url in hosts.hosts:
            remote = Remote(url, hosts.identity_file, hosts.checkout)
            remotes[url] = remote
            remote.check_ready()
    except BaseException:
        for remote in remotes.values():
            remote.close()
        raise
    return remotes
