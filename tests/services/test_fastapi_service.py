"""What is specific to the FastAPI implementation, over real HTTP and real databases.

The contract suite (tests/contract) checks the behaviour the three implementations share,
under each one's default server. This module checks what only this implementation has:
its bootstrap and settings errors, its exact-money column type on SQLite, SQLAlchemy's
query counts in the N+1 lab endpoint, its httpx lab routes, its pooled aiohttp downstream
client, its session scope (a one-connection pool must not deadlock with the audit
middleware), its second server, granian, and the switch that leaves out the contract's
extras for the fairness benchmark. PostgreSQL cases are marked ``postgres`` and
use ``FWBENCH_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import func, select, text

from fwbench.contract import EXTRAS, EXTRAS_OFF_FLAG, MAX_BODY_BYTES, extras_off
from fwbench.harness.process import ServiceProcess, free_port, start_downstream, start_service
from fwbench.services.fastapi_service.database import create_engine, create_sessionmaker
from fwbench.services.fastapi_service.models import Base, Transaction, utc_now

#: This module's share of the FastAPI helper's port range (18100-18199), or the inclusive
#: range ``FWBENCH_TEST_PORTS=LOW-HIGH`` names (as in the contract suite).
_LOW, _, _HIGH = os.environ.get("FWBENCH_TEST_PORTS", "18150-18198").partition("-")
_PORTS = iter(range(int(_LOW), int(_HIGH) + 1))

POSTGRES_URL = os.environ.get(
    "FWBENCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB_PREFIX = os.environ.get("FWBENCH_TEST_DB_PREFIX", "fwbench_test")
API = {"Authorization": "Bearer fwbench-api-token"}
ADMIN = {"Authorization": "Bearer fwbench-admin-token"}
TOKENS = {"API_TOKEN": "fwbench-api-token", "ADMIN_TOKEN": "fwbench-admin-token"}
BOOTSTRAP = "fwbench.services.fastapi_service.bootstrap"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a Python module or snippet with ``env`` added to a token-free environment."""
    base = {k: v for k, v in os.environ.items() if k not in {"API_TOKEN", "ADMIN_TOKEN"}}
    return subprocess.run(
        [sys.executable, *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def postgres_base() -> Iterator[str]:
    """A PostgreSQL URL naming a fresh database name; the harness creates
    ``<name>_fastapi`` from it, which is dropped afterwards."""
    name = f"{DB_PREFIX}_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=5):
            pass
    except psycopg.Error as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {error}")
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(f"{name}_fastapi")
            )
        )


@pytest.fixture(scope="module")
def downstream() -> Iterator[ServiceProcess]:
    with start_downstream(port=free_port(_PORTS)) as service:
        yield service


def _database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_base")
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('fastapi') / 'service.sqlite3'}"


DATABASES = [
    pytest.param("sqlite"),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module", params=DATABASES)
def lab_service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    downstream: ServiceProcess,
) -> Iterator[ServiceProcess]:
    """The service under uvicorn with the lab endpoints, on each database."""
    with start_service(
        "fastapi",
        port=free_port(_PORTS),
        server="uvicorn",
        workers=1,
        database_url=_database(request, tmp_path_factory),
        downstream_url=downstream.url,
        extra_env={"FWBENCH_LAB": "1"},
        state_dir=tmp_path_factory.mktemp("state"),
    ) as service:
        yield service


@pytest.fixture(scope="module", params=DATABASES)
def granian_service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    downstream: ServiceProcess,
) -> Iterator[ServiceProcess]:
    """The service under granian with two workers, on each database."""
    with start_service(
        "fastapi",
        port=free_port(_PORTS),
        server="granian",
        workers=2,
        database_url=_database(request, tmp_path_factory),
        downstream_url=downstream.url,
        state_dir=tmp_path_factory.mktemp("state"),
    ) as service:
        yield service


def _uvicorn_on_sqlite(
    tmp_path: Path, downstream: ServiceProcess, extra_env: dict[str, str] | None = None
) -> ServiceProcess:
    """A one-worker uvicorn service on a fresh SQLite file under ``tmp_path``."""
    return start_service(
        "fastapi",
        port=free_port(_PORTS),
        server="uvicorn",
        workers=1,
        database_url=f"sqlite:///{tmp_path / 'service.sqlite3'}",
        downstream_url=downstream.url,
        extra_env=extra_env,
        state_dir=tmp_path,
    )


def test_bootstrap_seeds_once_and_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "boot.sqlite3"
    for _ in range(2):
        result = _run(["-m", BOOTSTRAP], {"DATABASE_URL": f"sqlite:///{database}"})
        assert result.returncode == 0, result.stderr
    with contextlib.closing(sqlite3.connect(database)) as connection:
        for table, rows in [("world", 10_000), ("fortune", 12)]:
            query = f"SELECT count(*), count(DISTINCT id), min(id), max(id) FROM {table}"
            assert connection.execute(query).fetchone() == (rows, rows, 1, rows)
        numbers = connection.execute("SELECT min(randomnumber), max(randomnumber) FROM world")
        low, high = numbers.fetchone()
        assert 1 <= low <= high <= 10_000


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://postgres@127.0.0.1:1/nothing", "cannot reach the database"),
        ("mysql://localhost/db", "must start with sqlite:/// or postgresql://"),
        ("sqlite:////nonexistent-fwbench-dir/x.sqlite3", "does not exist"),
    ],
)
def test_bootstrap_reports_a_bad_database_in_one_line(url: str, words: str) -> None:
    result = _run(["-m", BOOTSTRAP], {"DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_app_refuses_to_start_without_tokens(tmp_path: Path) -> None:
    result = _run(
        ["-c", "import fwbench.services.fastapi_service.app"],
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
    )
    assert result.returncode != 0
    assert "API_TOKEN, ADMIN_TOKEN" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_money_is_integer_cents_on_sqlite_so_sums_are_exact(tmp_path: Path) -> None:
    """SQLite's NUMERIC affinity would store binary floats; the Money type stores cents."""

    async def scenario() -> tuple[list[tuple[str, int]], Decimal]:
        engine = create_engine(f"sqlite:///{tmp_path / 'money.sqlite3'}", pool_size=1)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            async with create_sessionmaker(engine)() as session:
                for amount in ["0.10", "0.20", "999999.99", "0.01"] * 25:
                    session.add(
                        Transaction(
                            account_id="money",
                            amount=Decimal(amount),
                            currency="EUR",
                            merchant="m",
                            status="pending",
                            created_at=utc_now(),
                        )
                    )
                await session.commit()
                stored = (
                    await session.execute(text("SELECT typeof(amount), amount FROM transactions"))
                ).all()
                total = await session.scalar(select(func.sum(Transaction.amount)))
                assert total is not None
                return [(kind, value) for kind, value in stored[:4]], total
        finally:
            await engine.dispose()

    stored, total = asyncio.run(scenario())
    assert stored == [("integer", 10), ("integer", 20), ("integer", 99999999), ("integer", 1)]
    assert str(total) == "25000007.50"


def test_naive_loading_queries_each_merchant_once_and_eager_joins(
    lab_service: ServiceProcess,
) -> None:
    """Purchases cycle through 50 merchants. A lazy many-to-one load is one SELECT per
    merchant not yet in the session's identity map, so 20 purchases take 1 + 20 queries
    and 200 take 1 + 50; joinedload takes a single query."""
    with httpx.Client(base_url=lab_service.url, timeout=60) as client:
        assert client.post("/_lab/purchases/seed").json() == {"merchants": 50, "purchases": 1000}
        counts = {}
        for mode, limit in [("naive", 20), ("naive", 200), ("eager", 20), ("eager", 200)]:
            response = client.get("/_lab/purchases", params={"mode": mode, "limit": limit})
            assert response.status_code == 200, response.text
            assert len(response.json()) == limit
            counts[mode, limit] = int(response.headers["X-Query-Count"])
    assert counts == {("naive", 20): 21, ("naive", 200): 51, ("eager", 20): 1, ("eager", 200): 1}


@pytest.mark.parametrize("path", ["/_lab/io-httpx", "/_lab/io-blocking", "/_lab/io-sync"])
def test_the_httpx_lab_routes_call_the_downstream(lab_service: ServiceProcess, path: str) -> None:
    with httpx.Client(base_url=lab_service.url, timeout=30) as client:
        response = client.get(path, params={"ms": 5})
        assert (response.status_code, response.json()) == (200, {"downstream_ms": 5})
        rejected = client.get(path, params={"ms": 10_001})
        assert rejected.status_code == 422, rejected.text


def test_io_reuses_one_pooled_downstream_connection(
    tmp_path: Path, downstream: ServiceProcess
) -> None:
    """The worker's one aiohttp session pools and keeps alive its connections: sequential
    calls share one (a session per call, or a connection closed after each call, would
    leave none open)."""
    with _uvicorn_on_sqlite(tmp_path, downstream) as service:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for ms in [0, 1, 2] * 7:
                response = client.get("/io", params={"ms": ms})
                assert (response.status_code, response.json()) == (200, {"downstream_ms": ms})
        downstream_port = int(downstream.url.rsplit(":", 1)[1])
        worker = psutil.Process(service.pid)
        open_to_downstream = [
            connection
            for process in [worker, *worker.children(recursive=True)]
            for connection in process.net_connections(kind="tcp")
            if connection.raddr
            and connection.raddr.port == downstream_port
            and connection.status == psutil.CONN_ESTABLISHED
        ]
        assert len(open_to_downstream) == 1, open_to_downstream


def test_a_one_connection_pool_serves_concurrent_audited_requests(
    tmp_path: Path, downstream: ServiceProcess
) -> None:
    """The route's session gives its connection back before the response starts, when
    the audit middleware needs one: with both held at once, ten concurrent requests on a
    one-connection pool would wait for each other until the pool timeout (500s)."""
    clients = 10
    with _uvicorn_on_sqlite(tmp_path, downstream, {"DB_POOL_SIZE": "1"}) as service:
        account = f"pool-{secrets.token_hex(4)}"
        barrier = threading.Barrier(clients)

        def post(index: int) -> int:
            body = {"account_id": account, "amount": f"{index + 1}.00", "currency": "EUR"}
            with httpx.Client(base_url=service.url, timeout=120) as client:
                barrier.wait()
                response = client.post("/transactions", headers=API, json={**body, "merchant": "m"})
                return response.status_code

        with ThreadPoolExecutor(clients) as executor:
            statuses = list(executor.map(post, range(clients)))
        assert statuses == [201] * clients
        with httpx.Client(base_url=service.url, timeout=30) as client:
            page = client.get("/transactions", params={"account_id": account}, headers=API)
            assert len(page.json()["items"]) == clients


def test_granian_serves_the_benchmark_headers(granian_service: ServiceProcess) -> None:
    with httpx.Client(base_url=granian_service.url, timeout=30) as client:
        response = client.get("/json")
        assert response.json() == {"message": "Hello, World!"}
        assert response.headers["content-type"] == "application/json"
        assert response.headers.get_list("server") and response.headers.get_list("date")
        plain = client.get("/plaintext")
        assert (plain.text, plain.headers["content-type"]) == ("Hello, World!", "text/plain")


def test_granian_serves_the_domain_with_problem_errors(granian_service: ServiceProcess) -> None:
    body = {"account_id": "granian", "amount": "12.5", "currency": "EUR", "merchant": "m"}
    with httpx.Client(base_url=granian_service.url, timeout=30) as client:
        created = client.post("/transactions", headers=API, json=body)
        assert created.status_code == 201, created.text
        assert created.json()["amount"] == "12.50"
        assert created.headers["location"] == f"/transactions/{created.json()['id']}"
        unauthorized = client.post("/transactions", content=b"{", headers={"X-Request-ID": "g-1"})
        assert unauthorized.status_code == 401
        assert unauthorized.headers["content-type"] == "application/problem+json"
        assert unauthorized.headers["x-request-id"] == "g-1"
        assert unauthorized.headers["www-authenticate"] == "Bearer"
        audit = client.get("/audit-log", headers=ADMIN, params={"limit": 100}).json()["items"]
        assert [row["status"] for row in audit if row["request_id"] == "g-1"] == [401]


def test_granian_metrics_add_up_over_both_workers(granian_service: ServiceProcess) -> None:
    """Fresh connections spread over the two workers; the multiprocess registry sums them."""
    requests = 40

    def count(client: httpx.Client) -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith(
                'fwbench_http_requests_total{method="GET",route="/healthz",status="200"}'
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    with httpx.Client(base_url=granian_service.url, timeout=30) as client:
        before = count(client)
    for _ in range(requests):
        with httpx.Client(base_url=granian_service.url, timeout=30) as fresh:
            assert fresh.get("/healthz").status_code == 200
    with httpx.Client(base_url=granian_service.url, timeout=30) as client:
        assert count(client) - before == requests


def test_an_unread_body_closes_the_connection_and_a_read_one_keeps_it(
    granian_service: ServiceProcess,
) -> None:
    """A 401 or 413 answered before the body was read says ``Connection: close``, so the
    client's next request goes on a fresh connection (granian does not always close such
    connections cleanly by itself); a body the route read keeps the connection alive."""
    big = b"{" + b" " * 60_000 + b"}"
    json_headers = {"Content-Type": "application/json"}
    with httpx.Client(base_url=granian_service.url, timeout=30) as client:
        for _ in range(20):
            refused = client.post("/transactions", content=big, headers=json_headers)
            assert (refused.status_code, refused.headers.get("connection")) == (401, "close")
            assert client.get("/healthz").status_code == 200
        too_large = client.post("/transactions", content=big * 2, headers={**API, **json_headers})
        assert (too_large.status_code, too_large.headers.get("connection")) == (413, "close")
        assert client.get("/healthz").status_code == 200
        body = {"account_id": "keep", "amount": "1.00", "currency": "EUR", "merchant": "m"}
        created = client.post("/transactions", headers=API, json=body)
        assert created.status_code == 201
        assert "connection" not in created.headers


def _extras_present(client: httpx.Client) -> set[str]:
    """The contract extras this running service shows, each seen from outside."""
    present = set()
    probe = client.get("/json")
    assert probe.status_code == 200
    if "x-request-id" in probe.headers:
        present.add("request-id")

    def json_requests() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith('fwbench_http_requests_total{method="GET",route="/json",'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = json_requests()
    for _ in range(3):
        assert client.get("/json").status_code == 200
    if json_requests() - before == 3:
        present.add("metrics")

    path = "/accounts/extras-probe/summary"

    def audited() -> int:
        rows = client.get("/audit-log", headers=ADMIN, params={"limit": 100}).json()["items"]
        return sum(row["path"] == path for row in rows)

    before_rows = audited()
    assert client.get(path, headers=API).status_code == 200
    if audited() == before_rows + 1:
        present.add("audit")

    # Whitespace around an empty object: valid JSON, so without the limit it reaches
    # validation (422); with it, the declared length alone answers 413.
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    too_large = client.post(
        "/transactions", content=body, headers={**API, "Content-Type": "application/json"}
    )
    assert too_large.status_code in {413, 422}, too_large.text
    if too_large.status_code == 413:
        present.add("body-limit")
    return present


@pytest.mark.parametrize("off", ["", *EXTRAS, "metrics,audit"])
def test_extras_off_leaves_out_exactly_the_named_extras(
    off: str, tmp_path: Path, downstream: ServiceProcess
) -> None:
    """Unset, the service has every extra; each name takes out that extra and no other."""
    with (
        _uvicorn_on_sqlite(
            tmp_path, downstream, {EXTRAS_OFF_FLAG: off} if off else None
        ) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        assert _extras_present(client) == set(EXTRAS) - extras_off(off)


def test_an_unknown_extra_stops_the_app_with_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as expected:
        extras_off("metrics,bogus")
    result = _run(
        ["-c", "import fwbench.services.fastapi_service.app"],
        {
            **TOKENS,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            EXTRAS_OFF_FLAG: "metrics,bogus",
        },
    )
    assert result.returncode != 0
    assert str(expected.value) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_threads_sizes_the_limiter_that_runs_def_routes(
    tmp_path: Path, downstream: ServiceProcess
) -> None:
    """``threads=2`` leaves two tokens in anyio's limiter: six concurrent 300 ms calls on
    the ``def`` route run two at a time, three rounds (anyio's default 40 would run them
    in one). Only the lower bound is asserted: a busy machine makes it slower, never
    faster."""
    calls, delay_ms = 6, 300
    with start_service(
        "fastapi",
        port=free_port(_PORTS),
        server="uvicorn",
        workers=1,
        threads=2,
        database_url=f"sqlite:///{tmp_path / 'service.sqlite3'}",
        downstream_url=downstream.url,
        extra_env={"FWBENCH_LAB": "1"},
        state_dir=tmp_path,
    ) as service:
        assert service.env["SYNC_ROUTE_THREADS"] == "2"
        barrier = threading.Barrier(calls)

        def call(_: int) -> int:
            with httpx.Client(base_url=service.url, timeout=30) as client:
                barrier.wait()
                return client.get("/_lab/io-sync", params={"ms": delay_ms}).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(calls) as executor:
            statuses = list(executor.map(call, range(calls)))
        elapsed = time.monotonic() - started
    assert statuses == [200] * calls
    assert elapsed >= 3 * delay_ms / 1000 * 0.95


def test_the_benchmark_routes_are_the_app_routers_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TechEmpower endpoints sit on the app's router itself, ahead of every included
    router: behind ``include_router`` each request is matched twice (routers/benchmarks.py),
    and all of these also ahead of the domain routes, so a hot path is matched first."""
    from fastapi.routing import APIRoute

    from fwbench.services.fastapi_service.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'service.sqlite3'}")
    for name, token in TOKENS.items():
        monkeypatch.setenv(name, token)
    get_settings.cache_clear()
    try:
        from fwbench.services.fastapi_service.app import create_app

        routes = create_app().router.routes
    finally:
        get_settings.cache_clear()
    own = [route.path for route in routes if isinstance(route, APIRoute)]
    assert own == ["/json", "/plaintext", "/db", "/queries", "/updates", "/fortunes", "/io"]
    first_included = next(
        i for i, route in enumerate(routes) if type(route).__name__ == "_IncludedRouter"
    )
    last_own = max(i for i, route in enumerate(routes) if isinstance(route, APIRoute))
    assert last_own < first_included


def test_generated_request_ids_are_canonical_fresh_uuid4s() -> None:
    """What ``str(uuid.uuid4())`` would give: parsed back, the same text, version 4, the
    RFC variant, and no two alike."""
    import uuid

    from fwbench.services.fastapi_service.middleware import uuid4_string

    ids = [uuid4_string() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text_id in ids:
        parsed = uuid.UUID(text_id)
        assert (str(parsed), parsed.version, parsed.variant) == (text_id, 4, uuid.RFC_4122)
    # Every random bit varies: over 20,000 ids, each hex digit position but the fixed
    # version digit takes several values.
    for position in range(36):
        seen = {text_id[position] for text_id in ids}
        if position in (8, 13, 18, 23):
            assert seen == {"-"}
        elif position == 14:
            assert seen == {"4"}
        elif position == 19:
            assert seen == set("89ab")
        else:
            assert len(seen) == 16
