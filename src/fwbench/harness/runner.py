"""``fwbench run``: measure frameworks x servers x scenarios x concurrency x repeats.

The orchestration, in order:

1. :func:`build_config` resolves the options into a :class:`~.results.RunConfig`;
   :func:`preflight` checks what can fail before anything starts (wrk, taskset, the
   database, the output path), so a mistake costs one sentence, not a half-done run.
2. :class:`Run` prints the plan and its estimated duration, starts the downstream on the
   load CPUs (where wrk and the memory sampler's thread run too), calibrates the load
   side when no stored calibration holds, then for each framework/server pair: starts
   the service on the service CPUs, measures each scenario at each concurrency
   (warm-up, then the repeats, the memory sampler running throughout), and times cold
   starts and imports.
3. Every completed step is written to the results file at once, so Ctrl-C or a crash
   keeps what was measured; every process started is stopped on any exit.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from fwbench.harness import sanity
from fwbench.harness.calibrate import WARMUP_S as CALIBRATION_WARMUP_S
from fwbench.harness.calibrate import calibrate, load_calibration, store_calibration
from fwbench.harness.databases import database_url_for, redacted
from fwbench.harness.display import cold_start_line, point_line
from fwbench.harness.errors import FwbenchError, InvalidOption, UnknownServer
from fwbench.harness.load import LoadSpec, find_taskset, find_wrk, run_load
from fwbench.harness.probes import MemorySampler, measure_cold_starts, measure_import_time
from fwbench.harness.process import ServiceProcess, free_port, start_downstream, start_service
from fwbench.harness.results import (
    LoadSample,
    Machine,
    Placement,
    Point,
    Results,
    RunConfig,
    ServiceRun,
)
from fwbench.harness.scenarios import DEFAULT_SCENARIOS, SCENARIOS
from fwbench.harness.servers import FRAMEWORKS, all_pairs, canonical_server, servers_for

#: wrk's ``--timeout`` in seconds: far above any latency a healthy point has, so a
#: timeout always means something broke.
TIMEOUT_S: Final = 10

#: Seconds calibration measures each ceiling.
CALIBRATION_S: Final = 5

#: Fresh interpreters timed per import-time measurement.
IMPORT_SAMPLES: Final = 3

#: Estimates for the plan, in seconds, measured on the reference 2-core machine (see
#: README): a service start with its (idempotent) database bootstrap, one cold start
#: spawn until its first domain request and its stop, one ``-X importtime`` interpreter,
#: and what each wrk run adds to its duration (start-up, report, sanity bookkeeping).
START_ESTIMATE_S: Final = {"fastapi": 3.0, "flask": 2.5, "django": 4.0}
COLD_START_ESTIMATE_S: Final = {"fastapi": 1.5, "flask": 1.2, "django": 2.5}
IMPORT_ESTIMATE_S: Final = {"fastapi": 1.2, "flask": 0.8, "django": 1.5}
WRK_OVERHEAD_S: Final = 0.3
DOWNSTREAM_START_S: Final = 0.8


def default_placement(cpus: Sequence[int] | None = None) -> Placement:
    """Split the usable CPUs: the upper half (at least one) for the service, the rest
    for wrk, the downstream and fwbench (on 2 CPUs: service on CPU 1, load on CPU 0).
    With one CPU both share it, which :attr:`Placement.trustworthy` reports.

    Args:
        cpus: the CPUs to split; None (default): those this process may run on.
    """
    usable = sorted(cpus if cpus is not None else os.sched_getaffinity(0))
    if len(usable) == 1:
        return Placement((usable[0],), (usable[0],))
    half = len(usable) // 2
    return Placement(tuple(usable[-half:]), tuple(usable[:-half]))


def default_output(command: str, now: datetime | None = None) -> Path:
    """``results/fwbench-COMMAND-YYYYmmdd-HHMMSS.json`` under the current directory.

    Args:
        command: the fwbench command writing the file (``run``, ``claims``).
        now: the time stamped in the name; None (default) is now.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"fwbench-{command}-{stamp}.json"


def resolve_pairs(frameworks: Sequence[str], servers: str) -> tuple[tuple[str, str], ...]:
    """The framework/server pairs a ``--servers`` selection means.

    Args:
        frameworks: frameworks to measure, in order.
        servers: ``canonical`` (each framework's canonical server), ``all`` (every
            supported pair) or a comma-separated list of server names, applied to
            every framework that runs on them.

    Raises:
        UnknownServer: an unknown framework or server, or servers none of the
            frameworks runs on.
    """
    for framework in frameworks:
        servers_for(framework)  # raises UnknownServer with the valid names
    if servers == "canonical":
        return tuple((f, canonical_server(f)) for f in frameworks)
    if servers == "all":
        return tuple(pair for pair in all_pairs() if pair[0] in frameworks)
    wanted = [name.strip() for name in servers.split(",") if name.strip()]
    known = {server for _, server in all_pairs()}
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise UnknownServer(
            f"unknown server {', '.join(unknown) or repr(servers)}",
            f"use canonical, all, or a list of: {', '.join(sorted(known))}",
        )
    pairs = tuple((f, s) for f in frameworks for s in servers_for(f) if s in wanted)
    unused = [s for s in wanted if s not in {server for _, server in pairs}]
    if unused:
        raise UnknownServer(
            f"none of {', '.join(frameworks)} runs on {', '.join(unused)}",
            "see `fwbench serve --help` for the supported framework/server pairs",
        )
    return pairs


def build_config(
    *,
    frameworks: Sequence[str] = FRAMEWORKS,
    servers: str = "canonical",
    scenarios: Sequence[str] = DEFAULT_SCENARIOS,
    connections: Sequence[int] = (64,),
    duration_s: int = 5,
    warmup_s: int = 2,
    repeats: int = 3,
    workers: int | None = None,
    database: str | None = None,
    downstream_latency_ms: int = 10,
    cold_starts: int = 5,
    placement: Placement,
) -> RunConfig:
    """Resolve ``fwbench run``'s options (defaults are its defaults) into a RunConfig.

    Args:
        frameworks: frameworks to measure.
        servers: ``canonical``, ``all`` or a comma-separated list of servers.
        scenarios: scenario names (:data:`~.scenarios.SCENARIOS`).
        connections: wrk connections; several make a sweep.
        duration_s: seconds per measured repeat.
        warmup_s: seconds of warm-up per point (0: none).
        repeats: measured repeats per point.
        workers: worker processes for every server; None: each server's documented rule.
        database: None for the embedded SQLite, or a ``postgresql://`` base URL.
        downstream_latency_ms: the downstream's delay for ``io`` (and ``/score``).
        cold_starts: spawns timed per pair (0: no cold start nor import time).
        placement: the CPU placement (wrk gets one thread per load CPU).

    Raises:
        InvalidOption: a value out of range or an unknown scenario.
        UnknownServer: an unknown framework or server.
    """
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        raise InvalidOption(
            f"unknown scenario {', '.join(unknown) or '(none given)'}",
            f"use a list of: {', '.join(SCENARIOS)}",
        )
    limits = (
        ("--duration", duration_s, 1),
        ("--repeats", repeats, 1),
        ("--warmup", warmup_s, 0),
        ("--cold-starts", cold_starts, 0),
        ("--downstream-latency", downstream_latency_ms, 0),
    )
    for option, value, minimum in limits:
        if value < minimum:
            raise InvalidOption(
                f"{option} must be at least {minimum}, not {value}",
                f"pass {option} {minimum} or more",
            )
    threads = len(placement.load_cpus)
    if not connections or min(connections) < threads:
        raise InvalidOption(
            f"--connections must be at least {threads} (one per wrk thread), "
            f"not {min(connections, default=0)}",
            f"pass --connections {max(threads, 64)} or more",
        )
    if workers is not None and workers < 1:
        raise InvalidOption(
            f"--workers must be at least 1, not {workers}",
            "pass --workers 1 or more, or leave it out for each server's documented rule",
        )
    return RunConfig(
        pairs=resolve_pairs(frameworks, servers),
        servers=servers,
        scenarios=tuple(dict.fromkeys(scenarios)),
        connections=tuple(dict.fromkeys(connections)),
        duration_s=duration_s,
        warmup_s=warmup_s,
        repeats=repeats,
        workers=workers,
        database=None if database is None else redacted(database),
        downstream_latency_ms=downstream_latency_ms,
        cold_starts=cold_starts,
        wrk_threads=threads,
        timeout_s=TIMEOUT_S,
    )


def preflight(config: RunConfig, database: str | None, output: Path) -> None:
    """Check what would stop the run part-way, before anything starts.

    Args:
        config: the resolved options.
        database: the ``--database`` URL as given (with its password), or None.
        output: the results file to write.

    Raises:
        FwbenchError: wrk or taskset missing, the database unreachable, the output
            not writable.
    """
    find_wrk()
    find_taskset()
    if database is not None:
        for framework in config.frameworks:
            database_url_for(framework, database)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidOption(
            f"cannot create the directory of {output}: {error.strerror}",
            "pass a writable --output path",
        ) from None
    if not os.access(output.parent, os.W_OK) or output.is_dir():
        raise InvalidOption(f"cannot write {output}", "pass a writable --output file path")


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


class _Progress:
    """The rich progress display: what runs, how many steps are left, elapsed and ETA.
    The bar advances by each finished step's estimate, so the ETA is the plan's
    estimate corrected by the speed observed so far."""

    def __init__(self, console: Console, steps: Sequence[Step]) -> None:
        self._steps = list(steps)
        self._done = 0
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[left]} steps left"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(
            "starting", total=sum(s.seconds for s in steps), left=len(steps)
        )

    def __enter__(self) -> _Progress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def begin(self, description: str) -> None:
        """Show that the next step, ``description``, is running."""
        self._progress.update(self._task, description=description)

    def finish(self) -> None:
        """Count the running step as done."""
        estimate = self._steps[self._done].seconds if self._done < len(self._steps) else 0
        self._done += 1
        self._progress.update(
            self._task, advance=estimate, left=max(len(self._steps) - self._done, 0)
        )

    @contextlib.contextmanager
    def step(self, description: str) -> Iterator[None]:
        """Show ``description`` while the block runs, then count the step as done."""
        self.begin(description)
        yield
        self.finish()


class _Sequence:
    """Adapts a callback-driven loop (``on_step(description)`` before each step) to the
    progress display: a step is finished when the next one begins, or by :meth:`close`."""

    def __init__(self, progress: _Progress) -> None:
        self._progress = progress
        self._running = False

    def __call__(self, description: str) -> None:
        self.close()
        self._progress.begin(description)
        self._running = True

    def close(self) -> None:
        if self._running:
            self._progress.finish()
            self._running = False


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
        self._ports = ports
        self._next_port = 0
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

    def port(self) -> int:
        """A free TCP port: from ``ports`` when given (rotating, so a port just released
        is not reused at once), else one the operating system picks."""
        if self._ports is None:
            return free_port()
        ordered = [*self._ports[self._next_port :], *self._ports[: self._next_port]]
        port = free_port(ordered)
        self._next_port = (self._ports.index(port) + 1) % len(self._ports)
        return port

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
            with _Progress(self.console, steps) as progress, contextlib.ExitStack() as stack:
                with progress.step("starting the downstream"):
                    downstream = stack.enter_context(
                        start_downstream(port=self.port(), cpus=self.placement.load_cpus)
                    )
                if self._missing_levels:
                    self._calibrate(progress)
                for framework, server in self.config.pairs:
                    self._measure_pair(framework, server, downstream, progress)
        except KeyboardInterrupt:
            self._save(self.results.finished("interrupted"))
            raise
        except FwbenchError as error:
            self._save(self.results.finished("failed", str(error)))
            raise
        except BaseException as error:
            self._save(self.results.finished("failed", f"{type(error).__name__}: {error}"))
            raise
        self._save(self.results.finished("complete"))
        return self.results

    def _calibrate(self, progress: _Progress) -> None:
        with progress.step("starting calibration servers"):
            pass  # counted up front: the servers start inside calibrate()
        steps = _Sequence(progress)
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
        self, framework: str, server: str, downstream: ServiceProcess, progress: _Progress
    ) -> None:
        with progress.step(f"{framework}/{server}: starting"):
            service = start_service(
                framework,
                port=self.port(),
                server=server,
                workers=self.config.workers,
                cores=len(self.placement.service_cpus),
                database_url=self.database,
                downstream_url=downstream.url,
                cpus=self.placement.service_cpus,
                state_dir=self._state_dir,
            )
        with service:
            config = service.config
            assert config is not None  # every framework service has one
            self._save(
                self.results.with_service(
                    ServiceRun(
                        framework=framework,
                        server=server,
                        workers=config.workers,
                        threads=config.threads,
                        advice=config.advice,
                        command=tuple(service.argv),
                        cpus=self.placement.service_cpus,
                        database=redacted(service.env["DATABASE_URL"]),
                    )
                )
            )
            env = {**os.environ, **service.env}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # a single import needs no shared metrics
            for scenario in self.config.scenarios:
                for connections in self.config.connections:
                    point = self._measure_point(
                        service, downstream, (framework, server), scenario, connections, progress
                    )
                    self._save(self.results.with_point(point))
                    self.console.print(point_line(point))
        if self.config.cold_starts:
            self._cold_start(framework, server, downstream, progress, config.app, env)

    def _measure_point(
        self,
        service: ServiceProcess,
        downstream: ServiceProcess,
        pair: tuple[str, str],
        scenario_name: str,
        connections: int,
        progress: _Progress,
    ) -> Point:
        config = self.config
        scenario = SCENARIOS[scenario_name]
        framework, server = pair
        label = f"{framework}/{server} {scenario_name} c={connections}"
        path = scenario.url_path(config.downstream_latency_ms)

        def load(seconds: int) -> LoadSample:
            # A fresh nonce per wrk run keeps the transactions mix's idempotency keys unique.
            args = (service.env["API_TOKEN"], uuid.uuid4().hex[:12])
            return run_load(
                LoadSpec(
                    url=service.url,
                    path=path,
                    script=scenario.script,
                    connections=connections,
                    duration_s=seconds,
                    threads=config.wrk_threads,
                    timeout_s=config.timeout_s,
                    cpus=self.placement.load_cpus,
                    script_args=args if scenario.script != "get" else (),
                )
            )

        latency = config.downstream_latency_ms if scenario_name == "transactions" else 0
        with (
            _score_latency(downstream, latency),
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
            memory=sampler.profile(),
            sanity=sanity.check_point(
                scenario, repeats, connections, config.downstream_latency_ms, level
            ),
        )

    def _cold_start(
        self,
        framework: str,
        server: str,
        downstream: ServiceProcess,
        progress: _Progress,
        app: str,
        env: dict[str, str],
    ) -> None:
        pair = f"{framework}/{server}"
        steps = _Sequence(progress)
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
                samples=IMPORT_SAMPLES,
                cpus=self.placement.service_cpus,
            )
        self._save(self.results.with_import_time(imported))
        self.console.print(cold_start_line(cold, imported.cumulative.median / 1000))


@contextlib.contextmanager
def _score_latency(downstream: ServiceProcess, latency_ms: int) -> Iterator[None]:
    """Give the downstream's ``/score`` (and ``/delay``) ``latency_ms`` of extra latency
    for the block (``PUT /_faults``), so fraud-checks in the ``transactions`` mix wait
    like ``io`` does; no-op for 0."""
    if not latency_ms:
        yield
        return
    _put_faults(downstream, latency_ms)
    try:
        yield
    finally:
        _put_faults(downstream, 0)


def _put_faults(downstream: ServiceProcess, latency_ms: int) -> None:
    host, _, port = downstream.url.removeprefix("http://").rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        body = json.dumps({"latency_ms": latency_ms, "error_rate": 0.0})
        connection.request("PUT", "/_faults", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise FwbenchError(
            f"the downstream refused its latency setting (HTTP {response.status})",
            "report it with the downstream's output",
        )
