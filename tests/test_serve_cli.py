"""``fwbench serve``: user mistakes are one-line errors; a served service answers, and
Ctrl-C / SIGTERM stop it with every worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from fwbench.cli import cli
from fwbench.harness.databases import redacted
from fwbench.harness.process import free_port
from fwbench.harness.servers import all_pairs
from tests.processes import Snapshot, snapshot, still_running

#: This module's share of the fwbench_sv port range (18400-18499).
_PORTS = iter(range(18460, 18500))

#: The PostgreSQL server of the postgres-marked tests.
POSTGRES = os.environ.get("FWBENCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

#: Seconds a served service may take to answer /healthz (bootstrap included).
READY_TIMEOUT = 120


def port() -> int:
    return free_port(_PORTS)


@pytest.fixture(autouse=True)
def _restore_sigterm() -> Iterator[None]:
    """``fwbench serve`` makes SIGTERM interrupt its process; in-process runs here must
    not leave that handler to pytest."""
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


def invoke(*args: str) -> tuple[int, str]:
    """Run ``fwbench serve ARGS`` in-process; return the exit code and all output."""
    result = CliRunner().invoke(cli, ["serve", *args])
    return result.exit_code, result.output


def assert_one_line_error(code: int, output: str, message: str) -> None:
    assert code != 0
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {message}"], output


# --- User mistakes -------------------------------------------------------------------


def test_unknown_server_for_the_framework() -> None:
    code, output = invoke("flask", "--server", "uvicorn", "--port", str(port()))
    assert_one_line_error(
        code,
        output,
        "flask does not run on server 'uvicorn'; "
        "use one of: gunicorn-sync, gunicorn-gthread, gunicorn-gevent, granian",
    )


def test_unknown_server_name() -> None:
    code, output = invoke("fastapi", "--server", "hypercorn")
    assert code == 2
    assert "'hypercorn' is not one of 'uvicorn', 'granian'" in output
    assert "Traceback" not in output


def test_busy_port() -> None:
    with socket.socket() as sock:
        busy = port()
        sock.bind(("127.0.0.1", busy))
        sock.listen()
        code, output = invoke("downstream", "--port", str(busy))
    assert_one_line_error(
        code,
        output,
        f"port {busy} on 127.0.0.1 is already in use; "
        "stop whatever listens there or pass another --port",
    )


def test_unreachable_database() -> None:
    code, output = invoke(
        "fastapi", "--port", str(port()), "--database", "postgresql://127.0.0.1:1/x"
    )
    assert_one_line_error(
        code,
        output,
        "cannot reach PostgreSQL at 127.0.0.1:1: Connection refused; "
        "start it or pass a reachable --database URL",
    )


def test_bootstrap_failure(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/missing/x.sqlite3"
    code, output = invoke("django", "--port", str(port()), "--database", database)
    assert code != 0
    assert "Traceback" not in output
    [error] = [line for line in output.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: the django database bootstrap failed: ")
    assert error.endswith("; fix the database (or pass another --database) and retry")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["downstream", "--workers", "2"],
            "--workers does not apply to downstream; leave it out (see fwbench serve --help)",
        ),
        (
            ["flask", "--latency-ms", "5"],
            "--latency-ms does not apply to flask; leave it out (see fwbench serve --help)",
        ),
        (
            ["downstream", "--server", "uvicorn"],
            "the downstream runs on granian only, not uvicorn; "
            "leave --server out or pass --server granian",
        ),
        (
            ["django", "--server", "uvicorn", "--threads", "4"],
            "django on uvicorn has no threads-per-worker setting; leave --threads out, or use "
            "a threaded server: gunicorn-gthread (WSGI), granian (WSGI), or FastAPI on any "
            "server (its thread limiter)",
        ),
        (
            ["downstream", "--cpus", "4096"],
            f"CPU 4096 is not available here; choose among CPUs "
            f"{','.join(map(str, sorted(os.sched_getaffinity(0))))}",
        ),
    ],
)
def test_options_that_do_not_apply(args: list[str], message: str) -> None:
    code, output = invoke(*args, "--port", str(port()))
    assert_one_line_error(code, output, message)


def test_malformed_cpu_list() -> None:
    code, output = invoke("downstream", "--cpus", "zero")
    assert code == 2
    assert "'zero' is not a CPU list; write it like 0 or 0,1 or 0-3" in output


def test_every_option_has_help_with_its_default() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--server", "--workers", "--threads", "--port", "--database"):
        assert option in result.output
    assert result.output.count("Default:") + result.output.count("default:") >= 9


# --- Real processes ------------------------------------------------------------------


@dataclass
class Served:
    """A ``python -m fwbench serve`` subprocess."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def tree(self) -> Snapshot:
        """Pid and creation time of fwbench serve, the server and its workers (not the
        watchdog fwbench starts beside the server, fwbench.harness.watchdog)."""
        root = psutil.Process(self.process.pid)
        return snapshot(
            [
                process
                for process in [root, *root.children(recursive=True)]
                if "fwbench.harness.watchdog" not in process.cmdline()
            ]
        )


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start ``fwbench serve ARGS --port P`` and wait for /healthz; kill what is left at
    the end of the test (a failing test must not leave servers behind)."""
    started: list[Served] = []
    unset = ("API_TOKEN", "ADMIN_TOKEN", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")

    def start(*args: str, database_url: str | None = None) -> Served:
        listen = port()
        log = tmp_path / f"serve-{listen}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "fwbench", "serve", *args, "--port", str(listen)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env if database_url is None else {**env, "DATABASE_URL": database_url},
            )
        served = Served(process, f"http://127.0.0.1:{listen}", log)
        started.append(served)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            assert process.poll() is None, served.output()
            try:
                if httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, served.output()
            time.sleep(0.1)

    yield start
    for served in started:
        leftovers = []
        if served.process.poll() is None:
            leftovers = served.tree()
            served.process.send_signal(signal.SIGTERM)
            served.process.wait(timeout=30)
        for pid in still_running(leftovers):
            os.kill(pid, signal.SIGKILL)


def stop(served: Served, signum: int) -> int:
    served.process.send_signal(signum)
    return served.process.wait(timeout=30)


def test_serve_downstream_and_ctrl_c(serve: Callable[..., Served]) -> None:
    served = serve("downstream")
    assert httpx.get(f"{served.url}/delay?ms=1").json() == {"ms": 1}
    tree = served.tree()
    assert len(tree) >= 3  # fwbench serve, granian's master, its worker
    assert stop(served, signal.SIGINT) == 0
    assert still_running(tree) == []
    output = served.output()
    assert f"fwbench: serving downstream at {served.url} with: " in output
    assert "-m granian --interface rsgi" in output
    assert "fwbench: stopped" in output


def test_serve_flask_workers_and_sigterm(serve: Callable[..., Served], tmp_path: Path) -> None:
    served = serve("flask", "--server", "gunicorn-sync", "--workers", "2", "--cpus", "0")
    tree = served.tree()
    assert len(tree) == 4  # fwbench serve, gunicorn's master, 2 workers
    assert all(psutil.Process(pid).cpu_affinity() == [0] for pid, _ in tree[1:])
    assert stop(served, signal.SIGTERM) == 0
    assert still_running(tree) == []
    output = served.output()
    assert "fwbench: API_TOKEN is not set, using 'fwbench-api-token'" in output
    assert "fwbench: ADMIN_TOKEN is not set, using 'fwbench-admin-token'" in output
    assert "--workers 2 --worker-class sync" in output
    assert "fwbench: 2 worker(s): set by the user (--workers 2)" in output
    assert (tmp_path / "cache" / "fwbench" / "flask.sqlite3").is_file()


def test_a_server_dying_on_its_own_takes_its_workers_along(serve: Callable[..., Served]) -> None:
    served = serve("flask", "--server", "gunicorn-gthread", "--workers", "2")
    tree = served.tree()
    master = psutil.Process(tree[1][0])
    master.kill()  # the workers are orphaned: fwbench serve must not leave them
    assert served.process.wait(timeout=30) == 1
    assert still_running(tree) == []
    assert "Error: the flask server exited by itself with code -9" in served.output()


@pytest.mark.slow
@pytest.mark.parametrize(("framework", "server"), all_pairs())
def test_every_pair_serves(serve: Callable[..., Served], framework: str, server: str) -> None:
    served = serve(framework, "--server", server)
    tree = served.tree()
    assert httpx.get(f"{served.url}/healthz").status_code == 200
    response = httpx.get(f"{served.url}/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Hello, World!"}
    assert stop(served, signal.SIGINT) == 0
    assert still_running(tree) == []


def test_database_url_from_the_environment(serve: Callable[..., Served], tmp_path: Path) -> None:
    served = serve("flask", database_url=f"sqlite:///{tmp_path}/exported.sqlite3")
    assert stop(served, signal.SIGTERM) == 0
    used = tmp_path / "exported_flask.sqlite3"
    assert used.is_file()
    assert f"fwbench: database sqlite:///{used} (from $DATABASE_URL)" in served.output()


@pytest.mark.postgres
def test_database_flag_wins_and_passwords_are_not_printed(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    server = urlsplit(POSTGRES)
    name = f"fwbench_serve_test_{os.getpid()}"
    # Trust authentication ignores the password; the point is that it is never printed.
    with_password = f"{server.username}:not-printed@{server.hostname}:{server.port or 5432}"
    url = urlunsplit(server._replace(netloc=with_password, path=f"/{name}"))
    try:
        served = serve(
            "flask", "--database", url, database_url=f"sqlite:///{tmp_path}/ignored.sqlite3"
        )
        assert stop(served, signal.SIGTERM) == 0
        output = served.output()
        assert "not-printed" not in output
        shown = redacted(urlunsplit(server._replace(path=f"/{name}_flask")))
        assert f"fwbench: database {shown} (from --database)" in output
        assert not (tmp_path / "ignored_flask.sqlite3").exists()
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(f"{name}_flask"))
            )
