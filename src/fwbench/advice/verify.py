"""``fwbench advise --verify``: start one instance of a plan's configuration on this
machine, with the downstream at the user's latency, drive it at the plan's rate per
instance with open-loop (constant-rate) load, and say whether the plan held.

The load is wrk with ``lua/paced.lua``: requests leave on a fixed schedule whatever the
responses do (see that script for how coordinated omission is kept out), on several
times the connections the model expects in flight, and the script reports every send
that left late because every connection was busy. Services and the downstream start
through :class:`~fwbench.experiments.context.Context`, pinned as every fwbench
measurement is (:func:`~fwbench.harness.machine.default_placement`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from fwbench.advice.profile import Profile
from fwbench.advice.search import Plan
from fwbench.experiments.context import Context
from fwbench.harness.errors import InvalidOption
from fwbench.harness.load import LoadError, LoadSpec, parse_wrk_output, run_wrk
from fwbench.harness.machine import default_placement
from fwbench.harness.results import LoadSample, Placement
from fwbench.model import PairModel, Prediction, Query, predict

#: TCP ports of ``--verify``'s service and downstream (away from the other commands').
PORTS: Final = range(19100, 19200)

#: Seconds of load ``--verify`` measures by default, the shortest it accepts: long
#: enough for a p99 from thousands of requests at the rates a plan gives one instance.
SECONDS: Final = 30

#: Seconds of paced load before the measurement, not recorded (imports, pools, caches).
WARMUP_S: Final = 3

#: Share of the target rate the service must achieve, and the most sends that may leave
#: late, for the plan to count as held: beyond them the schedule, not the server, set
#: what was measured.
ACHIEVED_SHARE: Final = 0.95
LATE_SHARE: Final = 0.01

#: Connections per request the model expects in flight (at the predicted p99), so that
#: a connection is free at each scheduled send; and the bounds.
CONNECTIONS_PER_IN_FLIGHT: Final = 4
MIN_CONNECTIONS: Final = 4
MAX_CONNECTIONS: Final = 1000

_PACED_MARKER: Final = "FWBENCH_WRK_PACED "


@dataclass(frozen=True)
class Verification:
    """What ``--verify`` measured (see :class:`~fwbench.advice.render.VerificationDocument`
    for each field)."""

    configuration: str
    cores: int
    target_rps: float
    achieved_rps: float
    duration_s: float
    connections: int
    late_sends: int
    max_late_ms: float
    p50_ms: float
    p99_ms: float
    predicted_p50_ms: float
    predicted_p99_ms: float
    p99_target_ms: float
    errors: int
    held: bool
    verdict: str
    load_average: float
    #: Where it was measured, for the text ("here", or the hosts of ``--hosts``); the
    #: JSON document does not carry it.
    where: str = "here"

    def lines(self) -> list[str]:
        """The verification as the text output prints it."""
        return [
            f"Verified {self.where}: one instance of {self.configuration} on "
            f"{self.cores} core{'s' if self.cores > 1 else ''}, open-loop load at "
            f"{self.target_rps:,.1f} req/s for {self.duration_s:.0f} s over "
            f"{self.connections} connections (1-minute load average {self.load_average:.2f}).",
            f"Achieved {self.achieved_rps:,.1f} req/s; {self.errors} failed; "
            f"{self.late_sends} sends left more than 2 ms late (worst {self.max_late_ms:,.0f} ms).",
            f"p50 {self.p50_ms:,.1f} ms (predicted {self.predicted_p50_ms:,.1f}), p99 "
            f"{self.p99_ms:,.1f} ms (predicted {self.predicted_p99_ms:,.1f}; the model's "
            f"error band is in the plan above); target {self.p99_target_ms:,.0f} ms.",
            self.verdict,
        ]


def request_path(plan: Plan) -> str:
    """The route the plan's scenario requests (the lab route for FastAPI def routes)."""
    if plan.scenario != "io":
        return "/json"
    latency = round(plan.latency_ms)
    if latency != plan.latency_ms or latency > 10_000:
        raise InvalidOption(
            f"--verify needs a downstream latency of whole milliseconds up to 10000, "
            f"not {plan.latency_ms:g}",
            "round downstream_ms for the verification",
        )
    route = "/_lab/io-sync" if plan.setup.routes == "def" else "/io"
    return f"{route}?ms={latency}"


def paced_report(output: str) -> tuple[int, float]:
    """The sends that left late and the worst lateness (ms) ``lua/paced.lua`` printed."""
    lines = [line for line in output.splitlines() if line.startswith(_PACED_MARKER)]
    if len(lines) != 1:
        raise LoadError(
            "wrk's paced script printed no schedule report",
            "check fwbench/harness/lua/paced.lua",
        )
    found = json.loads(lines[0].removeprefix(_PACED_MARKER))
    return int(found["late_sends"]), float(found["max_late_ms"])


def _verdict(found: Verification) -> str:
    problems = []
    if found.achieved_rps < ACHIEVED_SHARE * found.target_rps:
        problems.append(
            f"it served {found.achieved_rps:,.1f} of the {found.target_rps:,.1f} req/s planned"
        )
    if found.errors:
        problems.append(f"{found.errors} requests failed")
    if found.p99_ms > found.p99_target_ms:
        problems.append(
            f"p99 {found.p99_ms:,.1f} ms exceeds the {found.p99_target_ms:,.0f} ms target"
        )
    late = found.late_sends > LATE_SHARE * found.target_rps * found.duration_s
    if late:
        problems.append(
            f"{found.late_sends} sends left late (every connection busy), so the latencies "
            f"understate the wait by up to {found.max_late_ms:,.0f} ms"
        )
    if not problems:
        return (
            f"The plan held: {found.achieved_rps:,.1f} req/s served, p99 {found.p99_ms:,.1f} ms "
            f"within the {found.p99_target_ms:,.0f} ms target."
        )
    return "The plan did not hold: " + "; ".join(problems) + "."


def verify(
    plan: Plan,
    model: PairModel,
    profile: Profile,
    *,
    seconds: int = SECONDS,
    warmup_s: int = WARMUP_S,
    ports: range = PORTS,
    database: str | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Verification:
    """Measure one instance of ``plan`` here at its planned rate per instance.

    This machine gives the service the CPUs of
    :func:`~fwbench.harness.machine.default_placement` (1 of 2); when they are fewer than
    the plan's cores per instance, the rate is scaled to the cores here and the model
    predicts that instead, and when they are more, the service gets the plan's number.

    Args:
        plan: the plan to verify (the recommendation's).
        model: the model of ``plan``'s pair, to predict what is measured here.
        profile: the user's answers (the p99 target).
        seconds: seconds of measured load (default :data:`SECONDS`).
        warmup_s: seconds of load before, not measured (default :data:`WARMUP_S`).
        ports: TCP ports for the service and the downstream (default :data:`PORTS`).
        database: base PostgreSQL URL, None (default) for SQLite.
        say: prints one line of progress (default: discard it).

    Raises:
        FwbenchError: the service did not start, wrk failed, or the plan cannot be
            requested (a downstream latency the service does not take).
    """
    placement = default_placement()
    setup = plan.setup
    if len(placement.service_cpus) > setup.cores:
        placement = Placement(
            service_cpus=placement.service_cpus[: setup.cores], load_cpus=placement.load_cpus
        )
    cores = len(placement.service_cpus)
    target, here, connections = planned_load(plan, model, cores)
    path = request_path(plan)
    wrk_threads = min(len(placement.load_cpus), connections)
    with tempfile.TemporaryDirectory(prefix="fwbench-verify-") as state:
        context = Context(
            quick=False,
            state_dir=Path(state),
            database=database,
            placement=placement,
            say=say,
            ports=ports,
        )
        with (
            context,
            context.service(
                setup.framework, setup.server, workers=setup.workers, threads=setup.threads
            ) as service,
        ):

            def load(duration: int) -> str:
                return run_wrk(
                    LoadSpec(
                        url=service.url,
                        path=path,
                        script="paced",
                        connections=connections,
                        duration_s=duration,
                        threads=wrk_threads,
                        timeout_s=10,
                        cpus=placement.load_cpus,
                        script_args=(f"{wrk_threads * 1000 / target:.6f}",),
                    )
                )

            say(f"warm-up: {warmup_s} s at {target:,.1f} req/s")
            if warmup_s:
                load(warmup_s)
            load_average = os.getloadavg()[0]
            say(f"measuring: {seconds} s at {target:,.1f} req/s on {connections} connections")
            output = load(seconds)
    sample = parse_wrk_output(output)
    late, worst = paced_report(output)
    return verification(
        plan, profile, here, cores, target, connections, sample, (late, worst), load_average
    )


def planned_load(plan: Plan, model: PairModel, cores: int) -> tuple[float, Prediction, int]:
    """The rate one instance of ``plan`` gets on ``cores`` service cores, what the model
    predicts there, and the connections that keep one free at each scheduled send.

    Returns:
        ``(target req/s, prediction, connections)``: the plan's rate per instance scaled
        to the cores when they are fewer than the plan's.
    """
    setup = plan.setup
    target = plan.instance_rps * min(cores, setup.cores) / setup.cores
    here = predict(
        model,
        Query(
            pair=setup.pair,
            scenario=plan.scenario,
            workers=setup.workers,
            threads=setup.threads,
            cores=min(cores, setup.workers),
            latency_ms=plan.latency_ms if plan.scenario == "io" else None,
            rps=target,
        ),
    )
    p99_s = here.p99_ms / 1000 if math.isfinite(here.p99_ms) else 1.0
    connections = int(
        min(
            MAX_CONNECTIONS,
            max(MIN_CONNECTIONS, math.ceil(CONNECTIONS_PER_IN_FLIGHT * target * p99_s)),
        )
    )
    return target, here, connections


def verification(
    plan: Plan,
    profile: Profile,
    here: Prediction,
    cores: int,
    target: float,
    connections: int,
    sample: LoadSample,
    paced: tuple[int, float],
    load_average: float,
) -> Verification:
    """The verification of a measured paced load, with its verdict.

    Args:
        plan: the plan verified.
        profile: the user's answers (the p99 target).
        here: the model's prediction for the cores measured.
        cores: service cores of the instance measured.
        target: the scheduled rate, req/s.
        connections: wrk's connections.
        sample: what wrk measured (merged, for several load generators).
        paced: the sends that left late and the worst lateness in ms (:func:`paced_report`).
        load_average: the service machine's 1-minute load average before the measurement.
    """
    late, worst = paced
    duration = sample.duration_us / 1e6
    ok = sum(n for status, n in sample.statuses.items() if 200 <= status < 300)
    found = Verification(
        configuration=plan.describe(),
        cores=cores,
        target_rps=target,
        achieved_rps=ok / duration if duration else 0.0,
        duration_s=duration,
        connections=connections,
        late_sends=late,
        max_late_ms=worst,
        p50_ms=sample.latency_us.p50 / 1000,
        p99_ms=sample.latency_us.p99 / 1000,
        predicted_p50_ms=here.p50_ms,
        predicted_p99_ms=here.p99_ms,
        p99_target_ms=profile.p99_target_ms,
        errors=sample.requests - ok + sample.errors.total,
        held=False,
        verdict="",
        load_average=load_average,
    )
    verdict = _verdict(found)
    return replace(found, held=verdict.startswith("The plan held"), verdict=verdict)
