"""The hosts file: a valid file, and one sentence for each kind of mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fwbench.harness.hosts import HostsFileError, parse_hosts, read_hosts, ssh_target
from fwbench.harness.machine import format_cpu_list, parse_cpu_list
from fwbench.harness.results import Placement

GOOD = """
service = ["ssh://root@10.200.0.2"]
load = ["ssh://bench@10.200.0.3:2222", "ssh://10.200.0.4"]
database = "postgresql://postgres@10.200.0.5:5432/postgres"
balancer = "ssh://root@10.200.0.2"
"""


def test_a_good_file_is_read_into_a_frozen_record() -> None:
    hosts = parse_hosts(GOOD)
    assert hosts.service == ("ssh://root@10.200.0.2",)
    assert hosts.load[0] == "ssh://bench@10.200.0.3:2222"
    assert hosts.hosts == (
        "ssh://root@10.200.0.2", "ssh://bench@10.200.0.3:2222", "ssh://10.200.0.4",
    )  # fmt: skip
    assert hosts.identity_file is None and hosts.checkout is None
    with pytest.raises(AttributeError):
        hosts.load = ()  # type: ignore[misc]


#: The smallest valid hosts file, which the cpus tests extend.
TWO = 'service = ["ssh://a"]\nload = ["ssh://b"]\n'


def test_cpu_lists_are_read_as_taskset_writes_them() -> None:
    assert parse_cpu_list("0-3,6") == (0, 1, 2, 3, 6)
    assert parse_cpu_list(" 5 , 1-2,2") == (1, 2, 5)
    assert parse_cpu_list("7") == (7,)
    assert format_cpu_list((6, 0, 1, 2, 3)) == "0-3,6"
    assert format_cpu_list([4]) == "4"
    assert parse_cpu_list(format_cpu_list((0, 2, 3, 4, 9, 10))) == (0, 2, 3, 4, 9, 10)


def test_the_cpus_table_places_the_service_and_the_rest_on_each_host() -> None:
    hosts = parse_hosts(
        'service = ["ssh://a", "ssh://s2"]\nload = ["ssh://b", "ssh://c"]\n'
        'balancer = "ssh://lb"\n'
        '[cpus."ssh://a"]\nservice = "2-7"\nload = "0-1"\n'
        '[cpus."ssh://s2"]\nservice = "4-7"\n'  # load: the others
        '[cpus."ssh://b"]\nload = "0-5"\n'
        '[cpus."ssh://lb"]\nload = "3"\n'
    )
    eight = range(8)
    assert hosts.placement("ssh://a", eight) == Placement((2, 3, 4, 5, 6, 7), (0, 1))
    assert hosts.placement("ssh://s2", eight) == Placement((4, 5, 6, 7), (0, 1, 2, 3))
    assert hosts.load_cpus("ssh://b", eight) == (0, 1, 2, 3, 4, 5)
    assert hosts.load_cpus("ssh://lb", eight) == (3,)
    # A host without an entry keeps the halves: the service on the upper one.
    assert hosts.load_cpus("ssh://c", eight) == (0, 1, 2, 3)
    assert parse_hosts(TWO).placement("ssh://a", [0, 1]) == Placement((1,), (0,))
    assert parse_hosts(TWO).cpus == {}
    with pytest.raises(TypeError):
        hosts.cpus["ssh://c"] = hosts.cpus["ssh://b"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'service = "2-9"',
            "ssh://a has no CPUs 8-9, which cpus.service of the hosts file names; "
            "name CPUs among 0-7, those fwbench may use there",
        ),
        ('service = "2-3"\nload = "0,12"', "ssh://a has no CPU 12, which cpus.load of"),
        (
            'service = "0-7"',
            "cpus.service of ssh://a in the hosts file takes every CPU it has (0-7), leaving "
            "none for cpus.load; name fewer CPUs in cpus.service",
        ),
        ('load = "0-7"', "leaving none for cpus.service"),
    ],
)
def test_a_cpu_the_host_lacks_is_one_sentence_naming_host_and_cpu(entry: str, message: str) -> None:
    # Checked against the host's real CPUs when the run surveys it (here: 0-7).
    hosts = parse_hosts(f'{TWO}[cpus."ssh://a"]\n{entry}\n')
    with pytest.raises(HostsFileError) as caught:
        hosts.placement("ssh://a", range(8))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_ssh_urls_are_taken_apart() -> None:
    target = ssh_target("ssh://bench@10.200.0.3:2222")
    assert (target.user, target.host, target.port) == ("bench", "10.200.0.3", 2222)
    assert ssh_target("ssh://app-host").user is None
    assert ssh_target("ssh://app-host").port == 22


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('service = ["ssh://a"]\nlaod = ["ssh://b"]', "unknown key 'laod'; did you mean 'load'?"),
        ('service = ["ssh://a"]\nload = ["ssh://b"]\ncolour = 1', "the keys are service, load"),
        ('service = ["http://a"]\nload = ["ssh://b"]', "'http://a' is not an ssh://user@host"),
        ('service = ["ssh://a:port"]\nload = ["ssh://b"]', "not an ssh://user@host[:port] URL"),
        ('service = ["ssh://u:pw@a"]\nload = ["ssh://b"]', "not an ssh://user@host"),
        ('load = ["ssh://b"]', "service is missing"),
        ('service = []\nload = ["ssh://b"]', "service: tuple should have at least 1 item"),
        ('service = ["ssh://a"]\nload = ["ssh://b", "ssh://b"]', "load lists a host twice"),
        ('service = ["ssh://a"]\nload = ["ssh://b"]\ndatabase = "mysql://x"', "postgresql://"),
        ('service = "ssh://a"\nload = ["ssh://b"]', "service: input should be a valid"),
        ("service = [", "is not TOML"),
        # The cpus table: the host, the keys, the lists.
        (f'{TWO}[cpus."ssh://c"]\nload = "0"', "cpus names ssh://c, which is not a host of"),
        (f'{TWO}[cpus."ssh://b"]\nservice = "0"', "gives ssh://b service CPUs, and it is not a"),
        (f'{TWO}[cpus."ssh://a"]\nservce = "0"', "unknown key 'servce'; did you mean 'service'?"),
        (f'{TWO}[cpus."ssh://a"]\nservice = "1-x"', "'1-x' is not a CPU list; write it like"),
        (f'{TWO}[cpus."ssh://a"]\nservice = "3-1"', "range going down (3-1); write 1-3"),
        (f'{TWO}[cpus."ssh://a"]\nservice = ""', "'' is not a CPU list"),
        (f'{TWO}[cpus."ssh://a"]\nservice = "-1"', "'-1' is not a CPU list"),
        (f'{TWO}[cpus."ssh://a"]\nservice = "0-9000"', "names CPU 9000, beyond Linux's last"),
        (f'{TWO}[cpus."ssh://a"]\nservice = 3', 'must be a CPU list in quotes like "0-3,6"'),
        (f'{TWO}[cpus."ssh://a"]\nservice = [2, 3]', "must be a CPU list in quotes"),
        (f'{TWO}[cpus."ssh://a"]\nservice = "0-2"\nload = "2,3"', "both name CPU 2; a CPU"),
        (f'{TWO}[cpus."ssh://a"]\nservice = "0-3"\nload = "2-5"', "both name CPUs 2-3; a CPU"),
        (f'{TWO}[cpus."ssh://a"]\n', "sets neither service nor load"),
        (f'{TWO}cpus = "0-3"', "cpus: input should be an object"),
        (f'{TWO}[cpus."http://a"]\nload = "0"', "'http://a' is not an ssh://user@host"),
    ],
)
def test_each_mistake_is_one_sentence(text: str, message: str) -> None:
    with pytest.raises(HostsFileError) as caught:
        parse_hosts(text, "hosts.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("hosts.toml")
    assert "\n" not in str(caught.value)


def test_the_identity_file_is_relative_to_the_hosts_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts.toml"
    path.write_text('service = ["ssh://a"]\nload = ["ssh://b"]\nidentity_file = "key"\n')
    assert read_hosts(path).identity_file == str(tmp_path / "key")
    with pytest.raises(HostsFileError, match="cannot read the hosts file"):
        read_hosts(tmp_path / "missing.toml")


def test_advise_hosts_without_verify_is_one_sentence(tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts.toml"
    hosts_file.write_text('service = ["ssh://root@10.248.0.2"]\nload = ["ssh://root@10.248.0.3"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "fwbench", "advise", "--hosts", str(hosts_file), "--no-interactive"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line == (
        "Error: --hosts says where --verify measures, and --verify is not given; add --verify "
        "or leave --hosts out"
    )
