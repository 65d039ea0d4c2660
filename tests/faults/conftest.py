"""Fixtures of the fault tests: a private PostgreSQL cluster they may stop, and services
on it (or on SQLite) started the way the contract suite starts them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.contract._servers import ServicePool, Settings
from tests.faults._postgres import PrivateCluster, private_cluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[PrivateCluster]:
    with private_cluster() as started:
        if started is None:
            pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        yield started


@pytest.fixture(scope="session")
def private_pool(
    cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServicePool]:
    """Services on the private cluster, stopped before the cluster is removed."""
    pool = ServicePool(
        settings=Settings(postgres_url=cluster.url, db_prefix="fwbench_faults", port_range=None),
        workdir=tmp_path_factory.mktemp("faults"),
        api_token=f"ft-api-{secrets.token_hex(8)}",
        admin_token=f"ft-admin-{secrets.token_hex(8)}",
    )
    try:
        yield pool
    finally:
        pool.stop_all()
