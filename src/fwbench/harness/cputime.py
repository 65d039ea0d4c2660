"""CPU-time counters of a service: the CPU time of its whole process tree, and the time
the CPUs it is pinned to spent busy, read together with the moment they were read.

``fwbench model`` reads them before and after each wrk run (docs/model.md): here for a
local service, on the service host through ``fwbench probe cpu``
(:mod:`fwbench.harness.hostprobe`) for a service on another host.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from fwbench.harness.probes import ProcessTree


@dataclass(frozen=True)
class CpuReading:
    """The counters at one moment.

    Attributes:
        at_s: when they were read, ``time.monotonic()`` of the machine that read them
            (readings of one machine subtract; of two, they do not).
        tree_s: user + system seconds of the service's whole process tree so far.
        busy_s: seconds the service's CPUs spent on anything but idling since boot.
    """

    at_s: float
    tree_s: float
    busy_s: float


def tree_cpu_s(tree: ProcessTree) -> float:
    """User + system seconds the processes of ``tree`` have used so far."""
    total = 0.0
    for process in tree.processes():
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue  # a process gone between listing and reading
        total += times.user + times.system
    return total


def cpus_busy_s(cpus: Sequence[int]) -> float:
    """Seconds ``cpus`` spent on anything but idling since boot (steal included: time
    the hypervisor gave to other machines)."""
    every = psutil.cpu_times(percpu=True)
    total = 0.0
    for cpu in cpus:
        times = every[cpu]
        # guest time is already counted in user time (proc(5)).
        total += sum(times) - times.idle - times.iowait - times.guest - times.guest_nice
    return total


def read_counters(tree: ProcessTree, cpus: Sequence[int]) -> CpuReading:
    """The counters of ``tree``, pinned to ``cpus``, now."""
    return CpuReading(at_s=time.monotonic(), tree_s=tree_cpu_s(tree), busy_s=cpus_busy_s(cpus))
