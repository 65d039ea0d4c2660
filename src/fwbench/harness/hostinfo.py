"""What the driver asks of a host before a run across hosts, answered as one JSON line:
the host's machine description, the CPUs it may use, and the network round-trip time
from it to given addresses.

Run on a host as ``python -m fwbench.harness.hostinfo [ADDRESS:PORT ...]``
(:mod:`fwbench.harness.remote`); the driver measures its own round trips with
:func:`tcp_rtt_ms`.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

from fwbench.harness.documents import dump
from fwbench.harness.machine import describe_machine
from fwbench.harness.stats import summarize


def tcp_rtt_ms(address: str, port: int, samples: int = 5) -> float:
    """The median time to open a TCP connection to ``address:port``, in milliseconds: one
    network round trip (SYN, SYN-ACK) plus the kernels' work, no application's.

    Args:
        address: the host.
        port: a port that accepts connections there (sshd's, a service's).
        samples: connections opened, default 5.

    Raises:
        OSError: the address cannot be connected to.
    """
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        with socket.create_connection((address, port), timeout=5):
            times.append((time.perf_counter() - start) * 1000)
    return summarize(times).median


def main(argv: list[str]) -> int:
    """Print ``{"machine": ..., "cpus": [...], "rtt_ms": {"ADDRESS:PORT": ms}}``."""
    rtt = {}
    for target in argv:
        address, _, port = target.rpartition(":")
        rtt[target] = tcp_rtt_ms(address, int(port))
    report = {
        "machine": dump(describe_machine()),
        "cpus": sorted(os.sched_getaffinity(0)),
        "rtt_ms": rtt,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
