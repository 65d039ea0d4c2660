"""fwbench pins itself to the load CPUs while it measures, and gives the CPUs back."""

from __future__ import annotations

import os

from fwbench.harness.runner import _affinity


def test_affinity_pins_this_process_then_restores_it() -> None:
    before = os.sched_getaffinity(0)
    load_cpu = min(before)
    with _affinity([load_cpu]):
        assert os.sched_getaffinity(0) == {load_cpu}
    assert os.sched_getaffinity(0) == before
