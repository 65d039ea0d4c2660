"""Fixtures of the contract suite: real services over real HTTP.

Every test that takes ``service`` runs once per target, i.e. for each implementation
(fastapi, flask, django) on each database (a SQLite file, and PostgreSQL at
``FWBENCH_TEST_POSTGRES``; those cases are marked ``postgres``). Each implementation runs
as ``python -m fwbench serve <framework>`` under its default production server with
several workers, started once per target and variant and reused by the tests of that
target. Environment knobs: ``FWBENCH_TEST_POSTGRES`` (maintenance URL),
``FWBENCH_TEST_DB_PREFIX`` (database name prefix, default ``fwbench_test``) and
``FWBENCH_TEST_PORTS`` (``LOW-HIGH``; default: ports picked by the OS).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fwbench.harness.servers import FRAMEWORKS
from tests.contract._checks import CreateTransaction
from tests.contract._servers import (
    DATABASES,
    Downstream,
    Service,
    ServicePool,
    Settings,
    SuiteError,
    Target,
)

TARGETS = [
    pytest.param(
        Target(framework, database),
        id=f"{framework}-{database}",
        marks=[pytest.mark.postgres] if database == "postgres" else [],
    )
    for framework in FRAMEWORKS
    for database in DATABASES
]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run test_leftovers.py right after the other contract tests: it stops everything the
    suite started (so no service outlives the contract tests) and checks nothing is left.

    ``trylast`` so this runs after pytest has grouped the items by target.
    """
    here = Path(__file__).parent
    last = [item for item in items if item.path == here / "test_leftovers.py"]
    rest = [item for item in items if item not in last]
    contract = [index for index, item in enumerate(rest) if here in item.path.parents]
    if last and contract:
        end = contract[-1] + 1
        items[:] = [*rest[:end], *last, *rest[end:]]


@pytest.fixture(scope="session")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServicePool]:
    """Every process the suite starts; all stopped and their databases dropped at the end."""
    service_pool = ServicePool(
        settings=Settings.from_environment(),
        workdir=tmp_path_factory.mktemp("contract"),
        api_token=f"ct-api-{secrets.token_hex(8)}",
        admin_token=f"ct-admin-{secrets.token_hex(8)}",
    )
    try:
        yield service_pool
    finally:
        service_pool.stop_all()
        service_pool.drop_databases()


@pytest.fixture(scope="session")
def downstream(pool: ServicePool) -> Downstream:
    """The session's downstream service."""
    try:
        return pool.start_downstream()
    except SuiteError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Target:
    """The implementation and database under test (session scope so that pytest groups the
    tests by target and each target's services start once)."""
    value: Target = request.param
    return value


def _get(pool: ServicePool, target: Target, variant: str) -> Service:
    try:
        return pool.get(target, variant)
    except SuiteError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def service(pool: ServicePool, target: Target, downstream: Downstream) -> Service:
    """The target's main instance (downstream = the session downstream, no lab)."""
    return _get(pool, target, "main")


@pytest.fixture
def lab_service(pool: ServicePool, target: Target, downstream: Downstream) -> Service:
    """The target's instance started with FWBENCH_LAB=1."""
    return _get(pool, target, "lab")


def _client(service: Service) -> httpx.Client:
    return httpx.Client(base_url=service.base_url, timeout=httpx.Timeout(30.0))


@pytest.fixture
def api(service: Service) -> Iterator[httpx.Client]:
    """An HTTP client for the main instance (no credentials)."""
    with _client(service) as client:
        yield client


@pytest.fixture
def lab_api(lab_service: Service) -> Iterator[httpx.Client]:
    """An HTTP client for the lab instance."""
    with _client(lab_service) as client:
        yield client


@pytest.fixture(scope="session")
def api_headers(pool: ServicePool) -> dict[str, str]:
    """``Authorization`` with the API token."""
    return {"Authorization": f"Bearer {pool.api_token}"}


@pytest.fixture(scope="session")
def admin_headers(pool: ServicePool) -> dict[str, str]:
    """``Authorization`` with the admin token."""
    return {"Authorization": f"Bearer {pool.admin_token}"}


@pytest.fixture
def faults(downstream: Downstream) -> Iterator[Downstream]:
    """The downstream, running with no faults before the test and after it (a test may
    also stop it to simulate an outage)."""
    downstream.reset()
    try:
        yield downstream
    finally:
        downstream.reset()


@pytest.fixture
def account() -> str:
    """An account id no other test uses, so a test sees only its own transactions."""
    return f"acct-{secrets.token_hex(6)}"


@pytest.fixture
def create(api: httpx.Client, api_headers: dict[str, str], account: str) -> CreateTransaction:
    """A function that creates a transaction for ``account`` and returns its body."""
    return CreateTransaction(api, api_headers, account)
