"""``fwbench model --hosts`` across stand-in hosts (tests/hosts/netns.py): the sweep with
the service on one host and wrk on two at once, the model and the topology in the
results file, the service's counters read on its host, nothing left running in any
namespace; and the options ``--hosts`` does not go with, each refused in one sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fwbench.model import read_model_file
from tests.hosts.netns import namespace_hosts
from tests.hosts.test_remote import guards
from tests.hosts.test_run_hosts import fwbench


@pytest.mark.slow
def test_model_on_hosts_records_the_model_and_topology_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    with namespace_hosts(3, tmp_path) as hosts:
        assert len(hosts.namespaces) == 4  # three hosts and their bridge
        service, load_1, load_2 = hosts.urls
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [service], [load_1, load_2])
        output = tmp_path / "model.json"
        done = fwbench(
            tmp_path, "model", "--quick", "--hosts", str(hosts_file), "--frameworks", "flask",
            "--servers", "gunicorn-sync", "--output", str(output),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert guards() == []
        assert hosts.running_besides_sshd() == []
    results, document = read_model_file(output)
    assert results is not None and results.status == "complete"
    topology = results.topology
    assert topology is not None
    assert [h.url for h in topology.hosts] == [service, load_1, load_2]
    assert [h.roles for h in topology.hosts] == [("service",), ("load",), ("load",)]
    assert all(h.rtt_to_service_ms is not None for h in topology.hosts[1:])
    # Every setup ran on the service host, pinned to its service CPU (the upper half).
    assert results.services and all(s.host == service for s in results.services)
    assert all(s.command[:3] == ("taskset", "-c", "1") for s in results.services)
    assert document.machine.startswith(f"{service}: ")
    assert document.failures == ()
    assert document.notes[0].startswith(
        f"measured across hosts: the service and the downstream on {service}"
    )
    assert any("CPU window" in note for note in document.notes)
    (pair,) = document.pairs
    assert pair.setup.pair == "flask/gunicorn-sync"
    assert set(pair.cpu_ms) == {"io", "json", "db"}
    assert all(cost > 0 for cost in pair.cpu_ms.values())
    assert pair.memory.workers_measured == (
        tuple(sorted({m.setup.workers for m in document.memory}))
    )
    assert pair.cold_start_ms is not None and pair.import_ms is not None
    points = document.points
    assert {p.role for p in points} == {"fit", "validate"}
    for point in points:
        assert point.ok > 0, point
        assert point.cpu_s > 0, point  # read on the service host by `fwbench probe cpu`
        assert point.window_s >= point.duration_s > 0
        assert point.cpu_utilisation <= 1.05, point
    # The saturated json point kept the service's CPU busy: the counters are its tree's.
    (json_fit,) = [p for p in points if p.scenario == "json" and p.role == "fit"]
    assert json_fit.cpu_utilisation > 0.3
    # Sampled on the service host by `fwbench probe memory`, at rest and under load.
    assert len(document.memory) == 2
    assert all(m.idle_mb > 10 and m.loaded_mb > 10 for m in document.memory)
    (startup,) = document.startup
    assert startup.pair == "flask/gunicorn-sync"
    assert startup.cold_start_ms > 0 and startup.import_ms > 0
    assert len(document.checks) == len([p for p in points if p.role == "validate"]) == 3
    assert "on hosts: 1 pairs" in done.stdout


def test_a_service_host_that_does_not_answer_is_one_sentence(tmp_path: Path) -> None:
    with namespace_hosts(1, tmp_path) as hosts:
        nobody = hosts.nobody
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [nobody], [hosts.urls[0]])
        done = fwbench(tmp_path, "model", "--quick", "--hosts", str(hosts_file))
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot reach {nobody} over SSH (")
    assert line.endswith("check the address, that sshd runs there and that your key may log in")


@pytest.mark.parametrize(
    ("options", "sentence"),
    [
        (
            ["--predict", "flask/gunicorn-sync cores=1 rps=10"],
            "--hosts says where the sweep measures, and --predict measures nothing; leave "
            "--hosts out",
        ),
        (
            ["--refit", "model.json"],
            "--hosts says where the sweep measures, and --refit measures nothing; leave "
            "--hosts out",
        ),
        (
            ["--database", "postgresql://bench@db/fwbench"],
            "--database does not go with --hosts: the service host uses the database the "
            "hosts file names; put it in the hosts file's `database` key (docs/hosts.md)",
        ),
    ],
)
def test_options_that_do_not_go_with_hosts_are_one_sentence(
    tmp_path: Path, options: list[str], sentence: str
) -> None:
    hosts_file = tmp_path / "hosts.toml"
    # The options are refused before any connection (were one tried: this machine's
    # discard port, where nothing listens).
    hosts_file.write_text(
        'service = ["ssh://root@127.0.0.1:9"]\nload = ["ssh://root@127.0.0.2:9"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "fwbench", "model", "--hosts", str(hosts_file), *options],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line == f"Error: {sentence}"
    assert done.stdout == ""
