"""Io sessions: the measurement the thread-pool, I/O-ratio, httpx, memory and
article-table experiments share (:mod:`._measure` has what a session is made of).

A session starts one setup where the run measures (:func:`~._running.start_setup`: here, or
on the service host with wrk on the load hosts), samples its memory at rest, then loads
it over the mode's :class:`~._measure.Sweep` while sampling its memory under load. A
session measured for one experiment is reused by the others in the same run
(:attr:`Context.shared`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar, TypeVar

from fwbench.experiments._measure import (
    IDLE_SAMPLE_S,
    IO_FULL_SETUPS,
    IO_QUICK_SETUPS,
    SESSION_OVERHEAD_S,
    IoPoint,
    IoSession,
    IoSetup,
    LoadFigures,
    MeasurementFailed,
    Sweep,
    expect_ok,
    figures,
    memory_figures,
    slots,
    sweep_for,
)
from fwbench.experiments._running import Running, start_setup
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan
from fwbench.harness.errors import FwbenchError
from fwbench.harness.load import LoadSpec


def io_session(context: Context, setup: IoSetup) -> IoSession:
    """Measure (or reuse from this run) ``setup`` over the mode's :class:`Sweep`. A
    failure is remembered too, so the experiments sharing the session do not each retry
    it.

    Raises:
        FwbenchError: the service did not start or did not answer as it should.
    """
    sweep = sweep_for(context)

    def measure() -> IoSession:
        sizing = "".join(
            f", {n} {what}" for n, what in ((setup.workers, "workers"), (setup.threads, "threads"))
            if n is not None
        )  # fmt: skip
        context.say(f"io session: {setup.framework} on {setup.server}, {setup.route}{sizing}")
        return _measure_session(context, setup, sweep)

    return context.measure_once(("io-session", *setup, sweep), measure)


def io_sessions(
    context: Context, setups: Sequence[IoSetup]
) -> tuple[tuple[IoSession, ...], tuple[str, ...]]:
    """The io sessions of ``setups`` (framework, server, route) that could be measured,
    and one line for each that could not, so one broken configuration does not cost
    an experiment its other configurations."""
    sessions = []
    failures = []
    for setup in setups:
        try:
            sessions.append(io_session(context, setup))
        except FwbenchError as error:
            failures.append(f"{' '.join(map(str, setup[:3]))}: {error.problem}")
    return tuple(sessions), tuple(failures)


def _measure_session(context: Context, setup: IoSetup, sweep: Sweep) -> IoSession:
    framework, route = setup.framework, setup.route
    with start_setup(
        context, framework, setup.server, workers=setup.workers, threads=setup.threads
    ) as service:
        config = service.config
        idle = service.idle_memory(IDLE_SAMPLE_S)
        expect_ok("GET", service.url, f"{route}?ms=0", timeout_s=10)
        with service.memory() as sampler:
            if sweep.warmup_s:
                warmup_path = f"{route}?ms={sweep.latencies_ms[0]}"
                _load(service, warmup_path, sweep.connections[0], sweep.warmup_s)
                service.drain()
            sampler.steady()
            points = []
            for latency in sweep.latencies_ms:
                for connections in sweep.connections:
                    runs = []
                    for _ in range(sweep.repeats):
                        path = f"{route}?ms={latency}"
                        runs.append(_load(service, path, connections, sweep.duration_s))
                        service.drain()
                    runs.sort(key=lambda run: run.ok_rps)
                    if not runs[0].ok:
                        raise MeasurementFailed(
                            f"{framework} on {config.server} answered no {route}?ms={latency} "
                            f"request with 2xx at {connections} connections",
                            "run `fwbench serve` and the contract tests to see why",
                        )
                    points.append(
                        IoPoint(latency, runs[len(runs) // 2], tuple(run.ok_rps for run in runs))
                    )
        profile = sampler.profile()
        if profile is None:
            raise MeasurementFailed(
                f"could not read the memory of {framework}'s processes under load",
                "check that /proc is readable (psutil memory_full_info)",
            )
        capacity = slots(config, route)
        session = IoSession(
            framework=framework,
            server=config.server,
            route=route,
            workers=config.workers,
            threads=config.threads,
            slots=None if math.isinf(capacity) else capacity,
            idle=idle,
            loaded=memory_figures(profile),
            points=tuple(points),
        )
    return session


def _load(service: Running, path: str, connections: int, duration_s: int) -> LoadFigures:
    """``service`` loaded on ``path`` as :func:`~._measure.load` loads a URL, with wrk
    where the run's load runs (here on the load CPUs, or on every load host)."""
    spec = LoadSpec(
        url=service.url,
        path=path,
        script="get",
        connections=connections,
        duration_s=duration_s,
        threads=connections,  # at most one per load CPU: LocalRunning and each load host cap it
        timeout_s=10,
    )
    return figures(service.load(spec), connections)


def sessions_budget(context: Context, setups: tuple[IoSetup, ...]) -> float:
    """Planned seconds for the io sessions of ``setups`` (framework, server, route) that
    this run has not measured yet."""
    sweep = sweep_for(context)
    missing = [setup for setup in setups if ("io-session", *setup, sweep) not in context.shared]
    points = len(sweep.latencies_ms) * len(sweep.connections) * sweep.repeats
    # Every run is followed by a drain of about a second.
    return len(missing) * (sweep.seconds() + points + SESSION_OVERHEAD_S)


SessionsEvidence = TypeVar("SessionsEvidence")


class IoSessionsExperiment(Experiment[SessionsEvidence]):
    """An experiment whose evidence is io sessions, one per :data:`IoSetup` of its mode;
    sessions an earlier experiment of the run measured are reused, not measured again.

    Subclasses choose their setups (default: every pair on ``/io``, the quick subset
    with ``--quick``) and turn the sessions into evidence in :meth:`evidence`.
    """

    #: The setups a ``--quick`` run measures.
    quick_setups: ClassVar[tuple[IoSetup, ...]] = IO_QUICK_SETUPS
    #: The setups a full run measures.
    full_setups: ClassVar[tuple[IoSetup, ...]] = IO_FULL_SETUPS

    def setups(self, context: Context) -> tuple[IoSetup, ...]:
        """The setups of this run's mode."""
        return self.quick_setups if context.quick else self.full_setups

    def describe_sessions(self, context: Context) -> str:
        """The line :meth:`plan` prints about the sessions."""
        count = len(self.setups(context))
        return f"{count} io sessions (reused when earlier experiments measured them)"

    def plan(self, context: Context) -> Plan:
        setups = self.setups(context)
        return Plan(sessions_budget(context, setups), (self.describe_sessions(context),))

    def run(self, context: Context) -> SessionsEvidence:
        sessions, failures = io_sessions(context, self.setups(context))
        return self.evidence(context, sessions, failures)

    @abstractmethod
    def evidence(
        self, context: Context, sessions: tuple[IoSession, ...], failures: tuple[str, ...]
    ) -> SessionsEvidence:
        """The evidence of the measured ``sessions``; ``failures`` names each setup that
        could not be measured, in one line."""
