"""What is specific to the Flask implementation, over real HTTP against real servers.

The contract suite (tests/contract) checks the behaviour all three implementations
share; these tests check this implementation's own choices: SQLAlchemy's loading in the
lab endpoints, integer cents on SQLite, the streamed-body limit, the bootstrap's
errors, and that gunicorn's gevent worker really is cooperative with psycopg 3 and urllib3.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from fwbench.contract import MAX_BODY_BYTES
from fwbench.harness.process import (
    DEFAULT_TOKENS,
    ServiceProcess,
    free_port,
    start_downstream,
    start_service,
)

#: This module's share of the fwbench_fl port range (18200-18299).
_PORTS = iter(range(18270, 18300))

POSTGRES = os.environ.get("FWBENCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Base URL given to the harness, which appends ``_flask`` to the database name.
POSTGRES_BASE = POSTGRES.rsplit("/", 1)[0] + "/fwbench_fl_test"

API_HEADERS = {
    "Authorization": f"Bearer {os.environ.get('API_TOKEN', DEFAULT_TOKENS['API_TOKEN'])}"
}
BODY = {"account_id": "flask-test", "amount": "12.5", "currency": "EUR", "merchant": "Shop"}


@pytest.fixture(scope="module")
def downstream() -> Iterator[ServiceProcess]:
    with start_downstream(port=free_port(_PORTS)) as service:
        yield service


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flask-service")


@pytest.fixture(scope="module")
def lab(state_dir: Path, downstream: ServiceProcess) -> Iterator[httpx.Client]:
    """The service with the lab endpoints, on SQLite under gunicorn (2 sync workers)."""
    with (
        start_service(
            "flask",
            port=free_port(_PORTS),
            workers=2,
            state_dir=state_dir,
            downstream_url=downstream.url,
            extra_env={"FWBENCH_LAB": "1"},
        ) as service,
        httpx.Client(base_url=service.url, timeout=60) as client,
    ):
        yield client


@pytest.mark.parametrize("limit", [20, 50, 100])
def test_naive_loading_queries_once_per_merchant_not_yet_in_the_session(
    lab: httpx.Client, limit: int
) -> None:
    assert lab.post("/_lab/purchases/seed").status_code == 200
    naive = lab.get("/_lab/purchases", params={"mode": "naive", "limit": limit})
    eager = lab.get("/_lab/purchases", params={"mode": "eager", "limit": limit})
    assert naive.json() == eager.json()
    assert len(naive.json()) == limit
    merchants = len({purchase["merchant"]["id"] for purchase in naive.json()})
    # One SELECT for the purchases, one lazy load per distinct merchant (SQLAlchemy's
    # identity map answers the repeats); joinedload gets everything in one statement.
    assert int(naive.headers["X-Query-Count"]) == 1 + merchants
    assert int(eager.headers["X-Query-Count"]) == 1


def test_streamed_rows_equal_the_loaded_rows_across_fetch_batches(lab: httpx.Client) -> None:
    count = 2_345  # more than two yield_per batches of 1000
    assert lab.post("/_lab/rows/seed", params={"count": count}).json() == {"rows": count}
    loaded = lab.get("/_lab/rows", params={"mode": "all"})
    streamed = lab.get("/_lab/rows", params={"mode": "stream"})
    assert streamed.headers["content-type"] == "application/json"
    assert streamed.json() == loaded.json()
    assert [row["id"] for row in loaded.json()] == list(range(1, count + 1))
    last_page = lab.get("/_lab/rows", params={"mode": "page", "after": count - 45}).json()
    assert [row["id"] for row in last_page["items"]] == list(range(count - 44, count + 1))


def test_sqlite_stores_amounts_as_integer_cents(lab: httpx.Client, state_dir: Path) -> None:
    created = lab.post("/transactions", json=BODY, headers=API_HEADERS)
    assert created.status_code == 201, created.text
    with sqlite3.connect(state_dir / "flask.sqlite3") as connection:
        stored = connection.execute(
            "SELECT typeof(amount), amount FROM transactions WHERE id = ?", (created.json()["id"],)
        ).fetchone()
    assert stored == ("integer", 1250)
    assert created.json()["amount"] == "12.50"


def _chunked(payload: bytes) -> Iterator[bytes]:
    for start in range(0, len(payload), 4096):
        yield payload[start : start + 4096]


def _body_of_size(size: int) -> bytes:
    """A valid transaction body padded with JSON whitespace to exactly ``size`` bytes."""
    compact = json.dumps({**BODY, "account_id": "chunked"}).encode()
    return b"{" + b" " * (size - len(compact)) + compact[1:]


@pytest.mark.parametrize(("size", "status"), [(MAX_BODY_BYTES, 201), (MAX_BODY_BYTES + 1, 413)])
def test_a_chunked_body_is_limited_by_its_real_size(
    lab: httpx.Client, size: int, status: int
) -> None:
    payload = _body_of_size(size)
    assert len(payload) == size
    response = lab.post(
        "/transactions",
        content=_chunked(payload),
        headers={**API_HEADERS, "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    if status == 413:
        assert response.headers["content-type"] == "application/problem+json"


def _bootstrap(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fwbench.services.flask_service.bootstrap"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bootstrap_seeds_once(tmp_path: Path) -> None:
    database = tmp_path / "boot.sqlite3"
    assert _bootstrap(f"sqlite:///{database}").returncode == 0
    with sqlite3.connect(database) as connection:
        first = connection.execute("SELECT id, randomnumber FROM world ORDER BY id").fetchall()
    assert _bootstrap(f"sqlite:///{database}").returncode == 0
    with sqlite3.connect(database) as connection:
        again = connection.execute("SELECT id, randomnumber FROM world ORDER BY id").fetchall()
        fortunes = connection.execute("SELECT count(*) FROM fortune").fetchone()
    assert len(first) == 10_000 and again == first
    assert fortunes == (12,)


@pytest.mark.parametrize(
    ("database_url", "reason"),
    [
        ("postgresql://postgres@127.0.0.1:1/fwbench_fl_nowhere", "cannot prepare the database"),
        ("mysql://localhost/db", "scheme 'mysql' is not supported"),
        ("sqlite://", "must name a SQLite file"),
    ],
)
def test_bootstrap_fails_with_one_line(database_url: str, reason: str) -> None:
    result = _bootstrap(database_url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and reason in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def gevent_service(downstream: ServiceProcess) -> Iterator[tuple[httpx.Client, ServiceProcess]]:
    """One gunicorn gevent worker on PostgreSQL."""
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES}: {error}")
    with (
        start_service(
            "flask",
            port=free_port(_PORTS),
            server="gunicorn-gevent",
            workers=1,
            database_url=POSTGRES_BASE,
            downstream_url=downstream.url,
        ) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        yield client, service
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(POSTGRES_BASE.rsplit("/", 1)[1] + "_flask")
            )
        )


def _in_background(client: httpx.Client, path: str) -> tuple[threading.Thread, list[int]]:
    statuses: list[int] = []
    thread = threading.Thread(target=lambda: statuses.append(client.get(path).status_code))
    thread.start()
    return thread, statuses


def _until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds (a set-up step, bounded by a 30 s deadline)."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.05)


@pytest.mark.postgres
def test_gevent_worker_serves_others_while_psycopg_waits(
    gevent_service: tuple[httpx.Client, ServiceProcess],
) -> None:
    client, service = gevent_service
    with psycopg.connect(service.env["DATABASE_URL"]) as locker:
        locker.execute("LOCK TABLE world IN ACCESS EXCLUSIVE MODE")
        waiting, statuses = _in_background(client, "/db")
        with psycopg.connect(service.env["DATABASE_URL"], autocommit=True) as observer:
            _until(
                lambda: (
                    observer.execute(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted"
                        " AND relation = 'world'::regclass"
                    ).fetchone()
                    == (1,)
                ),
                "/db waits for the lock inside psycopg",
            )
        # A blocking wait would stall the worker's only thread: /json would not answer
        # until the lock is released, and this call would time out first.
        assert client.get("/json").status_code == 200
        assert waiting.is_alive() and not statuses
    waiting.join(timeout=30)
    assert statuses == [200]


@pytest.mark.postgres
def test_gevent_worker_serves_others_while_urllib3_waits(
    gevent_service: tuple[httpx.Client, ServiceProcess], downstream: ServiceProcess
) -> None:
    client, service = gevent_service
    downstream_port = int(downstream.url.rsplit(":", 1)[1])
    waiting, statuses = _in_background(client, "/io?ms=3000")
    _until(
        lambda: any(
            connection.raddr and connection.raddr.port == downstream_port
            for process in service.processes()
            for connection in process.net_connections()
        ),
        "/io waits for the downstream inside urllib3",
    )
    assert client.get("/json").status_code == 200
    assert waiting.is_alive() and not statuses
    waiting.join(timeout=30)
    assert statuses == [200]
