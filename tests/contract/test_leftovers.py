"""Runs last (see conftest): stop everything the suite started and check that each
``fwbench serve`` took its whole process tree down on SIGTERM."""

from __future__ import annotations

import pytest

from tests.contract._servers import ServicePool, port_is_listening


def test_no_server_process_is_left_running(pool: ServicePool) -> None:
    pool.stop_all()
    processes = pool.processes()
    if not processes:
        pytest.skip("no contract test ran in this session, so nothing was started")
    forced = {server.name: server.forced for server in processes if server.forced}
    assert not forced, f"still running after SIGTERM to fwbench serve: {forced}"
    survivors = {server.name: server.survivors() for server in processes}
    assert not {name: found for name, found in survivors.items() if found}
    assert not [server.name for server in processes if port_is_listening(server.port)]
