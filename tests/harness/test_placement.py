"""``--service-cpus`` and ``--load-cpus``: the placement they ask for, each mistake one
sentence, and a command that takes them pinning what it starts to them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fwbench.harness.errors import InvalidOption
from fwbench.harness.machine import chosen_placement
from fwbench.harness.results import Placement, Results

USABLE = (0, 1, 2, 3)


@pytest.mark.parametrize(
    ("service", "load", "expected"),
    [
        (None, None, Placement((2, 3), (0, 1))),  # the halves, as without the options
        ((3,), None, Placement((3,), (0, 1, 2))),  # the load gets the rest
        (None, (0,), Placement((1, 2, 3), (0,))),  # the service gets the rest
        ((1, 3), (0,), Placement((1, 3), (0,))),  # both named: CPU 2 is left unused
    ],
)
def test_the_placement_the_options_ask_for(
    service: tuple[int, ...] | None, load: tuple[int, ...] | None, expected: Placement
) -> None:
    assert chosen_placement(service, load, USABLE) == expected


@pytest.mark.parametrize(
    ("service", "load", "message"),
    [
        ((4,), None, "--service-cpus names CPU 4, which fwbench may not use here; name CPUs "
         "among 0-3"),
        (None, (2, 7), "--load-cpus names CPU 7, which fwbench may not use here; name CPUs "
         "among 0-3"),
        ((1, 2), (2,), "--service-cpus and --load-cpus both name CPU 2; give the service and "
         "the load different CPUs"),
        ((0, 1, 2, 3), None, "--service-cpus takes every CPU fwbench may use here (0-3), "
         "leaving none for the other side; name fewer CPUs in --service-cpus"),
    ],
)  # fmt: skip
def test_each_mistake_is_one_sentence(
    service: tuple[int, ...] | None, load: tuple[int, ...] | None, message: str
) -> None:
    with pytest.raises(InvalidOption) as caught:
        chosen_placement(service, load, USABLE)
    assert str(caught.value) == message


def test_a_list_taskset_would_not_read_is_refused_by_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fwbench", "claims", "--service-cpus", "one"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Invalid value for '--service-cpus'" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_pins_the_service_and_wrk_to_the_cpus_given(tmp_path: Path) -> None:
    # The other way round from the halves: the service on CPU 0, the load on CPU 1.
    output = tmp_path / "run.json"
    done = subprocess.run(
        [sys.executable, "-m", "fwbench", "run", "--frameworks", "flask", "--scenarios", "json",
         "--connections", "8", "--duration", "1", "--warmup", "0", "--repeats", "1",
         "--cold-starts", "1", "--service-cpus", "0", "--load-cpus", "1",
         "--output", str(output)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = Results.read(output)
    assert results.placement == Placement((0,), (1,))
    (service,) = results.services
    assert service.cpus == (0,)
    assert service.command[0].endswith("taskset") and service.command[1:3] == ("-c", "0")
