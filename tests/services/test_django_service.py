"""What is specific to the Django implementation (the contract suite covers the shared behaviour):
committed migrations, the bootstrap, the entry points under WSGI and ASGI (chunked bodies),
the lab endpoints' query counts and streaming, the minimal (no contrib apps) mode, and the
contract's extras switched off one at a time (FWBENCH_EXTRAS_OFF).

Services run as real server subprocesses. Ports: ``FWBENCH_TEST_PORTS`` (``LOW-HIGH``) when
set, else ports the operating system picks. PostgreSQL cases (marked ``postgres``) use
``FWBENCH_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) and create,
then drop, their own database.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from fwbench.contract import EXTRAS, EXTRAS_OFF_FLAG, FORTUNES, MAX_BODY_BYTES, WORLD_ROWS

PACKAGE = "fwbench.services.django_service"
BIN = Path(sys.executable).parent
API = {"Authorization": "Bearer test-api-token"}
TRANSACTION = {"account_id": "acct-1", "amount": "12.50", "currency": "EUR", "merchant": "shop"}

#: name -> command line (with {port}) of each server interface tested here.
SERVERS = {
    "wsgi": [
        str(BIN / "gunicorn"),
        f"{PACKAGE}.project.wsgi:application",
        "--bind=127.0.0.1:{port}",
        "--workers=2",
        "--worker-class=gthread",
        "--threads=4",
        "--no-control-socket",
    ],
    "asgi": [
        str(BIN / "uvicorn"),
        f"{PACKAGE}.project.asgi:application",
        "--host=127.0.0.1",
        "--port={port}",
        "--workers=2",
        "--log-level=warning",
    ],
}


def _free_port() -> int:
    """A port nothing listens on, from FWBENCH_TEST_PORTS when set."""
    low, _, high = os.environ.get("FWBENCH_TEST_PORTS", "0-0").partition("-")
    candidates = range(int(low), int(high) + 1) if int(low) else [0]
    for candidate in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port
    raise RuntimeError(f"no free port in FWBENCH_TEST_PORTS={low}-{high}")


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": f"{PACKAGE}.project.settings",
        "DATABASE_URL": database_url,
        "API_TOKEN": "test-api-token",
        "ADMIN_TOKEN": "test-admin-token",
        "DOWNSTREAM_URL": "http://127.0.0.1:9",
        **extra,
    }


def _run(module: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _import_wsgi(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import the WSGI entry point, as a server does before serving."""
    return subprocess.run(
        [sys.executable, "-c", f"import {PACKAGE}.project.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Service:
    """A running server: its base URL and process group."""

    url: str
    process: subprocess.Popen[bytes]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def _start(server: str, database_url: str, **extra_env: str) -> Service:
    """Start ``server`` (a key of SERVERS) on a bootstrapped ``database_url``; waits for
    /healthz."""
    env = _env(database_url, **extra_env)
    boot = _run(f"{PACKAGE}.bootstrap", env)
    assert boot.returncode == 0, boot.stderr
    port = _free_port()
    command = [part.format(port=port) for part in SERVERS[server]]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{server} exited with {process.returncode}"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return Service(url, process)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    _stop(Service(url, process))
    raise AssertionError(f"{server} did not answer /healthz within 60 s")


def _stop(service: Service) -> None:
    """Stop the server and all its workers."""
    os.killpg(service.process.pid, signal.SIGTERM)
    try:
        service.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('django')}/service.sqlite3"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    admin_url = os.environ.get(
        "FWBENCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"fwbench_dj_test_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(
    scope="module",
    params=[
        ("wsgi", "sqlite"),
        ("asgi", "sqlite"),
        pytest.param(("wsgi", "postgres"), marks=pytest.mark.postgres),
        pytest.param(("asgi", "postgres"), marks=pytest.mark.postgres),
    ],
    ids=lambda param: "-".join(param),
)
def lab_service(request: pytest.FixtureRequest) -> Iterator[Service]:
    """The service with FWBENCH_LAB=1, per server interface and database."""
    server, database = request.param
    url = request.getfixturevalue(f"{database}_url")
    service = _start(server, url, FWBENCH_LAB="1")
    yield service
    _stop(service)


# --- Without a server -------------------------------------------------------------------


def test_migrations_match_the_models(tmp_path: Path) -> None:
    result = _run(
        f"{PACKAGE}.manage",
        _env(f"sqlite:///{tmp_path}/check.sqlite3"),
        "makemigrations",
        "--check",
        "--dry-run",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bootstrap_seeds_once_and_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "boot.sqlite3"
    env = _env(f"sqlite:///{database}")
    for _ in range(2):
        result = _run(f"{PACKAGE}.bootstrap", env)
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM world").fetchone() == (WORLD_ROWS,)
        assert connection.execute("SELECT COUNT(*) FROM fortune").fetchone() == (len(FORTUNES),)
        # WAL, so that several worker processes can read while one writes.
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_bootstrap_reports_an_unreachable_database_in_one_line() -> None:
    with socket.socket() as sock:  # a port that refuses connections: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = _run(
            f"{PACKAGE}.bootstrap", _env(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot prepare the database" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_the_wsgi_application_refuses_to_start_without_tokens(sqlite_url: str) -> None:
    env = {key: value for key, value in _env(sqlite_url).items() if key != "API_TOKEN"}
    result = _import_wsgi(env)
    assert result.returncode != 0
    assert "API_TOKEN must be set" in result.stderr


# --- Lab endpoints and request bodies, under WSGI and ASGI ------------------------------


def test_naive_purchases_run_one_query_per_row_and_eager_one(lab_service: Service) -> None:
    with lab_service.client() as client:
        assert client.post("/_lab/purchases/seed").status_code == 200
        naive = client.get("/_lab/purchases", params={"mode": "naive", "limit": 20})
        eager = client.get("/_lab/purchases", params={"mode": "eager", "limit": 20})
    assert naive.status_code == eager.status_code == 200
    assert naive.json() == eager.json() and len(naive.json()) == 20
    assert naive.headers["X-Query-Count"] == "21"
    assert eager.headers["X-Query-Count"] == "1"


def test_streamed_rows_are_the_loaded_rows(lab_service: Service) -> None:
    with lab_service.client() as client:
        assert client.post("/_lab/rows/seed", params={"count": 4500}).json() == {"rows": 4500}
        loaded = client.get("/_lab/rows", params={"mode": "all"})
        streamed = client.get("/_lab/rows", params={"mode": "stream"})
        page = client.get("/_lab/rows", params={"mode": "page", "after": 4400})
    assert loaded.status_code == streamed.status_code == page.status_code == 200
    rows = sorted(loaded.json(), key=lambda row: row["id"])
    assert len(rows) == 4500 and len(rows[0]["payload"]) == 200
    assert streamed.json() == rows
    assert page.json() == {"items": rows[4400:4500], "next": None}


def test_a_chunked_body_is_read_and_an_oversized_one_is_413(lab_service: Service) -> None:
    def small() -> Iterator[bytes]:
        yield b'{"account_id": "chunked", "amount": "1.50", '
        yield b'"currency": "EUR", "merchant": "shop"}'

    def oversized() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b" " * 1024
        yield b"{}"

    with lab_service.client() as client:
        created = client.post("/transactions", content=small(), headers=API)
        assert created.status_code == 201, created.text
        assert created.json()["account_id"] == "chunked"
    with lab_service.client() as client:
        too_large = client.post("/transactions", content=oversized(), headers=API)
    assert too_large.status_code == 413
    assert too_large.headers["Content-Type"] == "application/problem+json"


def test_lab_endpoints_are_not_in_the_schema(lab_service: Service) -> None:
    paths = httpx.get(f"{lab_service.url}/openapi.json", timeout=30).json()["paths"]
    assert "/transactions" in paths and "/json" in paths
    assert not [path for path in paths if path.startswith(("/_lab", "/admin"))]


# --- Full and minimal mode ----------------------------------------------------------------


def test_the_admin_serves_its_login_page_and_its_stylesheets(sqlite_url: str) -> None:
    service = _start("wsgi", sqlite_url)
    try:
        login = httpx.get(f"{service.url}/admin/login/", timeout=30)
        css = httpx.get(f"{service.url}/static/admin/css/base.css", timeout=30)
        lab = httpx.get(f"{service.url}/_lab/rows", params={"mode": "page"}, timeout=30)
    finally:
        _stop(service)
    assert login.status_code == 200
    assert login.headers["Content-Type"] == "text/html; charset=utf-8"
    assert login.headers["X-Frame-Options"] == "DENY"
    assert "csrfmiddlewaretoken" in login.text
    assert 'href="/static/admin/css/base.css"' in login.text
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert lab.status_code == 404  # FWBENCH_LAB is not set


@pytest.mark.parametrize("server", SERVERS)
def test_the_admin_needs_a_staff_login_and_the_api_skips_its_middleware(
    server: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/admin.sqlite3"
    service = _start(server, url)
    try:
        superuser = _run(
            f"{PACKAGE}.manage",
            _env(url, DJANGO_SUPERUSER_PASSWORD="staff-password"),
            "createsuperuser",
            "--noinput",
            "--username=staff",
            "--email=staff@example.com",
        )
        assert superuser.returncode == 0, superuser.stderr
        with service.client() as client:
            anonymous = client.get("/admin/")
            token = client.get("/admin/login/").cookies["csrftoken"]
            form = {"username": "staff", "password": "staff-password", "next": "/admin/"}
            forged = client.post("/admin/login/", data=form)
            wrong = client.post(
                "/admin/login/",
                data={**form, "password": "wrong", "csrfmiddlewaretoken": token},
            )
            logged_in = client.post("/admin/login/", data={**form, "csrfmiddlewaretoken": token})
            index = client.get("/admin/")
            css = client.get("/static/admin/css/base.css")
            api = client.get("/json")
    finally:
        _stop(service)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/admin/login/?next=/admin/"
    assert forged.status_code == 403  # no CSRF token: refused by the login view itself
    assert forged.headers["Content-Type"] == "application/problem+json"
    assert wrong.status_code == 200 and "Please enter the correct username" in wrong.text
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/admin/"
    assert index.status_code == 200 and "Site administration" in index.text
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    # The API answers without touching the session cookie the client sends, and without the
    # admin's headers: the admin's middleware never ran.
    assert api.status_code == 200
    assert "Set-Cookie" not in api.headers and "X-Frame-Options" not in api.headers
    assert "Vary" not in api.headers


def test_minimal_mode_serves_the_contract_without_the_admin(sqlite_url: str) -> None:
    service = _start("wsgi", sqlite_url, FWBENCH_DJANGO_MINIMAL="1")
    try:
        with service.client() as client:
            admin = client.get("/admin/login/")
            created = client.post("/transactions", json=TRANSACTION, headers=API)
            fetched = client.get(f"/transactions/{created.json()['id']}", headers=API)
            fortunes = client.get("/fortunes")
    finally:
        _stop(service)
    assert admin.status_code == 404
    assert admin.headers["Content-Type"] == "application/problem+json"
    assert created.status_code == 201 and fetched.json() == created.json()
    assert "&lt;script&gt;" in fortunes.text


# --- The contract's extras, switched off one at a time (FWBENCH_EXTRAS_OFF) ----------------


def _requests_counted(client: httpx.Client, route: str) -> float:
    """``fwbench_http_requests_total`` for GET ``route`` answered 200 (0 before the first)."""
    prefix = f'fwbench_http_requests_total{{method="GET",route="{route}",status="200"}} '
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0


@pytest.mark.parametrize("off", ["", *EXTRAS])
def test_each_extra_switched_off_is_gone_and_only_that_one(
    off: str, tmp_path: Path, sqlite_url: str
) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    service = _start(
        "wsgi",
        sqlite_url,
        **{EXTRAS_OFF_FLAG: off, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
    )
    marker = f"extras-{off or 'none'}-{secrets.token_hex(4)}"
    padded = b" " * MAX_BODY_BYTES + httpx.Request("POST", "/", json=TRANSACTION).content
    try:
        with service.client() as client:
            counted_before = _requests_counted(client, "/json")
            hello = client.get("/json")
            counted_after = _requests_counted(client, "/json")
            created = client.post(
                "/transactions", json=TRANSACTION, headers={**API, "X-Request-ID": marker}
            )
            oversized = client.post(
                "/transactions",
                content=padded,
                headers={**API, "Content-Type": "application/json"},
            )
    finally:
        _stop(service)
    assert hello.status_code == 200 and created.status_code == 201, created.text
    assert ("X-Request-ID" in hello.headers) is (off != "request-id")
    assert counted_after - counted_before == (0 if off == "metrics" else 1)
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        (audited,) = connection.execute(
            "SELECT COUNT(*) FROM audit_log WHERE request_id = ?", (marker,)
        ).fetchone()
    assert audited == (0 if off == "audit" else 1)
    assert oversized.status_code == (201 if off == "body-limit" else 413), oversized.text


def test_an_unknown_extra_stops_the_service_with_one_sentence(sqlite_url: str) -> None:
    env = _env(sqlite_url, **{EXTRAS_OFF_FLAG: "metrics,tracing"})
    boot = _run(f"{PACKAGE}.bootstrap", env)
    assert boot.returncode == 1
    assert boot.stderr.strip().splitlines() == [
        "django bootstrap: bad configuration: FWBENCH_EXTRAS_OFF names unknown extras "
        "tracing: use any of request-id, metrics, audit, body-limit or all"
    ]
    served = _import_wsgi(env)
    assert served.returncode != 0
    assert "FWBENCH_EXTRAS_OFF names unknown extras tracing" in served.stderr
