"""``fwbench calibrate``: measure the load side's own ceilings on this machine.

A benchmark figure close to what the load generator can produce measures the generator.
Calibration runs wrk, with the same reporter script, CPUs and threads as a run, against
the downstream's ``/delay?ms=0`` (a trivial RSGI server on granian) twice per
concurrency:

* generator ceiling: the trivial server pinned to the service CPUs, where a service
  would run, so wrk on the load CPUs is the only thing that can limit it;
* downstream ceiling: the downstream on the load CPUs with wrk, as placed during a run,
  which bounds scenarios whose every request costs a downstream call.

The result is stored in the state directory and reused by ``fwbench run`` while the
machine, wrk, placement and threads match; every results file embeds the calibration
its sanity checks used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from fwbench.harness.databases import default_state_dir
from fwbench.harness.load import LoadSpec, run_load
from fwbench.harness.process import start_downstream
from fwbench.harness.results import (
    Calibration,
    CalibrationLevel,
    LoadSample,
    Machine,
    Placement,
    ResultsFormatError,
)

#: Seconds of warm-up before each calibration measurement.
WARMUP_S: Final = 1

#: wrk's timeout during calibration: a trivial server answers in microseconds.
_TIMEOUT_S: Final = 5


def calibration_path(state_dir: Path | None = None) -> Path:
    """Where the calibration is stored: ``STATE_DIR/calibration.json``.

    Args:
        state_dir: None (default) is fwbench's state directory (``~/.cache/fwbench``).
    """
    return (state_dir if state_dir is not None else default_state_dir()) / "calibration.json"


def load_calibration(
    path: Path, machine: Machine, placement: Placement, threads: int
) -> Calibration | None:
    """The stored calibration if it holds for this machine, placement and wrk threads;
    None when there is none, it is unreadable, or it was measured under other conditions.

    Args:
        path: the calibration file.
        machine: the machine about to be measured.
        placement: the CPU placement about to be used.
        threads: wrk threads about to be used.
    """
    if not path.exists():
        return None
    try:
        calibration = Calibration.read(path)
    except ResultsFormatError:
        return None  # written by another version: measure again
    return calibration if calibration.matches(machine, placement, threads) else None


def calibrate(
    machine: Machine,
    placement: Placement,
    connections: Iterable[int],
    *,
    threads: int,
    duration_s: int,
    port: Callable[[], int],
    on_step: Callable[[str], None] = lambda step: None,
) -> Calibration:
    """Measure the generator and downstream ceilings at each concurrency.

    Args:
        machine: the machine (recorded so a later run knows the calibration holds).
        placement: the CPUs of the service and of the load.
        connections: wrk connections to calibrate, e.g. ``[64]``.
        threads: wrk threads.
        duration_s: seconds per measurement (after :data:`WARMUP_S` of warm-up).
        port: returns a free TCP port.
        on_step: called with a description before each measurement, for progress.

    Raises:
        FwbenchError: the downstream did not start, or wrk failed.
    """
    levels = sorted(set(connections))
    generator: dict[int, LoadSample] = {}
    downstream: dict[int, LoadSample] = {}
    for cpus, into, what in (
        (placement.service_cpus, generator, "generator ceiling"),
        (placement.load_cpus, downstream, "downstream ceiling"),
    ):
        with start_downstream(port=port(), cpus=cpus) as server:
            for level in levels:
                on_step(f"calibrating the {what} at {level} connections")

                def measure(seconds: int, level: int = level, url: str = server.url) -> LoadSample:
                    spec = LoadSpec(
                        url=url,
                        path="/delay?ms=0",
                        script="get",
                        connections=level,
                        duration_s=seconds,
                        threads=threads,
                        timeout_s=_TIMEOUT_S,
                        cpus=placement.load_cpus,
                    )
                    return run_load(spec)

                measure(WARMUP_S)
                into[level] = measure(duration_s)
    return Calibration(
        measured_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        hostname=machine.hostname,
        cpu_model=machine.cpu_model,
        wrk=machine.wrk,
        placement=placement,
        threads=threads,
        duration_s=duration_s,
        levels=tuple(CalibrationLevel(c, generator[c], downstream[c]) for c in levels),
    )


def store_calibration(calibration: Calibration, path: Path) -> Calibration:
    """Write ``calibration`` to ``path``, keeping the levels of a stored calibration of
    the same conditions that it did not measure; return what was written."""
    try:
        stored = Calibration.read(path) if path.exists() else None
    except ResultsFormatError:
        stored = None
    if stored is not None and stored.same_conditions(calibration):
        calibration = stored.merged(calibration)
    calibration.write(path)
    return calibration
