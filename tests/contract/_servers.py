"""Start, reuse and stop the processes the contract suite talks to.

Every process is a real ``python -m fwbench serve ...`` subprocess in its own process
group; ``fwbench serve`` runs the production server in a group of its own and stops it
on SIGTERM, and the suite checks that it does. The pool keeps the instances of one
target (framework x database) running while the tests of that target run, and stops them
before it starts another target's, so at most one target's servers use the cores.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import psycopg
from psycopg import sql

from fwbench.services.downstream.faults import Faults

DATABASES: Final = ("sqlite", "postgres")

#: Seconds a service may take to bootstrap its database and answer /healthz.
START_TIMEOUT: Final = 120.0

#: Seconds a process group gets to exit after SIGTERM before it is killed.
STOP_TIMEOUT: Final = 15.0

#: DOWNSTREAM_TIMEOUT given to the services, short so the 504 tests are quick.
DOWNSTREAM_TIMEOUT: Final = 0.5

#: Worker processes per service: several, so /metrics and idempotency are exercised
#: across processes as in production.
WORKERS: Final = 2


class SuiteError(Exception):
    """A set-up problem of the suite itself (port range exhausted, server did not start)."""


@dataclass(frozen=True)
class Target:
    """One parametrization of the suite.

    Attributes:
        framework: ``fastapi``, ``flask`` or ``django``.
        database: ``sqlite`` or ``postgres``.
    """

    framework: str
    database: str

    @property
    def id(self) -> str:
        """The pytest id, e.g. ``fastapi-sqlite``."""
        return f"{self.framework}-{self.database}"


@dataclass(frozen=True)
class Settings:
    """What the environment tells the suite.

    Attributes:
        postgres_url: maintenance URL of the PostgreSQL server (env ``FWBENCH_TEST_POSTGRES``,
            default ``postgresql://postgres@127.0.0.1:5432/postgres``).
        db_prefix: prefix of every database the suite creates (env
            ``FWBENCH_TEST_DB_PREFIX``, default ``fwbench_test``); a random token follows it.
        port_range: inclusive port range to use (env ``FWBENCH_TEST_PORTS`` as ``LOW-HIGH``),
            or None to let the operating system pick free ports.
    """

    postgres_url: str
    db_prefix: str
    port_range: tuple[int, int] | None

    @classmethod
    def from_environment(cls) -> Settings:
        """Read the settings from ``os.environ`` (see the attributes for the variables)."""
        ports = os.environ.get("FWBENCH_TEST_PORTS")
        port_range: tuple[int, int] | None = None
        if ports:
            low, _, high = ports.partition("-")
            port_range = (int(low), int(high))
        return cls(
            postgres_url=os.environ.get(
                "FWBENCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
            ),
            db_prefix=os.environ.get("FWBENCH_TEST_DB_PREFIX", "fwbench_test"),
            port_range=port_range,
        )


class PortAllocator:
    """Hands out TCP ports that are free now and never hands the same port out twice.

    Args:
        port_range: inclusive range to draw from, or None for ports the OS picks.
    """

    def __init__(self, port_range: tuple[int, int] | None) -> None:
        self._range = port_range
        self._given: set[int] = set()

    def take(self) -> int:
        """A port nothing listens on and that this allocator has not given out before."""
        if self._range is None:
            for _ in range(100):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", 0))
                    port = int(probe.getsockname()[1])
                if port not in self._given:
                    self._given.add(port)
                    return port
            raise SuiteError("the operating system keeps handing out the same port")
        low, high = self._range
        for port in range(low, high + 1):
            if port in self._given:
                continue
            self._given.add(port)
            if _port_is_free(port):
                return port
        raise SuiteError(f"no free port left in {low}-{high} (FWBENCH_TEST_PORTS)")


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_is_listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ServerProcess:
    """A running ``fwbench serve`` process and the server it started.

    ``fwbench serve`` starts its server in a session of its own, so the server is not in
    this process's group: stopping it relies on ``fwbench serve`` handling SIGTERM, and
    whatever it leaves behind is killed and recorded in ``forced``.

    Attributes:
        name: label used in messages, e.g. ``fastapi-sqlite-main``.
        port: the port it listens on.
        process: the ``fwbench serve`` process (leader of its own process group).
        log_path: file receiving its stdout and stderr.
        tree: every process of the tree seen while it ran (the CLI, the server, its
            workers).
        forced: descriptions of processes still alive after the graceful stop, which
            ``stop`` then had to kill.
    """

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    tree: dict[int, psutil.Process] = field(default_factory=dict)
    forced: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the process wrote, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def remember_tree(self) -> None:
        """Add the current descendants to ``tree``."""
        try:
            root = psutil.Process(self.process.pid)
            for process in [root, *root.children(recursive=True)]:
                self.tree.setdefault(process.pid, process)
        except psutil.NoSuchProcess:
            pass

    def survivors(self) -> list[psutil.Process]:
        """Processes of ``tree`` that are still running (zombies excluded)."""
        alive = []
        for process in self.tree.values():
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
            except psutil.NoSuchProcess:
                continue
        return alive

    def stop(self) -> None:
        """SIGTERM ``fwbench serve`` (its group), wait for the whole tree to exit, then
        kill and record whatever is left; idempotent."""
        self.remember_tree()
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        _, alive = psutil.wait_procs(self.survivors(), timeout=STOP_TIMEOUT)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                self.forced.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
                process.kill()
        psutil.wait_procs(alive, timeout=STOP_TIMEOUT)
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def spawn(
    name: str,
    argv: list[str],
    *,
    port: int,
    env: dict[str, str],
    log_dir: Path,
    ready_path: str,
) -> ServerProcess:
    """Start ``argv`` in a new process group and wait until ``ready_path`` answers 200.

    Args:
        name: label for messages and the log file name.
        argv: the command line.
        port: the port the process will listen on.
        env: its complete environment.
        log_dir: where its log file goes.
        ready_path: path polled until it answers 200 (at most START_TIMEOUT seconds).
    """
    log_path = log_dir / f"{name.replace('/', '_')}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = ServerProcess(name=name, port=port, process=process, log_path=log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            server.stop()
            raise SuiteError(
                f"{name} exited with code {process.returncode} before it was ready:\n"
                f"{server.log_tail()}"
            )
        try:
            response = httpx.get(f"{server.base_url}{ready_path}", timeout=2.0)
            if response.status_code == 200:
                server.remember_tree()
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise SuiteError(
                f"{name} did not answer {ready_path} within {START_TIMEOUT:.0f} s:\n"
                f"{server.log_tail()}"
            )
        time.sleep(0.1)


def _base_env() -> dict[str, str]:
    # Variables the services read are always set explicitly by the pool, never inherited.
    env = dict(os.environ)
    for variable in (
        "DATABASE_URL",
        "DOWNSTREAM_URL",
        "DOWNSTREAM_TIMEOUT",
        "API_TOKEN",
        "ADMIN_TOKEN",
        "PROMETHEUS_MULTIPROC_DIR",
        "FWBENCH_LAB",
        "FWBENCH_DJANGO_MINIMAL",
    ):
        env.pop(variable, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Downstream:
    """The session's downstream service; it can be stopped and started again on the
    same port, which is what an outage looks like to the services.

    Attributes:
        port: its port, kept across restarts.
        log_dir: where its log files go.
        server: its process, or None while it is stopped.
        spawned: every process started for it, for the final leftover check.
    """

    port: int
    log_dir: Path
    server: ServerProcess | None = None
    spawned: list[ServerProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Its base URL, as given to the services in ``--downstream-url``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it unless it runs."""
        if self.server is None:
            self.server = spawn(
                f"downstream-{len(self.spawned)}",
                [sys.executable, "-m", "fwbench", "serve", "downstream", "--port", str(self.port)],
                port=self.port,
                env=_base_env(),
                log_dir=self.log_dir,
                ready_path="/healthz",
            )
            self.spawned.append(self.server)

    def stop(self) -> None:
        """Stop it (nothing listens on its port afterwards)."""
        if self.server is not None:
            self.server.stop()
            self.server = None

    def set_faults(self, faults: Faults) -> None:
        """Apply ``faults`` to every later /delay and /score request."""
        response = httpx.put(f"{self.url}/_faults", json=faults.as_json(), timeout=5.0)
        response.raise_for_status()

    def reset(self) -> None:
        """Running, with no faults."""
        self.start()
        self.set_faults(Faults())


class Database:
    """Direct access to a service's database, to check what is stored.

    Args:
        url: the URL the service uses (``sqlite:////abs/path`` or ``postgresql://...``).
    """

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def is_sqlite(self) -> bool:
        """Whether this is a SQLite file."""
        return self.url.startswith("sqlite:")

    def fetch(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one read-only query written with ``?`` placeholders and return its rows."""
        if self.is_sqlite:
            path = self.url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
                return list(connection.execute(query, params).fetchall())
        with psycopg.connect(self.url, autocommit=True) as connection:
            return list(connection.execute(query.replace("?", "%s"), params).fetchall())


@dataclass
class Service:
    """A running implementation.

    Attributes:
        target: framework and database.
        variant: ``main`` (most tests), ``lab`` (FWBENCH_LAB=1) or another label for a
            throw-away instance.
        server: its process.
        database: direct access to its database.
        database_name: the PostgreSQL database it uses (None for SQLite).
    """

    target: Target
    variant: str
    server: ServerProcess
    database: Database
    database_name: str | None

    @property
    def framework(self) -> str:
        """``fastapi``, ``flask`` or ``django``."""
        return self.target.framework

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.server.base_url


@dataclass
class ServicePool:
    """Starts services on demand and keeps only the current target's instances running.

    Args:
        settings: the suite settings.
        workdir: a directory for SQLite files and logs.
        api_token: API_TOKEN given to every service.
        admin_token: ADMIN_TOKEN given to every service.
    """

    settings: Settings
    workdir: Path
    api_token: str
    admin_token: str
    ports: PortAllocator = field(init=False)
    token: str = field(init=False, default_factory=lambda: secrets.token_hex(3))
    downstream: Downstream | None = field(init=False, default=None)
    running: dict[tuple[Target, str], Service] = field(init=False, default_factory=dict)
    failed: dict[tuple[Target, str], str] = field(init=False, default_factory=dict)
    spawned: list[ServerProcess] = field(init=False, default_factory=list)
    _postgres_checked: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.ports = PortAllocator(self.settings.port_range)

    # -- downstream -------------------------------------------------------------------

    def start_downstream(self) -> Downstream:
        """The session's downstream, started on first use."""
        if self.downstream is None:
            self.downstream = Downstream(port=self.ports.take(), log_dir=self.workdir)
        self.downstream.start()
        return self.downstream

    # -- services ---------------------------------------------------------------------

    def get(self, target: Target, variant: str) -> Service:
        """The running ``variant`` instance of ``target``, started if needed; instances of
        other targets are stopped first."""
        for key in [key for key in self.running if key[0] != target]:
            self.running.pop(key).server.stop()
        key = (target, variant)
        if key in self.failed:
            # One attempt per instance: a service that cannot start fails its tests fast.
            raise SuiteError(self.failed[key])
        if key not in self.running:
            try:
                self.running[key] = self.start(target, variant)
            except SuiteError as error:
                self.failed[key] = str(error)
                raise
        return self.running[key]

    def start(self, target: Target, variant: str, sqlite_dir: Path | None = None) -> Service:
        """Start a new instance (the caller stops it unless it came from ``get``).

        Args:
            target: framework and database.
            variant: ``main``, ``lab`` (started with FWBENCH_LAB=1) or another label for
                a throw-away instance.
            sqlite_dir: the directory of its SQLite file (default: the pool's workdir).
        """
        downstream = self.start_downstream()
        port = self.ports.take()
        name = f"{target.id}-{variant}"
        database_name: str | None = None
        # fwbench serve gives every service its own database: NAME_<service> on
        # PostgreSQL, <stem>_<service>.sqlite3 for SQLite (fwbench.harness.databases).
        if target.database == "sqlite":
            directory = self.workdir if sqlite_dir is None else sqlite_dir
            database_url = f"sqlite:///{directory / (name + '.sqlite3')}"
            service_url = f"sqlite:///{directory / (name + '_' + target.framework + '.sqlite3')}"
        else:
            self.check_postgres()
            base_name = f"{self.settings.db_prefix}_{self.token}_{variant.replace('-', '_')}"
            database_url = self.postgres_url(base_name)
            database_name = f"{base_name}_{target.framework}"
            service_url = self.postgres_url(database_name)
        env = _base_env()
        env |= {
            "API_TOKEN": self.api_token,
            "ADMIN_TOKEN": self.admin_token,
            "DOWNSTREAM_TIMEOUT": str(DOWNSTREAM_TIMEOUT),
        }
        if variant == "lab":
            env["FWBENCH_LAB"] = "1"
        argv = [
            sys.executable,
            "-m",
            "fwbench",
            "serve",
            target.framework,
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--database",
            database_url,
            "--downstream-url",
            downstream.url,
        ]
        server = spawn(name, argv, port=port, env=env, log_dir=self.workdir, ready_path="/healthz")
        self.spawned.append(server)
        return Service(
            target=target,
            variant=variant,
            server=server,
            database=Database(service_url),
            database_name=database_name,
        )

    def stop_all(self) -> None:
        """Stop every instance and the downstream (idempotent)."""
        while self.running:
            self.running.popitem()[1].server.stop()
        if self.downstream is not None:
            self.downstream.stop()
        for server in self.processes():
            server.stop()

    def processes(self) -> list[ServerProcess]:
        """Every process the pool ever started, stopped or not."""
        return [*self.spawned, *(self.downstream.spawned if self.downstream else [])]

    # -- PostgreSQL -------------------------------------------------------------------

    def postgres_url(self, database: str) -> str:
        """The server URL with its database part replaced by ``database``."""
        parts = urlsplit(self.settings.postgres_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def check_postgres(self) -> None:
        """Raise SuiteError with a clear message when PostgreSQL does not answer."""
        if self._postgres_checked:
            return
        try:
            with psycopg.connect(self.settings.postgres_url, connect_timeout=5) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error as error:
            raise SuiteError(
                f"PostgreSQL does not answer at {self.settings.postgres_url} ({error}); start "
                "it, set FWBENCH_TEST_POSTGRES, or deselect these cases with -m 'not postgres'"
            ) from error
        self._postgres_checked = True

    @contextlib.contextmanager
    def admin_connection(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """An autocommit connection to the maintenance database."""
        with psycopg.connect(self.settings.postgres_url, autocommit=True) as connection:
            yield connection

    def drop_databases(self) -> None:
        """Drop every database this session created (they all start with prefix + token)."""
        if not self._postgres_checked:
            return
        pattern = f"{self.settings.db_prefix}_{self.token}_%"
        with self.admin_connection() as connection:
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)
                )
            ]
            for name in names:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
