"""Operations endpoints: /healthz, /readyz and /metrics across worker processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql

from fwbench.harness.servers import FRAMEWORKS
from tests.contract._checks import assert_problem, describe, media_type
from tests.contract._servers import (
    WORKERS,
    Service,
    ServicePool,
    SuiteError,
    Target,
)

REQUESTS = "fwbench_http_requests_total"
DURATION = "fwbench_http_request_duration_seconds"

#: Requests sent between two scrapes; each on its own connection so they spread over the
#: worker processes.
SAMPLE_REQUESTS = 30


def _scrape(base_url: str) -> str:
    # A new connection per scrape: any worker may answer it.
    response = httpx.get(f"{base_url}/metrics", timeout=30.0)
    assert response.status_code == 200, describe(response)
    return response.text


def _sum(text: str, sample_name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and all(
                sample.labels.get(key) == value for key, value in labels.items()
            ):
                total += sample.value
    return total


def _hammer(base_url: str, path: str, count: int, headers: dict[str, str] | None = None) -> None:
    """Send ``count`` GET requests from 8 threads, each on a new connection."""

    def get(_: int) -> httpx.Response:
        # A throwaway client per request, so any worker may answer it. One client shared
        # by 8 threads with keep-alive off once failed in CI with "[Errno 9] Bad file
        # descriptor" inside its connection pool; separate clients share no socket.
        return httpx.get(f"{base_url}{path}", headers=headers, timeout=30.0)

    with ThreadPoolExecutor(8) as executor:
        responses = list(executor.map(get, range(count)))
    assert len(responses) == count


def test_healthz(api: httpx.Client) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.json() == {"status": "ok"}


def test_readyz_when_the_database_answers(api: httpx.Client) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.json() == {"status": "ready"}


def test_metrics_is_prometheus_text_with_the_contract_metrics(api: httpx.Client) -> None:
    api.get("/json")
    response = api.get("/metrics")
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert families["fwbench_http_requests"].type == "counter"
    assert families[DURATION].type == "histogram"
    assert _sum(response.text, REQUESTS, method="GET", route="/json", status="200") >= 1
    buckets = {
        sample.labels["le"]
        for sample in families[DURATION].samples
        if sample.name == f"{DURATION}_bucket" and sample.labels.get("route") == "/json"
    }
    # prometheus_client's default buckets.
    assert buckets == {
        "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0",
        "2.5", "5.0", "7.5", "10.0", "+Inf",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "route", "status", "authorized"),
    [
        ("/json", "/json", "200", False),
        ("/db", "/db", "200", False),
        ("/transactions/999999999", "/transactions/{id}", "404", True),
        ("/accounts/somebody/summary", "/accounts/{account_id}/summary", "200", True),
        ("/transactions", "/transactions", "401", False),
        ("/no-such-route", "<unmatched>", "404", False),
    ],
)
def test_metrics_count_every_request_across_workers(
    service: Service,
    api_headers: dict[str, str],
    path: str,
    route: str,
    status: str,
    authorized: bool,
) -> None:
    """N requests on fresh connections (spread over the workers) raise the counter and the
    histogram count by exactly N, labelled with the route template."""
    labels = {"method": "GET", "route": route}
    before = _scrape(service.base_url)
    _hammer(service.base_url, path, SAMPLE_REQUESTS, api_headers if authorized else None)
    after = _scrape(service.base_url)
    assert (
        _sum(after, REQUESTS, **labels, status=status)
        - _sum(before, REQUESTS, **labels, status=status)
        == SAMPLE_REQUESTS
    )
    assert (
        _sum(after, f"{DURATION}_count", **labels) - _sum(before, f"{DURATION}_count", **labels)
        == SAMPLE_REQUESTS
    )
    routes = {
        sample.labels.get("route")
        for family in text_string_to_metric_families(after)
        for sample in family.samples
    }
    assert not {route for route in routes if route and ("999" in route or "no-such" in route)}


def test_metrics_counts_its_own_requests(service: Service) -> None:
    before = _scrape(service.base_url)
    _hammer(service.base_url, "/metrics", 10)
    after = _scrape(service.base_url)
    labels = {"method": "GET", "route": "/metrics", "status": "200"}
    # Ten requests plus one scrape: whether a scrape counts itself (counted before its
    # body is rendered) or not (counted after), ``after`` holds exactly one of the two.
    increase = _sum(after, REQUESTS, **labels) - _sum(before, REQUESTS, **labels)
    assert increase == 11


# -- readiness when the database goes away ---------------------------------------------


@pytest.fixture
def doomed(pool: ServicePool, request: pytest.FixtureRequest) -> Iterator[Service]:
    """A throw-away PostgreSQL-backed instance whose database the test may cut off."""
    try:
        instance = pool.start(Target(request.param, "postgres"), "doomed")
    except SuiteError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield instance
    finally:
        instance.server.stop()
        if instance.database_name is not None:
            with pool.admin_connection() as connection:
                connection.execute(
                    sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(
                        sql.Identifier(instance.database_name)
                    )
                )


@pytest.mark.postgres
@pytest.mark.parametrize("doomed", FRAMEWORKS, indirect=True)
def test_a_database_outage_fails_readiness_and_requests_cleanly(
    doomed: Service, pool: ServicePool, api_headers: dict[str, str]
) -> None:
    """While PostgreSQL refuses connections to the service's database (connections
    disallowed, existing ones terminated): /readyz answers a 503 problem, /healthz stays
    200, and an API request answers the contract's 503 problem (never a 500, never HTML).
    Once connections are allowed again, /readyz answers 200.

    SQLite is not covered: ``SELECT 1`` never touches the file and an open connection keeps
    working after the file is removed or made unreadable (the suite runs as root), so there
    is no clean way to take a running service's SQLite database away.
    """
    assert doomed.database_name is not None
    name = sql.Identifier(doomed.database_name)
    assert httpx.get(f"{doomed.base_url}/readyz", timeout=10).status_code == 200
    with pool.admin_connection() as connection:
        connection.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (doomed.database_name,),
        )
    # Fresh connections, so that in all likelihood every worker answers at least once.
    for _ in range(2 * WORKERS):
        assert_problem(httpx.get(f"{doomed.base_url}/readyz", timeout=30), 503)
        health = httpx.get(f"{doomed.base_url}/healthz", timeout=30)
        assert health.status_code == 200, describe(health)
    failed = httpx.get(f"{doomed.base_url}/transactions", headers=api_headers, timeout=30)
    assert_problem(failed, 503)
    with pool.admin_connection() as connection:
        connection.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
    # A pool may notice a dead connection only when it uses it: allow a few attempts.
    statuses = []
    for _ in range(20):
        statuses.append(httpx.get(f"{doomed.base_url}/readyz", timeout=30).status_code)
        if statuses[-1] == 200:
            break
        time.sleep(0.25)
    assert statuses[-1] == 200, statuses


def test_only_django_serves_an_admin(api: httpx.Client, service: Service) -> None:
    """Django ships its built-in admin at /admin/ (login first); the others have none."""
    response = api.get("/admin/")
    if service.framework != "django":
        assert_problem(response, 404)
        return
    assert response.status_code == 302, describe(response)
    assert response.headers["Location"].startswith("/admin/login/")
    login = api.get(response.headers["Location"])
    assert login.status_code == 200, describe(login)
    assert media_type(login) == "text/html"
