"""``fwbench calibrate --hosts``: each load host calibrated on the host itself (stand-in
hosts, tests/hosts/netns.py), stored per host, and used by ``fwbench run --hosts`` for each
generator's ``generator_bound`` check; nothing left running."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbench.harness.calibrate_hosts import host_calibration_path, host_shares
from fwbench.harness.results import Calibration, Results
from tests.hosts.netns import namespace_hosts
from tests.hosts.test_remote import guards
from tests.hosts.test_run_hosts import fwbench

#: The ports these tests give fwbench (the hosts tests' range is 19400-19499).
PORTS = "19470-19479"


def test_each_load_host_gets_its_share_of_each_connection_count() -> None:
    assert host_shares([8, 64], 3, 0) == (3, 22)
    assert host_shares([8, 64], 3, 2) == (2, 21)
    assert host_shares([4, 5], 2, 0) == (2, 3)
    assert host_shares([4, 5], 2, 1) == (2,)


def test_a_host_calibration_has_a_file_of_its_own(tmp_path: Path) -> None:
    one = host_calibration_path("ssh://root@10.0.0.2", tmp_path)
    other = host_calibration_path("ssh://root@10.0.0.3:2222", tmp_path)
    assert one != other
    assert one.parent.parent == tmp_path / "hosts"
    assert one.name == "calibration.json"


def test_calibrate_hosts_refuses_an_output_file_in_one_sentence(tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts.toml"
    hosts_file.write_text('service = ["ssh://root@10.248.0.2"]\nload = ["ssh://root@10.248.0.3"]\n')
    done = fwbench(
        tmp_path, "calibrate", "--hosts", str(hosts_file), "--output", str(tmp_path / "c.json")
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: --output names this machine's calibration file")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_load_hosts_calibrated_on_themselves_check_their_own_generators(tmp_path: Path) -> None:
    with namespace_hosts(3, tmp_path) as hosts:
        service, load_1, load_2 = hosts.urls
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [service], [load_1, load_2])
        calibrated = fwbench(
            tmp_path, "calibrate", "--hosts", str(hosts_file), "--connections", "8",
            "--duration", "1", "--ports", PORTS,
        )  # fmt: skip
        assert calibrated.returncode == 0, calibrated.stderr
        assert guards() == []
        state = tmp_path / "cache" / "fwbench"
        for url in (load_1, load_2):
            stored = Calibration.read(host_calibration_path(url, state))
            assert [level.connections for level in stored.levels] == [4]
            assert stored.levels[0].generator.requests > 0
            assert url in calibrated.stdout
        assert not host_calibration_path(service, state).exists()
        output = tmp_path / "run.json"
        done = fwbench(
            tmp_path, "run", "--hosts", str(hosts_file), "--frameworks", "flask",
            "--scenarios", "json", "--connections", "8", "--duration", "2", "--warmup", "1",
            "--repeats", "1", "--cold-starts", "0", "--ports", PORTS, "--output", str(output),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert guards() == []
    results = Results.read(output)
    topology = results.topology
    assert topology is not None
    by_url = {host.url: host for host in topology.hosts}
    assert by_url[service].calibration is None
    for url in (load_1, load_2):
        recorded = by_url[url].calibration
        assert recorded is not None
        assert recorded == Calibration.read(host_calibration_path(url, state))
    (point,) = results.points
    (check,) = [c for c in point.sanity if c.name == "generator_bound"]
    assert "2 of 2 generators calibrated" in check.message
    assert not any("calibration" in note for note in results.notes)
