"""The hosts file: a valid file, and one sentence for each kind of mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fwbench.harness.hosts import HostsFileError, parse_hosts, read_hosts, ssh_target

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
