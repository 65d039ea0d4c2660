"""``advise --verify --hosts``: one instance of a plan on a stand-in service host
(tests/hosts/netns.py), paced load at the planned rate from two load hosts at once, their
latencies merged; nothing left running on any host."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbench.advice import Profile, advise
from fwbench.advice.verify_hosts import verify_on_hosts
from fwbench.harness.hosts import read_hosts
from tests.advice.models import model_document
from tests.hosts.netns import namespace_hosts
from tests.hosts.test_remote import guards

#: TCP ports of these tests (the hosts tests' range is 19400-19499).
PORTS = range(19496, 19500)


@pytest.mark.slow
def test_a_plan_is_verified_on_a_service_host_with_load_from_two_hosts(tmp_path: Path) -> None:
    # As tests/advice/test_verify.py: 30 req/s at 20 ms downstream is one instance of
    # FastAPI on uvicorn by the fixture model, which the real service easily carries.
    model = model_document()
    profile = Profile(peak_rps=30, downstream_ms=20, p99_target_ms=1000, team_debugs_async=True)
    plan = advise(profile, None, model).recommendation.plan
    assert plan is not None and plan.setup.pair == "fastapi/uvicorn"
    pair = model.pair(plan.setup.pair)
    assert pair is not None
    with namespace_hosts(3, tmp_path) as hosts:
        service, load_1, load_2 = hosts.urls
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [service], [load_1, load_2])
        found = verify_on_hosts(
            plan, pair, profile, read_hosts(hosts_file), seconds=4, warmup_s=1, ports=PORTS
        )
        assert guards() == []
    assert found.target_rps == pytest.approx(30)
    # Open loop from two hosts: together they keep the schedule's rate.
    assert found.achieved_rps == pytest.approx(30, rel=0.1)
    assert found.errors == 0
    assert found.late_sends == 0
    assert 20 <= found.p50_ms <= found.p99_ms < 1000  # every request waited 20 ms downstream
    assert found.held, found.verdict
    assert found.lines()[0].startswith(f"Verified on {service} (wrk on {load_1}, {load_2}): ")
