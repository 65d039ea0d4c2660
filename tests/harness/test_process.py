"""Starting and stopping real server processes: nothing may outlive a stop, an exception,
Ctrl-C or the end of the parent; user mistakes are one-line errors."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from psycopg import sql

from fwbench.harness.databases import database_url_for, default_state_dir
from fwbench.harness.errors import (
    BootstrapFailed,
    DatabaseUnreachable,
    InvalidOption,
    PortInUse,
    ServiceStartFailed,
)
from fwbench.harness.process import (
    PortRotation,
    ServiceProcess,
    ensure_port_free,
    free_port,
    start_downstream,
    start_service,
)
from tests.processes import Snapshot, snapshot, still_running

#: This module's share of the fwbench_sv port range (18400-18499).
_PORTS = iter(range(18400, 18440))

POSTGRES = os.environ.get("FWBENCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def port() -> int:
    """A free port of this module's range, never the same twice."""
    return free_port(_PORTS)


def wait_for(condition: Callable[[], object], seconds: float = 10) -> None:
    """Poll ``condition()`` until it is truthy (fails the test after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def listener() -> Iterator[int]:
    """A port of this module's range with a listening socket on it."""
    with socket.socket() as sock:
        busy = port()
        sock.bind(("127.0.0.1", busy))
        sock.listen()
        yield busy


# --- Ports ---------------------------------------------------------------------------


def test_busy_port_is_a_user_error(listener: int) -> None:
    with pytest.raises(PortInUse) as raised:
        ensure_port_free("127.0.0.1", listener)
    assert str(raised.value) == (
        f"port {listener} on 127.0.0.1 is already in use; "
        "stop whatever listens there or pass another --port"
    )


def test_starting_on_a_busy_port_starts_nothing(listener: int) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(PortInUse):
        start_downstream(port=listener)
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


def test_free_port_skips_busy_ports(listener: int) -> None:
    assert free_port(iter([listener, listener + 100])) == listener + 100
    with pytest.raises(PortInUse, match=f"every port in {listener}-{listener} "):
        free_port([listener])


def test_ports_rotate_past_the_one_just_used_and_skip_busy_ones(listener: int) -> None:
    # port() hands this module's ports out in order, so listener + 1 and + 2 are free.
    rotation = PortRotation(range(listener, listener + 3))
    assert [rotation(), rotation(), rotation()] == [listener + 1, listener + 2, listener + 1]


# --- Lifecycle -----------------------------------------------------------------------


def test_start_and_stop_leave_no_process() -> None:
    service = start_downstream(port=port())
    tree = service.processes()
    # granian: a master and one worker.
    assert len(tree) >= 2
    assert tree[0].pid == service.pid
    assert service.exit_code() is None
    recorded = snapshot(tree)
    service.stop()
    assert still_running(recorded) == []
    assert service.processes() == []
    service.stop()  # idempotent


def test_exception_in_the_with_block_stops_the_service() -> None:
    recorded: Snapshot = []
    with pytest.raises(RuntimeError), start_downstream(port=port()) as service:
        recorded = snapshot(service.processes())
        raise RuntimeError("boom")
    assert recorded
    assert still_running(recorded) == []


PARENT = """
import sys, time
from fwbench.harness.process import exit_on_sigterm, start_downstream

def show(service):
    print(" ".join(f"{p.pid}:{p.create_time()!r}" for p in service.processes()), flush=True)

action = sys.argv[2]
if action == "atexit":
    show(start_downstream(port=int(sys.argv[1])))  # never stopped explicitly
    sys.exit(0)
exit_on_sigterm()
with start_downstream(port=int(sys.argv[1])) as service:
    show(service)
    if action == "interrupt":
        raise KeyboardInterrupt
    if action == "crash":
        raise RuntimeError("the parent crashed")
    time.sleep(60)  # "sigterm": the test sends SIGTERM
"""


@pytest.mark.parametrize("action", ["interrupt", "crash", "atexit", "sigterm"])
def test_the_parent_ending_stops_the_service(action: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(port()), action],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert parent.stdout is not None
    line = parent.stdout.readline()
    recorded = [(int(pid), float(created)) for pid, created in (w.split(":") for w in line.split())]
    assert len(recorded) >= 2, f"the parent printed {line!r}"
    if action == "sigterm":
        parent.send_signal(signal.SIGTERM)
    code = parent.wait(timeout=30)
    assert (code == 0) == (action == "atexit")
    assert still_running(recorded) == []


STUBBORN = """
import signal, subprocess, sys, time
sleeper = [sys.executable, "-c",
           "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"]
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen(sleeper)
subprocess.Popen(sleeper, start_new_session=True)  # leaves the process group
time.sleep(600)
"""


def test_stop_kills_what_ignores_sigterm_even_outside_the_group(tmp_path: Path) -> None:
    workdir = tmp_path / "stubborn"
    workdir.mkdir()
    service = ServiceProcess(
        "stubborn",
        [sys.executable, "-c", STUBBORN],
        {},
        url="http://127.0.0.1:1",
        config=None,
        cpus=None,
        workdir=workdir,
        inherit_output=False,
    )
    wait_for(lambda: len(service.processes()) == 3)
    recorded = snapshot(service.processes())
    service.stop(timeout=1)
    assert still_running(recorded) == []
    assert not workdir.exists()


def test_a_server_that_exits_is_reported_with_its_last_line(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    crash = "import sys; print('starting'); sys.exit('boom: bad configuration')"
    with ServiceProcess(
        "crashing",
        [sys.executable, "-c", crash],
        {},
        url=f"http://127.0.0.1:{port()}",
        config=None,
        cpus=None,
        workdir=tmp_path / "w",
        inherit_output=False,
    ) as service:
        with pytest.raises(ServiceStartFailed) as raised:
            service.wait_ready(timeout=30)
        assert service.exit_code() == 1
    assert "crashing exited with code 1 before answering /healthz: boom: bad configuration" in str(
        raised.value
    )


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    silent = port()
    service = ServiceProcess(
        "silent",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        {},
        url=f"http://127.0.0.1:{silent}",
        config=None,
        cpus=None,
        workdir=tmp_path / "w",
        inherit_output=False,
    )
    with service, pytest.raises(ServiceStartFailed, match=f":{silent}/healthz within 0.2 s"):
        service.wait_ready(timeout=0.2)


# --- CPU pinning ---------------------------------------------------------------------


def test_pinning_applies_to_every_process_and_is_recorded() -> None:
    with start_downstream(port=port(), cpus={0}) as service:
        assert service.argv[1:3] == ["-c", "0"]
        assert Path(service.argv[0]).name == "taskset"
        assert service.cpus == frozenset({0})
        assert [p.cpu_affinity() for p in service.processes()] == [[0]] * len(service.processes())


def test_pinning_to_a_missing_cpu_is_a_user_error() -> None:
    missing = max(os.sched_getaffinity(0)) + 1
    with pytest.raises(InvalidOption, match=f"CPU {missing} is not available here"):
        start_downstream(port=port(), cpus={missing})


# --- Databases -----------------------------------------------------------------------


def test_default_database_is_a_sqlite_file_per_service(tmp_path: Path) -> None:
    url = database_url_for("flask", None, tmp_path / "state")
    assert url == f"sqlite:///{tmp_path / 'state' / 'flask.sqlite3'}"
    assert (tmp_path / "state").is_dir()


def test_default_state_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / "fwbench"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_state_dir() == Path.home() / ".cache" / "fwbench"


def test_sqlite_urls_get_a_file_per_service() -> None:
    assert database_url_for("django", "sqlite:////data/bench.sqlite3") == (
        "sqlite:////data/bench_django.sqlite3"
    )
    assert database_url_for("django", "sqlite:///bench.db") == "sqlite:///bench_django.db"


def test_other_schemes_are_refused() -> None:
    with pytest.raises(InvalidOption, match="unsupported database URL scheme 'mysql'"):
        database_url_for("flask", "mysql://localhost/x")


def test_unreachable_postgres_is_a_user_error() -> None:
    with pytest.raises(DatabaseUnreachable) as raised:
        database_url_for("fastapi", "postgresql://127.0.0.1:1/x")
    assert str(raised.value) == (
        "cannot reach PostgreSQL at 127.0.0.1:1: Connection refused; "
        "start it or pass a reachable --database URL"
    )


@pytest.mark.postgres
def test_postgres_database_per_service_is_created_once() -> None:
    base = f"fwbench_sv_{secrets.token_hex(4)}"
    server = POSTGRES.rsplit("/", 1)[0]
    try:
        url = database_url_for("fastapi", f"{server}/{base}")
        assert url == f"{server}/{base}_fastapi"
        assert database_url_for("fastapi", f"{server}/{base}") == url  # exists: reused
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (f"{base}_fastapi",)
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(f"{base}_fastapi")
                )
            )


# --- Framework services (need the implementations) -------------------------------------


def test_multiprocess_servers_get_a_fresh_metrics_dir(tmp_path: Path) -> None:
    with start_service(
        "flask", server="gunicorn-sync", workers=2, port=port(), state_dir=tmp_path
    ) as service:
        metrics_dir = Path(service.env["PROMETHEUS_MULTIPROC_DIR"])
        assert metrics_dir.is_dir()
        # gunicorn's master + 2 workers, every worker seeing the same directory
        workers = service.processes()[1:]
        assert len(workers) == 2
        assert {w.environ()["PROMETHEUS_MULTIPROC_DIR"] for w in workers} == {str(metrics_dir)}
    assert not metrics_dir.exists()


def test_single_process_servers_get_no_metrics_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "stale"))
    with start_service("fastapi", workers=1, port=port(), state_dir=tmp_path) as service:
        assert "PROMETHEUS_MULTIPROC_DIR" not in service.env
        assert "PROMETHEUS_MULTIPROC_DIR" not in psutil.Process(service.pid).environ()


def test_workers_inherit_the_pinning(tmp_path: Path) -> None:
    with start_service(
        "flask", server="gunicorn-sync", port=port(), cpus={0}, state_dir=tmp_path
    ) as service:
        assert service.config is not None
        assert (service.config.cores, service.config.workers) == (1, 3)
        processes = service.processes()
        assert len(processes) == 4
        assert all(p.cpu_affinity() == [0] for p in processes)


def test_service_environment(tmp_path: Path) -> None:
    with start_service(
        "django",
        port=port(),
        state_dir=tmp_path,
        downstream_url="http://127.0.0.1:18499",
        extra_env={"DOWNSTREAM_TIMEOUT": "0.5"},
    ) as service:
        env = psutil.Process(service.pid).environ()
        assert env["DATABASE_URL"] == f"sqlite:///{tmp_path.resolve() / 'django.sqlite3'}"
        assert env["DOWNSTREAM_URL"] == "http://127.0.0.1:18499"
        assert env["DOWNSTREAM_TIMEOUT"] == "0.5"
        assert env["DJANGO_SETTINGS_MODULE"] == "fwbench.services.django_service.project.settings"
        assert env["API_TOKEN"] == os.environ.get("API_TOKEN", "fwbench-api-token")
        assert env["ADMIN_TOKEN"] == os.environ.get("ADMIN_TOKEN", "fwbench-admin-token")


def test_bootstrap_failure_carries_its_last_line(tmp_path: Path) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(BootstrapFailed) as raised:
        start_service(
            "fastapi", port=port(), database_url=f"sqlite:///{tmp_path}/missing/x.sqlite3"
        )
    message = str(raised.value)
    assert message.startswith("the fastapi database bootstrap failed: ")
    assert f"{tmp_path}/missing/x_fastapi.sqlite3" in message
    assert message.endswith("; fix the database (or pass another --database) and retry")
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


def test_unreachable_database_starts_nothing() -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(DatabaseUnreachable):
        start_service("flask", port=port(), database_url="postgresql://127.0.0.1:1/x")
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


def test_cold_start_is_measured_from_the_spawn(tmp_path: Path) -> None:
    with start_service("fastapi", port=port(), state_dir=tmp_path, wait=False) as service:
        ready = service.wait_ready()
        assert 0 < ready <= time.monotonic() - service.started_at
