"""``fwbench fairness``: what the contract's cross-cutting extras cost each framework on
the TechEmpower endpoints.

The contract asks every implementation for extras (:data:`fwbench.contract.EXTRAS`: the
request id, metrics, the audit log, the body-size check) that TechEmpower's
implementations do not carry. A service leaves out those named by
``$FWBENCH_EXTRAS_OFF`` (:data:`~fwbench.contract.EXTRAS_OFF_FLAG`), so each *variant*
(all on, one extra off, all off) is the same code started with another environment.

For each framework/server pair, one server per variant runs at the same time, each on its
own port, all pinned to the service CPUs; for each scenario every variant is warmed up,
then the repeats run round-robin (A, B, C, A, B, C ...), so that the drift of a shared
machine hits every variant alike. An extra's cost is the share of the throughput it
takes, ``1 - rps(all on) / rps(without it)`` on the medians of the repeats, claimed only
when the ranges of the two variants' repeats do not overlap; otherwise it is "within
noise".

The measurements are a :class:`Fairness` document, rewritten atomically after every
scenario of every pair (so Ctrl-C or a failure keeps what was measured); every server is
stopped on any exit.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic.dataclasses import dataclass
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fwbench import __version__
from fwbench.contract import EXTRAS, EXTRAS_OFF_FLAG
from fwbench.harness import sanity
from fwbench.harness.display import format_duration
from fwbench.harness.documents import RECORD, Items, dump, load, problem, read_json, write_json
from fwbench.harness.errors import InvalidOption
from fwbench.harness.load import LoadSpec, cpu_list, run_load
from fwbench.harness.plan import START_ESTIMATE_S, WRK_OVERHEAD_S, Step
from fwbench.harness.process import PortRotation, ServiceProcess, service_run, start_service
from fwbench.harness.progress import StepProgress
from fwbench.harness.results import (
    LoadSample,
    Machine,
    Placement,
    Point,
    ResultsFormatError,
    RunConfig,
    ServiceRun,
    Status,
    Timestamp,
    end_status,
    utc_now,
)
from fwbench.harness.runconfig import build_config
from fwbench.harness.scenarios import SCENARIOS

#: Version of the fairness document. A change bumps it and adds a line here:
#:   1 - fwbench 0.1.0: first format (the run's options, variants, one service per
#:       variant and pair, one point per variant, pair and scenario).
FAIRNESS_FORMAT: Final = 1

#: The variant every cost is relative to: the service as the contract specifies it.
ALL_ON: Final = "all-on"
#: The variant without any extra: what all of them cost together.
ALL_OFF: Final = "all-off"
#: Every variant, in the order measured and shown: the reference, each extra alone left
#: out (named after it), then all left out.
VARIANTS: Final[tuple[str, ...]] = (ALL_ON, *EXTRAS, ALL_OFF)

#: The TechEmpower scenarios: the ones that need no downstream, which this benchmark does
#: not start (the others exercise the domain endpoints, where the extras are required).
TECHEMPOWER: Final[tuple[str, ...]] = tuple(
    name for name, scenario in SCENARIOS.items() if not scenario.needs_downstream
)


def extras_off_value(variant: str) -> str:
    """The ``$FWBENCH_EXTRAS_OFF`` value that starts a service as ``variant``: empty (set,
    so an inherited value cannot leak in) for all on, ``all``, or the extra's name."""
    return {ALL_ON: "", ALL_OFF: "all"}.get(variant, variant)


def _variant(name: str) -> str:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; fwbench knows {', '.join(VARIANTS)}")
    return name


def _format(version: int) -> int:
    if version != FAIRNESS_FORMAT:
        raise ValueError(f"must be {FAIRNESS_FORMAT}, not {version}")
    return version


#: A variant name of :data:`VARIANTS`.
Variant = Annotated[str, AfterValidator(_variant)]


@dataclass(frozen=True, config=RECORD)
class VariantService:
    """The server started for one variant of a pair."""

    variant: Variant
    """The variant (``all-on``, ``all-off``, or the one extra left out)."""
    extras_off: str
    """The ``FWBENCH_EXTRAS_OFF`` value it was started with."""
    service: ServiceRun
    """Its server, workers, exact command line, CPUs and database."""


@dataclass(frozen=True, config=RECORD)
class VariantPoint:
    """One scenario measured on one variant of a pair."""

    variant: Variant
    """The variant."""
    point: Point
    """Its warm-up and repeats (``memory`` is not sampled: null)."""


@dataclass(frozen=True, config=RECORD)
class Fairness:
    """A fairness document: one ``fwbench fairness``, rewritten atomically after every
    scenario of every pair."""

    format: Annotated[
        int, AfterValidator(_format), Field(json_schema_extra={"const": FAIRNESS_FORMAT})
    ]
    """The version of this format (``fwbench.harness.fairness.FAIRNESS_FORMAT``)."""
    fwbench: str
    """The fwbench version that wrote the file."""
    command: Items[str]
    """The command line."""
    status: Status
    """``running``, then ``complete``, ``interrupted`` or ``failed``."""
    error: str | None
    """For ``failed``: the error that stopped the run; else null."""
    started_at: Timestamp
    """When the run started (RFC 3339, UTC)."""
    finished_at: Timestamp | None
    """When it ended; null while ``running``."""
    machine: Machine
    """The machine and software versions."""
    placement: Placement
    """The CPUs of the services and of wrk."""
    config: RunConfig
    """The options, resolved as ``fwbench run``'s (no downstream, no cold starts)."""
    variants: Annotated[Items[Variant], Field(min_length=1)]
    """The variants, ``all-on`` first; the repeats ran round-robin in this order."""
    services: Items[VariantService] = ()
    """Every server started, one per variant and pair."""
    points: Items[VariantPoint] = ()
    """The measured points, in measurement order."""

    @model_validator(mode="after")
    def _consistent(self) -> Fairness:
        if (self.status == "failed") != (self.error is not None):
            raise ValueError("error is set exactly when the status is 'failed'")
        if (self.status == "running") != (self.finished_at is None):
            raise ValueError("finished_at is set exactly when the run is no longer running")
        if self.variants[0] != ALL_ON or len(set(self.variants)) != len(self.variants):
            raise ValueError(f"variants must be distinct, {ALL_ON} first: {list(self.variants)}")
        keys = [(p.variant, *p.point.key) for p in self.points]
        if len(set(keys)) != len(keys):
            raise ValueError("two points measure the same variant, pair and scenario")
        return self

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The (framework, server) pairs measured, in measurement order."""
        return tuple(dict.fromkeys(p.point.key[:2] for p in self.points))

    def point(self, pair: tuple[str, str], scenario: str, variant: str) -> Point | None:
        """The point of ``variant`` of ``pair`` on ``scenario``, if it was measured."""
        return next(
            (
                p.point
                for p in self.points
                if p.variant == variant and p.point.key[:3] == (*pair, scenario)
            ),
            None,
        )

    def finished(self, status: str, error: str | None = None) -> Fairness:
        """A copy that records the end of the run (``complete``, ``interrupted`` or
        ``failed`` with its one-sentence error)."""
        return replace(self, status=status, error=error, finished_at=utc_now())

    def write(self, path: Path) -> None:
        """Write the document as JSON to ``path``, atomically, creating directories."""
        write_json(path, dump(self))

    @classmethod
    def read(cls, path: Path) -> Fairness:
        """Read a fairness document.

        Raises:
            ResultsFormatError: unreadable, not JSON, or not a valid fairness document.
        """
        data = read_json(path, ResultsFormatError, "a file written by `fwbench fairness`")
        return cls.parse(data, path.name)

    @classmethod
    def parse(cls, data: object, where: str = "fairness") -> Fairness:
        """Validate a fairness document's JSON values (``where`` names it in errors).

        Raises:
            ResultsFormatError: not a valid fairness document.
        """
        try:
            return load(cls, data)
        except ValidationError as error:
            raise ResultsFormatError(
                problem(error, where), "pass a file written by `fwbench fairness`"
            ) from None

    @staticmethod
    def describes(data: object) -> bool:
        """Whether JSON values read from a file claim to be a fairness document (a
        ``format`` and ``variants``, which a results file has not)."""
        return isinstance(data, dict) and "variants" in data and "format" in data


# --------------------------------------------------------------------------- options


def resolve_variants(names: Iterable[str]) -> tuple[str, ...]:
    """The variants ``--extras`` names, in :data:`VARIANTS` order, ``all-on`` always
    included since every cost is relative to it.

    Raises:
        InvalidOption: an unknown name.
    """
    wanted = set(names)
    unknown = sorted(wanted - set(VARIANTS))
    if unknown:
        raise InvalidOption(
            f"unknown extra {', '.join(unknown)}", f"use a list of: {', '.join(VARIANTS)}"
        )
    return tuple(v for v in VARIANTS if v == ALL_ON or v in wanted)


def build_fairness_config(
    *,
    frameworks: Sequence[str],
    servers: str,
    scenarios: Sequence[str],
    connections: int,
    duration_s: int,
    warmup_s: int,
    repeats: int,
    workers: int | None,
    database: str | None,
    placement: Placement,
) -> RunConfig:
    """``fwbench fairness``'s options as a :class:`RunConfig` (checked as ``fwbench
    run``'s are), with no downstream and no cold starts.

    Raises:
        InvalidOption: a value out of range, or a scenario that is not TechEmpower's.
        UnknownServer: an unknown framework or server.
    """
    others = [s for s in scenarios if s not in TECHEMPOWER]
    if others or not scenarios:
        raise InvalidOption(
            f"{', '.join(others) or 'no scenario'} is not a TechEmpower scenario",
            f"use a list of: {', '.join(TECHEMPOWER)}",
        )
    return build_config(
        frameworks=frameworks,
        servers=servers,
        scenarios=scenarios,
        connections=(connections,),
        duration_s=duration_s,
        warmup_s=warmup_s,
        repeats=repeats,
        workers=workers,
        database=database,
        downstream_latency_ms=0,
        cold_starts=0,
        placement=placement,
    )


def plan_steps(config: RunConfig, variants: Sequence[str]) -> list[Step]:
    """Every step of a fairness run with its estimated duration, in order."""
    steps = []
    for framework, server in config.pairs:
        pair = f"{framework}/{server}"
        steps += [
            Step(f"{pair}: starting {variant}", START_ESTIMATE_S[framework]) for variant in variants
        ]
        for scenario in config.scenarios:
            if config.warmup_s:
                steps += [
                    Step(f"{pair} {scenario}: warm-up {v}", config.warmup_s + WRK_OVERHEAD_S)
                    for v in variants
                ]
            steps += [
                Step(
                    f"{pair} {scenario}: repeat {i}/{config.repeats} {v}",
                    config.duration_s + WRK_OVERHEAD_S,
                )
                for i in range(1, config.repeats + 1)
                for v in variants
            ]
    return steps


# --------------------------------------------------------------------------- measuring


class FairnessRun:
    """One ``fwbench fairness``.

    Args:
        config: the resolved options (:func:`build_fairness_config`).
        variants: the variants (:func:`resolve_variants`).
        placement: CPUs of the services and of wrk.
        machine: the machine description.
        output: the document, rewritten after every scenario.
        command: the command line, recorded in the document.
        database: the ``--database`` URL as given (with its password), None for SQLite.
        console: where progress and lines are printed.
        ports: TCP ports to use; None lets the operating system choose free ones.
        state_dir: directory of the default SQLite files; None: fwbench's state directory.
    """

    def __init__(
        self,
        config: RunConfig,
        variants: Sequence[str],
        placement: Placement,
        machine: Machine,
        output: Path,
        *,
        command: Sequence[str],
        database: str | None,
        console: Console,
        ports: range | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.placement = placement
        self.output = output
        self.database = database
        self.console = console
        self.port = PortRotation(ports)
        self._state_dir = state_dir
        self.document = Fairness(
            format=FAIRNESS_FORMAT,
            fwbench=__version__,
            command=tuple(command),
            status="running",
            error=None,
            started_at=utc_now(),
            finished_at=None,
            machine=machine,
            placement=placement,
            config=config,
            variants=tuple(variants),
        )

    def steps(self) -> list[Step]:
        """The plan of this run."""
        return plan_steps(self.config, self.document.variants)

    def _save(self, document: Fairness) -> None:
        self.document = document
        document.write(self.output)

    def execute(self) -> Fairness:
        """Measure every pair, scenario and variant; return the complete document.

        On any exception (Ctrl-C included) the document keeps what was measured, with
        status ``interrupted`` or ``failed``, every server is stopped, and the exception
        propagates.
        """
        self._save(self.document)
        try:
            with StepProgress(self.console, self.steps()) as progress:
                for pair in self.config.pairs:
                    self._measure_pair(pair, progress)
        except BaseException as error:
            self._save(self.document.finished(*end_status(error)))
            raise
        self._save(self.document.finished("complete"))
        return self.document

    def _measure_pair(self, pair: tuple[str, str], progress: StepProgress) -> None:
        framework, server = pair
        cpus = self.placement.service_cpus
        with contextlib.ExitStack() as stack:
            services: dict[str, ServiceProcess] = {}
            for variant in self.document.variants:
                with progress.step(f"{framework}/{server}: starting {variant}"):
                    services[variant] = stack.enter_context(
                        start_service(
                            framework,
                            port=self.port(),
                            server=server,
                            workers=self.config.workers,
                            cores=len(cpus),
                            database_url=self.database,
                            extra_env={EXTRAS_OFF_FLAG: extras_off_value(variant)},
                            cpus=cpus,
                            # The variants share the pair's database: prepare it once.
                            bootstrap=not services,
                            state_dir=self._state_dir,
                        )
                    )
                started = VariantService(
                    variant=variant,
                    extras_off=extras_off_value(variant),
                    service=service_run(services[variant], cpus),
                )
                self._save(replace(self.document, services=(*self.document.services, started)))
            for scenario in self.config.scenarios:
                points = self._measure_scenario(pair, scenario, services, progress)
                self._save(replace(self.document, points=(*self.document.points, *points)))
                self.console.print(scenario_line(pair, scenario, points))

    def _measure_scenario(
        self,
        pair: tuple[str, str],
        scenario_name: str,
        services: dict[str, ServiceProcess],
        progress: StepProgress,
    ) -> tuple[VariantPoint, ...]:
        config = self.config
        scenario = SCENARIOS[scenario_name]
        path = scenario.url_path(config.downstream_latency_ms)
        (connections,) = config.connections
        label = f"{pair[0]}/{pair[1]} {scenario_name}"

        def load(variant: str, seconds: int) -> LoadSample:
            return run_load(
                LoadSpec(
                    url=services[variant].url,
                    path=path,
                    script=scenario.script,
                    connections=connections,
                    duration_s=seconds,
                    threads=config.wrk_threads,
                    timeout_s=config.timeout_s,
                    cpus=self.placement.load_cpus,
                )
            )

        variants = self.document.variants
        warmups: dict[str, LoadSample | None] = dict.fromkeys(variants)
        if config.warmup_s:
            for variant in variants:
                with progress.step(f"{label}: warm-up {variant}"):
                    warmups[variant] = load(variant, config.warmup_s)
        repeats: dict[str, list[LoadSample]] = {variant: [] for variant in variants}
        # Round-robin: repeat i of every variant before repeat i + 1 of any.
        for i in range(1, config.repeats + 1):
            for variant in variants:
                with progress.step(f"{label}: repeat {i}/{config.repeats} {variant}"):
                    repeats[variant].append(load(variant, config.duration_s))
        return tuple(
            VariantPoint(
                variant=variant,
                point=Point(
                    framework=pair[0],
                    server=pair[1],
                    scenario=scenario_name,
                    path=path,
                    connections=connections,
                    expected_statuses=tuple(sorted(scenario.expected_statuses)),
                    warmup=warmups[variant],
                    repeats=tuple(repeats[variant]),
                    memory=None,
                    sanity=sanity.check_point(scenario, repeats[variant], connections, 0, None),
                ),
            )
            for variant in variants
        )


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Cost:
    """What leaving out the extras of ``variant`` changes, against all on.

    Attributes:
        value: the share of the throughput the extras take, ``1 - median(all on) /
            median(variant)`` of the repeats' req/s: 0.2 when the service serves 100
            req/s with them and 125 without; negative when it is slower without them.
        within_noise: the ranges (min-max) of the two variants' repeats overlap, or one
            has a single repeat, so the difference is not told apart from the spread.
        valid: both points are valid (no socket error, no unexpected status).
    """

    value: float
    within_noise: bool
    valid: bool

    @property
    def claimed(self) -> bool:
        """Whether the cost clears the spread of the repeats (and both points are valid)."""
        return self.valid and not self.within_noise


def cost(reference: Point, variant: Point) -> Cost:
    """The cost of the extras ``variant`` leaves out, against ``reference`` (all on)."""
    on, off = reference.throughput, variant.throughput
    return Cost(
        value=1 - on.median / off.median if off.median else 0.0,
        # A single repeat has no spread to clear.
        within_noise=min(on.n, off.n) < 2 or (off.min <= on.max and on.min <= off.max),
        valid=reference.valid and variant.valid,
    )


def chance_of_clearing(repeats: int) -> float:
    """How often the ranges of ``repeats`` values of two identical variants do not overlap,
    by chance alone: all of one below all of the other, 2 of the ``C(2n, n)`` equally likely
    orders of 2n exchangeable values (1 in 10 for 3 repeats, 1 in 126 for 5)."""
    return 2 / math.comb(2 * repeats, repeats)


#: How a cell of a fairness table reads: a claimed cost, one within noise, one resting on
#: an invalid point, or nothing (the point is missing). The console and the report each
#: style them their own way from this one reading.
CellKind = Literal["claimed", "noise", "invalid", "plain"]


def _cost_cell(found: Cost | None) -> tuple[str, CellKind]:
    if found is None:
        return "-", "plain"
    text = f"{found.value:.1%}"
    if not found.valid:
        return f"{text} invalid", "invalid"
    return (text, "claimed") if found.claimed else (f"{text} within noise", "noise")


def _heading(variant: str) -> str:
    return "all off" if variant == ALL_OFF else f"without {variant}"


def scenario_line(pair: tuple[str, str], scenario: str, points: Sequence[VariantPoint]) -> str:
    """One line (rich markup) printed as a scenario of a pair completes: each variant's
    median req/s, and whether every point is valid."""
    valid = all(p.point.valid for p in points)
    mark = "[green]✓[/]" if valid else "[yellow]![/]"
    medians = ", ".join(f"{p.variant} {p.point.throughput.median:,.0f}" for p in points)
    return f"{mark} {pair[0]}/{pair[1]} {scenario}: {medians} req/s (medians)" + (
        "" if valid else " [yellow]invalid points[/]"
    )


def pair_costs(document: Fairness, pair: tuple[str, str]) -> list[tuple[str, str, Cost]]:
    """Every (scenario, variant, cost) of ``pair`` measured with its reference."""
    found = []
    for scenario in document.config.scenarios:
        reference = document.point(pair, scenario, ALL_ON)
        for variant in document.variants[1:]:
            measured = document.point(pair, scenario, variant)
            if reference is not None and measured is not None:
                found.append((scenario, variant, cost(reference, measured)))
    return found


def reading(document: Fairness, pair: tuple[str, str]) -> str:
    """One sentence on what the costs of ``pair`` show: those that clear the spread of the
    repeats, largest first, how often that happens by chance alone, and how many do not."""
    costs = pair_costs(document, pair)
    claimed = sorted(
        (c for c in costs if c[2].claimed), key=lambda c: abs(c[2].value), reverse=True
    )
    invalid = sum(1 for c in costs if not c[2].valid)
    pair_name = f"{pair[0]}/{pair[1]}"
    if not costs:
        return f"{pair_name}: nothing to compare yet (no variant measured beside all-on)."
    tail = f"; {invalid} rest on invalid points" if invalid else ""
    if not claimed:
        return (
            f"{pair_name}: none of the {len(costs)} costs clears the spread of its repeats, so "
            f"this run shows no measurable cost of any extra{tail}."
        )
    repeats = document.config.repeats
    # Expected false claims add up even though the costs of a scenario share a reference.
    by_chance = len(costs) * chance_of_clearing(repeats)
    chance = (
        f"1 in {round(1 / chance_of_clearing(repeats))} would by chance alone, "
        f"about {by_chance:.2g} of {len(costs)}"
    )
    shown = ", ".join(
        f"{_heading(variant)} {c.value:+.1%} on {scenario}" for scenario, variant, c in claimed[:3]
    )
    more = f" and {len(claimed) - 3} more" if len(claimed) > 3 else ""
    return (
        f"{pair_name}: {len(claimed)} of {len(costs)} costs clear the spread of the repeats "
        f"(with {repeats} repeats, {chance}): {shown}{more}; the other "
        f"{len(costs) - len(claimed)} are within noise{tail}."
    )


def fairness_cells(
    document: Fairness, pair: tuple[str, str]
) -> tuple[tuple[str, ...], list[list[tuple[str, CellKind]]]]:
    """The table of ``pair`` as text: its column headings, then per scenario measured, req/s
    with all extras on (median and range of the repeats) and the cost of each variant,
    every cell with what kind of figure it is."""
    headings = ("Scenario", "All on, req/s (min-max)", *map(_heading, document.variants[1:]))
    rows: list[list[tuple[str, CellKind]]] = []
    for scenario in document.config.scenarios:
        reference = document.point(pair, scenario, ALL_ON)
        if reference is None:
            continue
        t = reference.throughput
        on = f"{t.median:,.0f} ({t.min:,.0f}-{t.max:,.0f})"
        row: list[tuple[str, CellKind]] = [
            (scenario, "plain"),
            (on, "plain") if reference.valid else (f"{on} invalid", "invalid"),
        ]
        for variant in document.variants[1:]:
            measured = document.point(pair, scenario, variant)
            row.append(_cost_cell(None if measured is None else cost(reference, measured)))
        rows.append(row)
    return headings, rows


def legend(config: RunConfig) -> str:
    """How to read a fairness table measured with ``config``."""
    return (
        "cost = 1 - req/s with all on / req/s without the extra, on the medians of "
        f"{config.repeats} round-robin repeats of {config.duration_s} s at "
        f"{config.connections[0]} connections; negative: slower without it; within noise: "
        "the ranges of the repeats overlap (or a single repeat), so no cost is claimed."
    )


#: How the console shows each kind of cell.
_CONSOLE_STYLE: Final[dict[CellKind, str]] = {
    "claimed": "bold",
    "noise": "dim",
    "invalid": "yellow",
    "plain": "",
}


def fairness_table(document: Fairness, pair: tuple[str, str]) -> Table:
    """The console table of ``pair`` (:func:`fairness_cells`, styled)."""
    headings, rows = fairness_cells(document, pair)
    table = Table()
    table.add_column(headings[0], no_wrap=True)
    for heading in headings[1:]:
        table.add_column(heading, justify="right")
    for row in rows:
        table.add_row(*(Text(text, style=_CONSOLE_STYLE[kind]) for text, kind in row))
    return table


def print_fairness(console: Console, document: Fairness) -> None:
    """Print each pair's table and its one-line reading."""
    if not document.placement.trustworthy:
        console.print(
            "[bold red]The services and wrk shared a CPU: these figures are not trustworthy.[/]"
        )
    config = document.config
    for pair in document.pairs():
        # Heading and legend as lines of their own: a narrow table would wrap them.
        console.print(f"[bold]{pair[0]}/{pair[1]}: what the contract's extras cost[/]")
        console.print(fairness_table(document, pair))
        console.print(legend(config))
        console.print(f"Reading: {reading(document, pair)}")


def print_fairness_plan(console: Console, run: FairnessRun, output: Path) -> None:
    """Print what a fairness run measures, on which CPUs, and how long it should take."""
    config, placement = run.config, run.placement
    console.print(
        f"[bold]fwbench fairness[/]: {len(config.pairs)} framework/server pair"
        f"{'s' if len(config.pairs) > 1 else ''} x {', '.join(config.scenarios)} x variants "
        f"{', '.join(run.document.variants)} at {config.connections[0]} connections; "
        f"{config.repeats} round-robin repeats of {config.duration_s} s after {config.warmup_s} s "
        "of warm-up"
    )
    console.print(
        f"Servers of every variant on CPU {cpu_list(placement.service_cpus)}, wrk on CPU "
        f"{cpu_list(placement.load_cpus)}. Database: {config.database or 'embedded SQLite'}. "
        f"Estimated duration: [bold]{format_duration(sum(s.seconds for s in run.steps()))}[/]. "
        f"Results: {output}"
    )
