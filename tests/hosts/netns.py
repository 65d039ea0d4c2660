"""Stand-in hosts for the remote tests: network namespaces joined by a bridge, each
running a real sshd (Debian's openssh-server) that accepts a throwaway key.

Layout, all made and removed by :func:`namespace_hosts`::

    this machine (root namespace) 10.A.B.1 --veth--+
    host 1 (namespace)            10.A.B.2 --veth--+-- bridge (its own namespace)
    host 2 ...                    10.A.B.3 --veth--+

``10.A.B`` is a /24 no interface of this machine has an address in yet, searched from
one chosen by the process id, so suites run at once on one machine do not collide.

Only addresses inside these namespaces are ever targets. The namespaces share this
machine's filesystem and process ids, so a "host" runs this checkout's ``.venv`` and a
test sees its processes with psutil.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

#: The subnets stand-in hosts are given: 10.A.B for A in this range, any B.
_SECOND_OCTETS = range(240, 250)

#: Sets of stand-in hosts made by this process, which keeps their names distinct.
_made = 0


@dataclass(frozen=True)
class Hosts:
    """The stand-in hosts of one test.

    Attributes:
        urls: ``ssh://root@ADDRESS`` of each host.
        addresses: each host's address.
        identity_file: the throwaway private key they accept.
        subnet: their /24 as ``10.A.B``; ``10.A.B.1`` is this machine.
        namespaces: the network namespaces made for them, the bridge's included.
    """

    urls: tuple[str, ...]
    addresses: tuple[str, ...]
    identity_file: str
    subnet: str
    namespaces: tuple[str, ...]

    def running_besides_sshd(self) -> list[str]:
        """Every process in their namespaces that is not sshd (a host's own, and the
        sessions it is closing), as ``namespace: command line``."""
        found = []
        for namespace in self.namespaces:
            pids = subprocess.run(
                ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=True
            ).stdout.split()
            for pid in pids:
                try:
                    process = psutil.Process(int(pid))
                    if process.name() != "sshd":
                        found.append(f"{namespace}: {' '.join(process.cmdline())}")
                except psutil.NoSuchProcess:
                    continue  # gone while listed
        return found

    @property
    def nobody(self) -> str:
        """An SSH URL inside their subnet where no host is."""
        return f"ssh://root@{self.subnet}.250"

    def write_hosts_file(self, path: Path, service: Sequence[str], load: Sequence[str]) -> Path:
        """Write a hosts file at ``path`` naming ``service`` and ``load`` (URLs of these
        hosts) with their throwaway key; returns ``path``."""

        def listed(urls: Sequence[str]) -> str:
            return ", ".join(f'"{url}"' for url in urls)

        path.write_text(
            f"service = [{listed(service)}]\nload = [{listed(load)}]\n"
            f'identity_file = "{self.identity_file}"\n'
        )
        return path


def _ip(*args: str, namespace: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    subprocess.run([*prefix, "ip", *args], check=True, capture_output=True, timeout=10)


def _free_subnet() -> str:
    """A ``10.A.B`` /24 in which no interface of this machine has an address, the search
    starting from one chosen by this process's id and the sets it has made."""
    listed = subprocess.run(
        ["ip", "-o", "-4", "addr", "show"], check=True, capture_output=True, text=True, timeout=10
    ).stdout
    candidates = len(_SECOND_OCTETS) * 256
    start = (os.getpid() * 7 + _made) % candidates
    for offset in range(candidates):
        index = (start + offset) % candidates
        subnet = f"10.{_SECOND_OCTETS[index // 256]}.{index % 256}"
        if f" {subnet}." not in listed:
            return subnet
    raise RuntimeError("every 10.240-249.x.0/24 subnet is in use here")


def require_root_tools() -> None:
    """Skip unless this runs as root with ip and sshd (scripts/test installs sshd)."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if not Path("/usr/sbin/sshd").exists():
        pytest.skip("sshd is not installed (apt-get install openssh-server)")


@contextlib.contextmanager
def namespace_hosts(count: int, tmp: Path) -> Iterator[Hosts]:
    """``count`` stand-in hosts, removed with everything they ran on exit.

    Args:
        count: how many hosts (at most 9).
        tmp: a directory for the keys and sshd's files.
    """
    require_root_tools()
    global _made
    _made += 1
    tag = f"fwh{os.getpid() % 100000}{_made}"  # at most 15 characters with "-h1"
    bridge_ns = f"{tag}-net"
    namespaces = [f"{tag}-h{i}" for i in range(1, count + 1)]
    root_link = f"{tag}d"
    subnet = _free_subnet()
    sshds: list[subprocess.Popen[bytes]] = []
    key = tmp / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "host_key")], check=True
    )
    shutil.copy(tmp / "id_ed25519.pub", tmp / "authorized_keys")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    try:
        subprocess.run(["ip", "netns", "add", bridge_ns], check=True, timeout=10)
        _ip("link", "add", "br0", "type", "bridge", namespace=bridge_ns)
        _ip("link", "set", "br0", "up", namespace=bridge_ns)
        _ip("link", "add", root_link, "type", "veth", "peer", "name", "p0", "netns", bridge_ns)
        _ip("addr", "add", f"{subnet}.1/24", "dev", root_link)
        _ip("link", "set", root_link, "up")
        _ip("link", "set", "p0", "master", "br0", namespace=bridge_ns)
        _ip("link", "set", "p0", "up", namespace=bridge_ns)
        addresses = []
        for i, namespace in enumerate(namespaces, start=1):
            address = f"{subnet}.{i + 1}"
            subprocess.run(["ip", "netns", "add", namespace], check=True, timeout=10)
            port = f"p{i}"
            _ip("link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", bridge_ns,
                namespace=namespace)  # fmt: skip
            _ip("addr", "add", f"{address}/24", "dev", "eth0", namespace=namespace)
            _ip("link", "set", "eth0", "up", namespace=namespace)
            _ip("link", "set", "lo", "up", namespace=namespace)
            _ip("link", "set", port, "master", "br0", namespace=bridge_ns)
            _ip("link", "set", port, "up", namespace=bridge_ns)
            sshds.append(_start_sshd(namespace, address, tmp))
            addresses.append(address)
        for address in addresses:
            _wait_listening(address, 22)
        yield Hosts(
            urls=tuple(f"ssh://root@{a}" for a in addresses),
            addresses=tuple(addresses),
            identity_file=str(key),
            subnet=subnet,
            namespaces=(*namespaces, bridge_ns),
        )
    finally:
        for sshd in sshds:
            sshd.terminate()
            sshd.wait(timeout=10)
        subprocess.run(["ip", "link", "del", root_link], capture_output=True, check=False)
        for namespace in [*namespaces, bridge_ns]:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


def _start_sshd(namespace: str, address: str, tmp: Path) -> subprocess.Popen[bytes]:
    config = tmp / f"sshd_config_{address}"
    config.write_text(
        f"ListenAddress {address}\n"
        "Port 22\n"
        f"HostKey {tmp / 'host_key'}\n"
        f"PidFile {tmp / f'sshd_{address}.pid'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\n"
        "StrictModes no\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "MaxSessions 50\n"
    )
    return subprocess.Popen(
        ["ip", "netns", "exec", namespace, "/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / f"sshd_{address}.log").open("wb"),
    )


def _wait_listening(address: str, port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on {address}:{port}")
