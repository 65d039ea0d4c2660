"""``fwbench run``: measure frameworks x servers x scenarios x concurrency x repeats.

This module only orchestrates; the options are resolved and checked by
:mod:`~fwbench.harness.runconfig`, the plan's steps come from :mod:`~fwbench.harness.plan`
and the progress display from :mod:`~fwbench.harness.progress`. :class:`Run` prints the
plan and its estimated duration, starts the downstream on the load CPUs (where wrk and
the memory sampler's thread run too), calibrates the load side when no stored
calibration holds, then for each framework/server pair: starts the service on the
service CPUs, measures each scenario at each concurrency (warm-up, then the repeats, the
memory sampler running throughout), and times cold starts and imports.

Every completed step is written to the results file at once, so Ctrl-C or a crash keeps
what was measured; every process started is stopped on any exit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console

from fwbench.harness import sanity
from fwbench.harness.balancer import replicas_behind_balancer
from fwbench.harness.calibrate import calibrate, load_calibration, store_calibration
from fwbench.harness.display import cold_start_line, point_line
from fwbench.harness.load import LoadSpec, run_load
from fwbench.harness.plan import CALIBRATION_S, Step, plan_steps
from fwbench.harness.probes import MemorySampler, measure_cold_starts, measure_import_time
from fwbench.harness.process import (
    PortRotation,
    ServiceProcess,
    service_run,
    set_faults,
    start_downstream,
    start_service,
)
from fwbench.harness.progress import StepProgress, StepSequence
from fwbench.harness.results import (
    LoadSample,
    Machine,
    Placement,
    Point,
    Results,
    RunConfig,
    end_status,
)
from fwbench.harness.scenarios import SCENARIOS
from fwbench.services.downstream.faults import Faults


class Run:
    """One ``fwbench run``.

    Args:
        config: the resolved options.
        placement: CPUs of the service and of the load.
        machine: the machine description.
        output: the results file, rewritten after every step.
        command: the command line, recorded in the results.
        database: the ``--database`` URL as given (with its password), None for SQLite.
        console: where the plan, progress and tables are printed.
        calibration_file: where the calibration is stored and looked up.
        ports: TCP ports to use; None lets the operating system choose free ones.
        state_dir: directory of the default SQLite files; None: fwbench's state directory.
    """

    def __init__(
        self,
        config: RunConfig,
        placement: Placement,
        machine: Machine,
        output: Path,
        *,
        command: Sequence[str],
        database: str | None,
        console: Console,
        calibration_file: Path,
        ports: range | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.placement = placement
        self.machine = machine
        self.output = output
        self.command = tuple(command)
        self.database = database
        self.console = console
        self.calibration_file = calibration_file
        #: A free TCP port for each call: from ``ports`` when given (rotating), else one
        #: the operating system picks.
        self.port = PortRotation(ports)
        self._state_dir = state_dir
        self.calibration = load_calibration(
            calibration_file, machine, placement, config.wrk_threads
        )
        self.notes = self._notes()
        self.results = Results.start(
            self.command, machine, placement, config, self.calibration, self.notes
        )

    def _notes(self) -> tuple[str, ...]:
        if self.placement.trustworthy:
            return ()
        return (
            "only one CPU is usable, so wrk, the downstream and the service share it: "
            "these results are not trustworthy; run on a machine with 2 or more cores",
        )

    @property
    def _missing_levels(self) -> tuple[int, ...]:
        have = self.calibration
        return tuple(c for c in self.config.connections if have is None or not have.level(c))

    @property
    def needs_calibration(self) -> bool:
        """Whether the run starts by calibrating the load side (no stored calibration
        holds for this machine, placement and concurrency)."""
        return bool(self._missing_levels)

    def steps(self) -> list[Step]:
        """The plan of this run."""
        return plan_steps(self.config, self._missing_levels)

    def _save(self, results: Results) -> None:
        self.results = results
        results.write(self.output)

    def execute(self) -> Results:
        """Measure everything in the plan; return the complete results.

        On any exception (Ctrl-C included) the results file records the points measured
        so far with status ``interrupted`` or ``failed``, every process started is
        stopped, and the exception propagates.
        """
        steps = self.steps()
        self._save(self.results)
        try:
            with StepProgress(self.console, steps) as progress, contextlib.ExitStack() as stack:
                with progress.step("starting the downstream"):
                    downstream = stack.enter_context(
                        start_downstream(port=self.port(), cpus=self.placement.load_cpus)
                    )
                if self._missing_levels:
                    self._calibrate(progress)
                for framework, server in self.config.pairs:
                    self._measure_pair(framework, server, downstream, progress)
        except BaseException as error:
            self._save(self.results.finished(*end_status(error)))
            raise
        self._save(self.results.finished("complete"))
        return self.results

    def _calibrate(self, progress: StepProgress) -> None:
        with progress.step("starting calibration servers"):
            pass  # counted up front: the servers start inside calibrate()
        steps = StepSequence(progress)
        measured = calibrate(
            self.machine,
            self.placement,
            self._missing_levels,
            threads=self.config.wrk_threads,
            duration_s=CALIBRATION_S,
            port=self.port,
            on_step=steps,
        )
        steps.close()
        self.calibration = store_calibration(measured, self.calibration_file)
        self._save(self.results.with_calibration(self.calibration))
        self.console.print(f"Calibrated the load side; stored in {self.calibration_file}")

    def _measure_pair(
        self, framework: str, server: str, downstream: ServiceProcess, progress: StepProgress
    ) -> None:
        replicas = self.config.replicas
        with contextlib.ExitStack() as stack:
            with progress.step(f"{framework}/{server}: starting"):
                services = [
                    stack.enter_context(
                        start_service(
                            framework,
                            port=self.port(),
                            server=server,
                            workers=self.config.workers,
                            cores=len(cpus),
                            database_url=self.database,
                            downstream_url=downstream.url,
                            cpus=cpus,
                            state_dir=self._state_dir,
                            # The replicas share one database, prepared once.
                            bootstrap=i == 0,
                        )
                    )
                    for i, cpus in enumerate(replica_cpus(self.placement.service_cpus, replicas))
                ]
                # One instance is measured directly; several through HAProxy, on the load
                # CPUs like the downstream.
                target = services[0]
                if replicas > 1:
                    target = stack.enter_context(
                        replicas_behind_balancer(
                            services, ("127.0.0.1", self.port()), cpus=self.placement.load_cpus
                        )
                    )
            service = services[0]
            config = service.config
            assert config is not None  # every framework service has one
            for replica in services:
                assert replica.cpus is not None  # started with CPUs
                self._save(
                    self.results.with_service(service_run(replica, tuple(sorted(replica.cpus))))
                )
            env = {**os.environ, **service.env}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # a single import needs no shared metrics
            for scenario in self.config.scenarios:
                for connections in self.config.connections:
                    point = self._measure_point(
                        service,
                        target.url,
                        downstream,
                        (framework, server),
                        scenario,
                        connections,
                        progress,
                    )
                    self._save(self.results.with_point(point))
                    self.console.print(point_line(point))
        if self.config.cold_starts:
            self._cold_start(framework, server, downstream, progress, config.app, env)

    def _measure_point(
        self,
        service: ServiceProcess,
        url: str,
        downstream: ServiceProcess,
        pair: tuple[str, str],
        scenario_name: str,
        connections: int,
        progress: StepProgress,
    ) -> Point:
        config = self.config
        scenario = SCENARIOS[scenario_name]
        framework, server = pair
        label = f"{framework}/{server} {scenario_name} c={connections}"
        path = scenario.url_path(config.downstream_latency_ms)

        def load(seconds: int) -> LoadSample:
            return run_load(
                LoadSpec(
                    url=url,
                    path=path,
                    script=scenario.script,
                    connections=connections,
                    duration_s=seconds,
                    threads=config.wrk_threads,
                    timeout_s=config.timeout_s,
                    cpus=self.placement.load_cpus,
                    script_args=scenario.script_args(service.env["API_TOKEN"]),
                )
            )

        latency = config.downstream_latency_ms if scenario_name == "transactions" else 0
        with (
            score_latency(downstream.url, latency),
            MemorySampler(service, cpus=self.placement.load_cpus) as sampler,
        ):
            warmup = None
            if config.warmup_s:
                with progress.step(f"{label}: warm-up"):
                    warmup = load(config.warmup_s)
            sampler.steady()
            repeats = []
            for i in range(1, config.repeats + 1):
                with progress.step(f"{label}: repeat {i}/{config.repeats}"):
                    repeats.append(load(config.duration_s))
        level = self.calibration.level(connections) if self.calibration else None
        return Point(
            framework=framework,
            server=server,
            scenario=scenario_name,
            path=path,
            connections=connections,
            expected_statuses=tuple(sorted(scenario.expected_statuses)),
            warmup=warmup,
            repeats=tuple(repeats),
            # With replicas the sampler sees one instance of several: not the service's.
            memory=sampler.profile() if config.replicas == 1 else None,
            sanity=sanity.check_point(
                scenario, repeats, connections, config.downstream_latency_ms, level
            ),
        )

    def _cold_start(
        self,
        framework: str,
        server: str,
        downstream: ServiceProcess,
        progress: StepProgress,
        app: str,
        env: dict[str, str],
    ) -> None:
        pair = f"{framework}/{server}"
        steps = StepSequence(progress)
        cold = measure_cold_starts(
            framework,
            server,
            count=self.config.cold_starts,
            port=self.port,
            cpus=self.placement.service_cpus,
            workers=self.config.workers,
            database_url=self.database,
            downstream_url=downstream.url,
            on_spawn=lambda i: steps(f"{pair}: cold start {i + 1}/{self.config.cold_starts}"),
        )
        steps.close()
        self._save(self.results.with_cold_start(cold))
        with progress.step(f"{pair}: import time"):
            imported = measure_import_time(
                framework,
                app.partition(":")[0],
                env,
                cpus=self.placement.service_cpus,
            )
        self._save(self.results.with_import_time(imported))
        self.console.print(cold_start_line(cold, imported.cumulative.median / 1000))


def replica_cpus(cpus: Sequence[int], replicas: int) -> list[tuple[int, ...]]:
    """The CPUs of each of ``replicas`` instances: ``cpus`` split into that many groups
    when there are enough, else every instance on all of them.

    Args:
        cpus: the service CPUs.
        replicas: instances (at least 1).
    """
    ordered = sorted(cpus)
    if replicas > len(ordered):
        return [tuple(ordered)] * replicas
    size = len(ordered) // replicas
    return [tuple(ordered[i * size : (i + 1) * size]) for i in range(replicas)]


@contextlib.contextmanager
def score_latency(downstream_url: str, latency_ms: int) -> Iterator[None]:
    """Give the downstream at ``downstream_url`` ``latency_ms`` of extra latency on
    ``/score`` (and ``/delay``) for the block, so fraud-checks in the ``transactions`` mix
    wait like ``io`` does; no-op for 0."""
    if not latency_ms:
        yield
        return
    set_faults(downstream_url, Faults(latency_ms=latency_ms))
    try:
        yield
    finally:
        set_faults(downstream_url, Faults())
