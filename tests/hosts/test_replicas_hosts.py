"""``--replicas N`` across hosts, on stand-in hosts (tests/hosts/netns.py): replicas on
two service hosts behind HAProxy on the first, loaded from a load host, each serving its
share; the run records where each replica ran; nothing left running on any host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from fwbench.harness.generators import run_generators
from fwbench.harness.load import LoadSpec
from fwbench.harness.remote import (
    Remote,
    remote_generator,
    start_remote_balancer,
    start_remote_service,
)
from fwbench.harness.results import Results
from fwbench.harness.servers import configure
from tests.hosts.netns import Hosts, namespace_hosts
from tests.hosts.test_balancer import served_json
from tests.hosts.test_remote import guards
from tests.hosts.test_run_hosts import fwbench

#: TCP ports of these tests (the hosts tests' range is 19400-19499).
REPLICA_PORT = 19486
BALANCER_PORT = 19487
PORTS = "19488-19495"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    with namespace_hosts(3, tmp_path_factory.mktemp("netns")) as made:
        yield made


def balancers() -> list[psutil.Process]:
    """HAProxy processes fwbench started on a stand-in host (their configuration is in a
    remote service's directory)."""
    return [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "haproxy" and "fwbench-remote" in " ".join(p.info["cmdline"] or [])
    ]


def test_replicas_on_two_hosts_behind_haproxy_each_serve_their_share(hosts: Hosts) -> None:
    first_url, second_url, load_url = hosts.urls
    key = hosts.identity_file
    config = configure("flask", "gunicorn-sync", 1, workers=1)
    with (
        Remote(first_url, key) as first,
        Remote(second_url, key) as second,
        Remote(load_url, key) as load,
    ):
        replicas = [
            start_remote_service(remote, config, REPLICA_PORT, cpus=(1,))
            for remote in (first, second)
        ]
        try:
            backends = [(remote.address, REPLICA_PORT) for remote in (first, second)]
            with start_remote_balancer(first, BALANCER_PORT, backends, cpus=(0,)) as balancer:
                assert len(balancers()) == 1
                sample = run_generators(
                    LoadSpec(url=balancer.url, path="/json", script="get", connections=4,
                             duration_s=2, threads=1, timeout_s=5),
                    [remote_generator(load, cpus=(0,))],
                )  # fmt: skip
                served = [served_json(replica.url) for replica in replicas]
            assert balancers() == []
        finally:
            for replica in replicas:
                replica.stop()
    assert sample.errors.total == 0 and set(sample.statuses) == {200}
    # Round robin over two hosts: each served about half of what wrk got through HAProxy.
    assert all(n > sample.requests * 0.3 for n in served), (served, sample.requests)
    assert sample.requests <= sum(served) <= sample.requests + 50
    assert guards() == []


@pytest.mark.parametrize("framework", ["flask", "django"])  # Django checks the Host header
def test_run_on_hosts_with_replicas_records_where_each_ran(
    hosts: Hosts, tmp_path: Path, framework: str
) -> None:
    first_url, second_url, load_url = hosts.urls
    hosts_file = hosts.write_hosts_file(
        tmp_path / "hosts.toml", [first_url, second_url], [load_url]
    )
    output = tmp_path / "run.json"
    done = fwbench(
        tmp_path, "run", "--hosts", str(hosts_file), "--replicas", "2", "--frameworks", framework,
        "--scenarios", "json", "--connections", "8", "--duration", "2", "--warmup", "1",
        "--repeats", "1", "--cold-starts", "1", "--ports", PORTS, "--output", str(output),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert guards() == [] and balancers() == []
    said = " ".join(done.stdout.split())  # the console wraps long lines
    assert f"2 replicas on {first_url}, {second_url} behind HAProxy on {first_url}" in said
    results = Results.read(output)
    assert results.config.replicas == 2
    assert [s.host for s in results.services] == [first_url, second_url]
    topology = results.topology
    assert topology is not None
    assert topology.service == (first_url, second_url)
    assert [h.roles for h in topology.hosts] == [("service", "balancer"), ("service",), ("load",)]
    (point,) = results.points
    assert point.valid, point.problems
    assert point.memory is None  # one instance's memory is not the service's
    assert len(results.cold_starts) == 1  # of one instance, as on one machine
