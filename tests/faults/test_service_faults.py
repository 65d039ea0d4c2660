"""Faults while serving, under load: the database stops and comes back, a worker is
SIGKILLed, the downstream is slow, failing or gone. Each implementation runs as in
production (``fwbench serve``, several workers); nothing may be lost or written twice.

The database outage uses a private PostgreSQL cluster (tests/faults/_postgres.py): the
shared server must never be stopped. Set ``FWBENCH_FAULTS_LOG`` to a JSON-lines file to
receive one line per test with the requests sent and their outcomes.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import httpx
import psutil
import pytest

from fwbench.contract import DATABASE_UNAVAILABLE
from fwbench.harness.servers import FRAMEWORKS
from fwbench.services.downstream.faults import Faults
from tests.contract._checks import assert_problem
from tests.contract._servers import (
    DOWNSTREAM_TIMEOUT,
    Service,
    ServicePool,
    SuiteError,
    Target,
)
from tests.faults._load import CreateLoad, assert_nothing_lost
from tests.faults._postgres import PrivateCluster
from tests.jsonl import append_line

#: What an API request answers while the database is down: the contract's 503 problem
#: (never a 500, nor a connection closed without an answer).
DATABASE_DOWN: Final[set[int | None]] = {503}

#: Seconds of load before, during and after a fault.
PHASE_S: Final = 2.0

#: Seconds a service may take to answer again once the fault is over.
RECOVERY_S: Final = 60.0


def _log(
    test: str, framework: str, database: str, statuses: Counter[int | None], **extra: Any
) -> None:
    append_line(
        "FWBENCH_FAULTS_LOG",
        {
            "test": test,
            "framework": framework,
            "database": database,
            "requests": statuses.total(),
            "statuses": {str(status): count for status, count in statuses.items()},
            **extra,
        },
    )


def _start(
    pool: ServicePool, framework: str, database: str, variant: str, sqlite_dir: Path | None = None
) -> Service:
    try:
        return pool.start(Target(framework, database), variant, sqlite_dir)
    except SuiteError as error:
        pytest.fail(str(error), pytrace=False)


def _wait_ready(service: Service) -> None:
    deadline = time.monotonic() + RECOVERY_S
    while httpx.get(f"{service.base_url}/readyz", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "the service did not become ready again"
        time.sleep(0.2)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_postgres_stopped_mid_load_answers_503_recovers_and_loses_nothing(
    framework: str, cluster: PrivateCluster, private_pool: ServicePool
) -> None:
    service = _start(private_pool, framework, "postgres", "outage")
    load = CreateLoad(service, private_pool.api_token)
    try:
        load.start()
        load.wait_for({201}, 5, RECOVERY_S)
        cluster.stop("immediate")
        down_at = time.monotonic()
        load.wait_for(DATABASE_DOWN, 3, RECOVERY_S)
        assert_problem(httpx.get(f"{service.base_url}/readyz", timeout=30), 503)
        time.sleep(max(0.0, PHASE_S - (time.monotonic() - down_at)))
        cluster.start()
        load.wait_for({201}, 5, RECOVERY_S)  # recovered without a restart
        _wait_ready(service)
    finally:
        load.stop()
        if not cluster.running():
            cluster.start()
    statuses = load.statuses()
    # Every answer was a 201 or a 503 problem (the problem checked as it came).
    assert set(statuses) <= {201} | DATABASE_DOWN, statuses
    counts = assert_nothing_lost(load)
    _log("postgres-outage", framework, "postgres", statuses, **counts)
    service.server.stop()


#: The benchmark endpoints that read the database (the contract documents their 503).
DATABASE_BENCHMARKS: Final = ("/db", "/queries?queries=3", "/updates?queries=3", "/fortunes")


def _get_all(client: httpx.Client, paths: list[str]) -> list[httpx.Response | None]:
    """GET every path of ``paths`` from 4 threads at once; None for a request whose
    connection failed without an answer."""

    def get(path: str) -> httpx.Response | None:
        try:
            return client.get(path)
        except httpx.TransportError:
            return None

    with ThreadPoolExecutor(max_workers=4) as threads:
        return list(threads.map(get, paths))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_benchmark_endpoints_answer_503_while_postgres_is_down_and_recover(
    framework: str, cluster: PrivateCluster, private_pool: ServicePool
) -> None:
    """/db, /queries, /updates and /fortunes, concurrently while PostgreSQL is stopped: every
    answer is the contract's 503 problem with the same detail as the payments API (never a
    500, nor a connection closed without an answer), and the same service answers 200 again
    once PostgreSQL is back."""
    service = _start(private_pool, framework, "postgres", "te-outage")
    paths = list(DATABASE_BENCHMARKS) * 3
    with httpx.Client(base_url=service.base_url, timeout=60) as client:
        for path in DATABASE_BENCHMARKS:
            assert client.get(path).status_code == 200, path
        cluster.stop("immediate")
        try:
            answers = _get_all(client, paths)
        finally:
            cluster.start()
        statuses = Counter(None if a is None else a.status_code for a in answers)
        for path, answer in zip(paths, answers, strict=True):
            assert answer is not None, f"{path}: the connection closed without an answer"
            body = assert_problem(answer, 503)
            assert body["detail"] == DATABASE_UNAVAILABLE, (path, body)
        _wait_ready(service)
        deadline = time.monotonic() + RECOVERY_S
        for path in DATABASE_BENCHMARKS:  # recovered without a restart
            while (status := client.get(path).status_code) != 200:
                assert time.monotonic() < deadline, f"{path} answers {status} after recovery"
                time.sleep(0.2)
    _log("postgres-outage-benchmarks", framework, "postgres", statuses)
    service.server.stop()


#: Size of the file system that fills up: room for the seeded database and its WAL.
SMALL_DISK: Final = "32m"


@contextlib.contextmanager
def _small_disk(path: Path) -> Iterator[Path]:
    """A tmpfs of SMALL_DISK mounted at ``path`` (as root), unmounted afterwards."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def _chattr(flag: str, *files: Path) -> None:
    done = subprocess.run(
        ["chattr", flag, *map(str, files)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {done.stderr.strip()}")


def _fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte with a file of zeros; that file."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: nothing left to flush
        for size in (1024 * 1024, 4096, 1):  # large writes, then the last partial block
            with contextlib.suppress(OSError):
                while True:
                    handle.write(bytes(size))
    with pytest.raises(OSError) as full:
        (disk / "one-more-byte").write_bytes(b"0")
    assert full.value.errno == errno.ENOSPC, full.value
    return filler


@contextlib.contextmanager
def _sqlite_fault(fault: str, database: Path) -> Iterator[None]:
    """``read-only``: the database file and its WAL made immutable (``chattr +i``: even
    root, and the service's open descriptors, can no longer write them); ``disk-full``: the
    file system of ``database`` filled up, after the WAL was checkpointed and truncated so
    that the next commit must grow it. The fault is undone on exit."""
    wal = database.with_name(database.name + "-wal")
    if fault == "read-only":
        _chattr("+i", database, wal)
        try:
            yield
        finally:
            _chattr("-i", database, wal)
        return
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = _fill(database.parent)
    try:
        yield
    finally:
        filler.unlink()


@pytest.mark.parametrize("fault", ["read-only", "disk-full"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_read_only_or_full_sqlite_file_answers_503_and_nothing_is_half_written(
    framework: str, fault: str, private_pool: ServicePool, tmp_path: Path
) -> None:
    """Creates under load while the SQLite file cannot be written: every answer is a 201
    or the contract's 503 problem; once the fault is undone the same service writes again,
    every key has exactly one transaction with its audit row, and the file is intact."""
    with contextlib.ExitStack() as stack:
        directory = tmp_path / "db"
        if fault == "disk-full":
            stack.enter_context(_small_disk(directory))
        else:
            directory.mkdir()
        service = _start(private_pool, framework, "sqlite", fault, directory)
        stack.callback(service.server.stop)
        database = Path(service.database.url.removeprefix("sqlite:///"))
        load = CreateLoad(service, private_pool.api_token)
        try:
            load.start()
            load.wait_for({201}, 5, RECOVERY_S)
            with _sqlite_fault(fault, database):
                load.wait_for({503}, 3, RECOVERY_S)
            load.wait_for({201}, 5, RECOVERY_S)  # writes again without a restart
        finally:
            load.stop()
        statuses = load.statuses()
        assert set(statuses) <= {201, 503}, statuses
        counts = assert_nothing_lost(load)
        assert service.database.fetch("PRAGMA integrity_check") == [("ok",)]
        _log(f"sqlite-{fault}", framework, "sqlite", statuses, **counts)


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_a_connection_sqlite_opened_read_only_is_not_used_again(
    framework: str, tmp_path: Path
) -> None:
    """SQLite opens a file it cannot write read-only, without an error, and that connection
    stays read-only once the file is writable again: the engines of the two services that
    pool SQLite connections must discard it (Django opens one per request). Without that, a
    pooled read-only connection failed creates with 503 after the fault of the test above
    (a CI run: Flask, a replayed create answered 503 once the file was writable again)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults._read_only_sqlite", framework, str(tmp_path / "db")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=60,
        check=False,
    )
    if done.returncode == 3:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["written"], "the engine used the read-only connection again"


def _workers(service: Service) -> list[psutil.Process]:
    """The server master's worker processes (the master is the child of ``fwbench serve``
    that is not its watchdog)."""
    serve = psutil.Process(service.server.process.pid)
    [master] = [p for p in serve.children() if "fwbench.harness.watchdog" not in p.cmdline()]
    return [p for p in master.children() if _is_worker(p)]


def _hold_a_worker(
    service: Service, token: str, workers: list[psutil.Process]
) -> tuple[socket.socket, psutil.Process]:
    """Open a create whose body never finishes arriving, so that one worker is sure to
    hold a request in flight when it is killed (the create load alone leaves that to
    chance: Django's workers were between requests in both kills of one run), and return
    the socket with the worker that reads from it."""
    held = socket.create_connection(("127.0.0.1", service.server.port), timeout=RECOVERY_S)
    held.sendall(
        b"POST /transactions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid.uuid4().hex}\r\n".encode()
        + b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        + b'{"account_id": "held'
    )
    client_port = held.getsockname()[1]
    deadline = time.monotonic() + RECOVERY_S
    while True:
        for worker in workers:
            with contextlib.suppress(psutil.Error):
                if any(
                    c.raddr and c.raddr.port == client_port
                    for c in worker.net_connections(kind="tcp")
                ):
                    return held, worker
        assert time.monotonic() < deadline, "no worker took the held request"
        time.sleep(0.02)


def _rest_of(held: socket.socket) -> bytes:
    """What the server sends on ``held`` until it closes it (a reset counts as closed)."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := held.recv(4096):
            received += chunk
    return received


def _is_worker(process: psutil.Process) -> bool:
    """Alive and not uvicorn's multiprocessing resource tracker (a killed worker stays a
    zombie until its master reaps it)."""
    try:
        cmdline = " ".join(process.cmdline())
        return process.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in cmdline
    except psutil.Error:
        return False


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_worker_killed_mid_load_is_replaced_and_no_write_is_lost_or_doubled(
    framework: str, database: str, private_pool: ServicePool
) -> None:
    """One worker SIGKILLed under the create load, on SQLite and on PostgreSQL (the
    private cluster, like the outage test: ``private_pool`` creates its databases there).
    On PostgreSQL the dead worker's connections end with it, and the server rolls back
    whatever transaction they held."""
    service = _start(private_pool, framework, database, "workerkill")
    load = CreateLoad(service, private_pool.api_token)
    try:
        load.start()
        load.wait_for({201}, 5, RECOVERY_S)
        before = _workers(service)
        held, victim = _hold_a_worker(service, private_pool.api_token, before)
        victim.kill()
        # The request the killed worker held ends without an answer (a clean failure the
        # client can retry), never with a half-written or made-up response.
        held.settimeout(RECOVERY_S)
        assert _rest_of(held) == b"", "the killed worker's request got an answer"
        held.close()
        deadline = time.monotonic() + RECOVERY_S
        while not ({p.pid for p in _workers(service)} - {p.pid for p in before}):
            assert time.monotonic() < deadline, "the server did not replace the killed worker"
            time.sleep(0.1)
        load.wait_for({201}, 5, RECOVERY_S)
    finally:
        load.stop()
    statuses = load.statuses()
    # A request the dying worker held ends with a closed connection (None), never a
    # half-written answer; every other request succeeds: the kernel releases the dead
    # worker's SQLite lock and its sockets, and PostgreSQL ends its sessions, so nothing
    # is left for another worker to trip over (no 500, and no 503 from a lock that never
    # comes free).
    assert set(statuses) <= {201, None}, statuses
    assert len(_workers(service)) == len(before)
    counts = assert_nothing_lost(load)
    _log("worker-sigkill", framework, database, statuses, **counts)
    service.server.stop()


#: Each downstream fault and the status every fraud check must answer under it.
DOWNSTREAM_FAULTS: Final = {"slow": 504, "erroring": 502, "refusing": 502}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_broken_downstream_under_load_answers_502_or_504_and_changes_nothing(
    framework: str, private_pool: ServicePool
) -> None:
    """Concurrent fraud checks of pending transactions while the downstream is slow (past
    DOWNSTREAM_TIMEOUT), answers errors, or is stopped: every answer is the documented
    problem and no transaction is scored."""
    downstream = private_pool.start_downstream()
    service = _start(private_pool, framework, "sqlite", "downstream")
    headers = {"Authorization": f"Bearer {private_pool.api_token}"}
    body = {"account_id": "df", "amount": "10.00", "currency": "EUR", "merchant": "m"}
    with httpx.Client(base_url=service.base_url, timeout=60, headers=headers) as client:
        ids = [client.post("/transactions", json=body).json()["id"] for _ in range(8)]
        for fault, expected in DOWNSTREAM_FAULTS.items():
            if fault == "slow":
                downstream.set_faults(Faults(latency_ms=int(DOWNSTREAM_TIMEOUT * 1000) + 500))
            elif fault == "erroring":
                downstream.set_faults(Faults(error_rate=1.0))
            else:
                downstream.stop()
            try:
                with ThreadPoolExecutor(max_workers=4) as pool:
                    answers = list(
                        pool.map(lambda i: client.post(f"/transactions/{i}/fraud-check"), ids * 3)
                    )
            finally:
                downstream.reset()
            for answer in answers:
                assert_problem(answer, expected)
            rows = service.database.fetch(
                "SELECT status, fraud_score FROM transactions WHERE account_id = 'df'"
            )
            assert rows and all(row == ("pending", None) for row in rows), rows
            _log(
                f"downstream-{fault}", framework, "sqlite", Counter(a.status_code for a in answers)
            )
    service.server.stop()
