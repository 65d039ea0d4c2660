"""The steps of a ``fwbench run`` and their estimated durations, for the plan it prints
and the progress display's time remaining."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from fwbench.harness.calibrate import WARMUP_S as CALIBRATION_WARMUP_S
from fwbench.harness.probes import IMPORT_SAMPLES
from fwbench.harness.results import RunConfig

#: Seconds calibration measures each ceiling.
CALIBRATION_S: Final = 5

#: Estimates for the plan, in seconds, measured on the reference 2-core machine (see
#: README): a service start with its (idempotent) database bootstrap, one cold start
#: spawn until its first domain request and its stop, one ``-X importtime`` interpreter,
#: and what each wrk run adds to its duration (start-up, report, sanity bookkeeping).
START_ESTIMATE_S: Final = {"fastapi": 3.0, "flask": 2.5, "django": 4.0}
COLD_START_ESTIMATE_S: Final = {"fastapi": 1.5, "flask": 1.2, "django": 2.5}
IMPORT_ESTIMATE_S: Final = {"fastapi": 1.2, "flask": 0.8, "django": 1.5}
WRK_OVERHEAD_S: Final = 0.3
DOWNSTREAM_START_S: Final = 0.8


@dataclass(frozen=True)
class Step:
    """One unit of a run, for the plan and the progress display.

    Attributes:
        description: what it does, e.g. ``flask/gunicorn-sync io c=64: repeat 2/3``.
        seconds: its estimated duration.
    """

    description: str
    seconds: float


def plan_steps(config: RunConfig, calibrate_levels: Sequence[int]) -> list[Step]:
    """Every step of a run with its estimated duration, in order.

    Args:
        config: the resolved options.
        calibrate_levels: concurrencies that must be calibrated first (none when a
            stored calibration holds).
    """
    steps = [Step("starting the downstream", DOWNSTREAM_START_S)]
    if calibrate_levels:
        steps.append(Step("starting calibration servers", 2 * DOWNSTREAM_START_S))
    for what in ("generator", "downstream"):
        for level in calibrate_levels:
            seconds = CALIBRATION_WARMUP_S + CALIBRATION_S + 2 * WRK_OVERHEAD_S
            steps.append(Step(f"calibrating the {what} ceiling at {level} connections", seconds))
    for framework, server in config.pairs:
        pair = f"{framework}/{server}"
        steps.append(Step(f"{pair}: starting", START_ESTIMATE_S[framework]))
        for scenario in config.scenarios:
            for connections in config.connections:
                point = f"{pair} {scenario} c={connections}"
                if config.warmup_s:
                    steps.append(Step(f"{point}: warm-up", config.warmup_s + WRK_OVERHEAD_S))
                steps += [
                    Step(
                        f"{point}: repeat {i}/{config.repeats}", config.duration_s + WRK_OVERHEAD_S
                    )
                    for i in range(1, config.repeats + 1)
                ]
        if config.cold_starts:
            steps += [
                Step(
                    f"{pair}: cold start {i}/{config.cold_starts}", COLD_START_ESTIMATE_S[framework]
                )
                for i in range(1, config.cold_starts + 1)
            ]
            steps.append(
                Step(f"{pair}: import time", IMPORT_SAMPLES * IMPORT_ESTIMATE_S[framework])
            )
    return steps
