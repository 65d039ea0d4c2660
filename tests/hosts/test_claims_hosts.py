"""``fwbench claims --hosts`` across stand-in hosts (tests/hosts/netns.py): an experiment
that loads its services runs them on the service host with wrk on the load host, one that
reads the service's own processes runs whole on the service host, each record says where
it ran, the topology is in the results file, and nothing is left running in any
namespace, after a clean end or when the driver is killed or interrupted mid-experiment;
``--database`` beside ``--hosts`` is one sentence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fwbench.experiments.runner import claims_report
from fwbench.harness.results import Results
from tests.hosts.netns import namespace_hosts
from tests.hosts.test_remote import guards
from tests.hosts.test_run_hosts import fwbench


@pytest.mark.slow
def test_claims_on_hosts_loads_from_the_load_host_and_runs_the_rest_on_the_service_host(
    tmp_path: Path,
) -> None:
    with namespace_hosts(2, tmp_path) as hosts:
        service, load = hosts.urls
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [service], [load])
        output = tmp_path / "claims.json"
        done = fwbench(
            tmp_path, "claims", "--quick", "--hosts", str(hosts_file), "--only", "httpx-tip",
            "--only", "footprint", "--output", str(output),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert guards() == []
        assert hosts.running_besides_sshd() == []
    results = Results.read(output)
    assert results.status == "complete"
    topology = results.topology
    assert topology is not None
    assert [(h.url, h.roles) for h in topology.hosts] == [
        (service, ("service",)),
        (load, ("load",)),
    ]
    report = claims_report(results)
    assert report is not None
    records = {record.name: record for record in report.experiments}
    assert set(records) == {"httpx-tip", "footprint"}
    assert all(record.error is None and record.verdicts for record in records.values())
    # httpx-tip's io sessions ran on the service host, pinned to its service CPU, loaded
    # by the load host's wrk; footprint ran whole on the service host.
    assert records["httpx-tip"].ran_on is None
    assert records["footprint"].ran_on == service
    assert len(results.services) == 2
    assert all(
        s.host == service and s.command[:3] == ("taskset", "-c", "1") for s in results.services
    )
    assert results.notes[0].startswith("measured across hosts: the io sessions' services")
    assert results.notes[1].startswith(
        f"footprint ran whole on {service} (`fwbench claims --only NAME` there, its services "
        "on CPUs 1 and its wrk on 0 of that host)"
    )
    assert "footprint: `fwbench claims --only footprint --output " in done.stdout
    # The service host's run printed its progress only: the record is printed once, here.
    assert done.stdout.count('Verdict on "Plugin sprawl') == 1


def test_database_beside_hosts_is_one_sentence(tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts.toml"
    hosts_file.write_text('service = ["ssh://root@10.0.0.2"]\nload = ["ssh://root@10.0.0.3"]\n')
    done = fwbench(
        tmp_path, "claims", "--hosts", str(hosts_file), "--database",
        "postgresql://127.0.0.1/postgres",
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: --database does not go with --hosts: the service host uses the database the "
        "hosts file names; put it in the hosts file's `database` key (docs/hosts.md)"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT])
def test_stopping_the_driver_mid_experiment_leaves_nothing_on_the_service_host(
    tmp_path: Path, signum: signal.Signals
) -> None:
    with namespace_hosts(2, tmp_path) as hosts:
        service, load = hosts.urls
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [service], [load])
        output = tmp_path / "claims.json"
        driver = subprocess.Popen(
            [sys.executable, "-m", "fwbench", "claims", "--quick", "--hosts", str(hosts_file),
             "--only", "cold-start", "--output", str(output)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        assert driver.stdout is not None
        try:
            # The service host's own run reports its spawns: services run there now.
            for line in driver.stdout:
                if line.strip().startswith(f"{service}: cold start:"):
                    break
            else:
                pytest.fail("the service host's run printed no cold start")
            assert hosts.running_besides_sshd() != []
            driver.send_signal(signum)
            status = driver.wait(timeout=60)
        finally:
            driver.kill()
        assert status == (130 if signum == signal.SIGINT else -signal.SIGKILL)
        # The guard stops what the session started once sshd closes it.
        deadline = time.monotonic() + 30
        while (hosts.running_besides_sshd() or guards()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert hosts.running_besides_sshd() == []
        assert guards() == []
    if signum == signal.SIGINT:
        assert Results.read(output).status == "interrupted"
