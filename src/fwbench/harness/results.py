"""The results file: immutable, validated records and their versioned JSON form.

Like pyperf's ``Benchmark`` objects, every value here is frozen, checks itself when it is
built, keeps every raw measurement (each wrk run, each cold start) and derives its
summaries from them, so a summary can never disagree with its data. The classes are
pydantic dataclasses configured by :data:`fwbench.harness.documents.RECORD` (strict,
closed, finite); derived values are computed fields, written for readers of the file and
recomputed when it is read. The field docstrings are the format's documentation: the JSON
Schema ``results.schema.json`` next to this module is generated from them
(``python -m fwbench.schemas``), ``docs/results-schema.md`` describes the whole.

Older files are upgraded in memory when read (:data:`UPGRADES`, as asv's
``update_to_2``); a file of a newer version is refused.

Other commands store their own data under :attr:`Results.sections` (``fwbench claims``
uses ``sections["claims"]``, ``fwbench model`` ``sections["model"]``), with
:meth:`Results.with_section`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    computed_field,
    model_validator,
)
from pydantic.dataclasses import dataclass

from fwbench import __version__
from fwbench.harness.documents import (
    RECORD,
    Derived,
    FrozenMap,
    IntKey,
    Items,
    Row,
    dump,
    load,
    problem,
    read_json,
    write_json,
)
from fwbench.harness.documents import (
    Json as Json,  # re-exported: the sections hold JSON values
)
from fwbench.harness.errors import FwbenchError
from fwbench.harness.scenarios import SCENARIOS
from fwbench.harness.stats import Summary, summarize

#: Version of the results file format. A file of an older version is upgraded when read
#: (:data:`UPGRADES`); a newer one is refused. Add a line here, an upgrade function and a
#: row to docs/results-schema.md for every change:
#:   1 - fwbench 0.1.0: first format (run points, memory, cold start, import time,
#:       calibration, sections for other commands).
#:   2 - fwbench 0.1.0, written by pydantic: ``config.pairs`` items are
#:       ``[framework, server]`` and ``import_times[].heaviest`` items
#:       ``[module, cumulative_us]`` (arrays, as the value objects hold them), no longer
#:       objects.
#:   3 - fwbench 0.1.0: ``fwbench model`` writes a results file whose ``sections["model"]``
#:       holds the performance model, its raw points and its validation
#:       (``fwbench.model.ModelDocument``, schema ``model/model.schema.json``); no field
#:       of schema 2 changed, so the upgrade only renumbers.
#:   4 - fwbench 0.1.0: a load sample measured by several wrk processes at once
#:       (``fwbench.harness.generators``) keeps each one's own sample in ``generators``,
#:       its latencies merged from their histograms; ``topology`` records the hosts of a
#:       run across hosts (``--hosts``); ``config.replicas`` the instances behind HAProxy
#:       (``--replicas``). Each is optional with a default meaning "as before", so the
#:       upgrade only renumbers.
#:   5 - fwbench 0.1.0: ``topology.hosts[].calibration`` holds a load host's own wrk
#:       ceiling (``fwbench calibrate --hosts``), ``services[].host`` the service host a
#:       service (or replica) ran on; optional, null "as before", so the upgrade only
#:       renumbers.
#:   6 - fwbench 0.1.0: ``topology.hosts[].service_cpus`` and ``load_cpus`` record the
#:       CPUs each host gave the service and what ran beside it (the hosts file's
#:       ``cpus``, else the halves); optional, null "as before", so the upgrade only
#:       renumbers.
SCHEMA_VERSION: Final = 6

T = TypeVar("T")

_MiB: Final = 1024 * 1024

#: The action of every error about a malformed results file.
_NOT_OURS: Final = "the file was not written by fwbench or was edited by hand"


class ResultsFormatError(FwbenchError):
    """A results file that cannot be read: not JSON, of a newer schema version, or with a
    field that breaks the format (the message names the field's path)."""


def utc_now() -> str:
    """Now, as the documents fwbench writes stamp times: RFC 3339 in UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _timestamp(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be an RFC 3339 timestamp, not {value!r}") from None
    if parsed.utcoffset() is None:
        raise ValueError(f"must carry a time zone, not {value!r}")
    return value


def _cpus(cpus: tuple[int, ...]) -> tuple[int, ...]:
    if not cpus or any(cpu < 0 for cpu in cpus) or len(set(cpus)) != len(cpus):
        raise ValueError(f"must list distinct CPU numbers, not {list(cpus)}")
    return cpus


#: An RFC 3339 time with a time zone, e.g. ``2026-01-31T12:00:00Z``.
Timestamp = Annotated[
    str, AfterValidator(_timestamp), Field(json_schema_extra={"format": "date-time"})
]
#: Distinct CPU numbers.
Cpus = Annotated[Items[NonNegativeInt], AfterValidator(_cpus)]


# --------------------------------------------------------------------------- load samples


@dataclass(frozen=True, config=RECORD)
class Latency:
    """wrk's latency distribution of one run, in microseconds, as wrk reports it.

    wrk 4 corrects its histogram for coordinated omission before reporting it
    (``stats_correct``): for every response slower than twice the mean interval between
    requests on a connection, it adds the latencies of the requests that connection
    could not send meanwhile. Percentiles, ``mean`` and ``stdev`` are of that corrected
    distribution; ``max`` is the slowest response. Timed-out requests are not included.
    ``uncorrected_mean`` is the mean of the responses wrk measured, the correction undone
    (``lua/fwbench_report.lua``); None when unknown (some requests timed out, or the
    results predate it).
    """

    p50: NonNegativeInt
    """Median latency."""
    p75: NonNegativeInt
    """75th percentile."""
    p90: NonNegativeInt
    """90th percentile."""
    p99: NonNegativeInt
    """99th percentile."""
    p99_9: NonNegativeInt
    """99.9th percentile."""
    max: NonNegativeInt
    """The slowest response."""
    mean: NonNegativeFloat
    """Mean latency."""
    stdev: NonNegativeFloat
    """Standard deviation of the latencies."""
    uncorrected_mean: NonNegativeFloat | None = None
    """Mean of the latencies wrk measured, its coordinated-omission correction undone
    (``lua/fwbench_report.lua``); null when unknown (requests timed out, or the file
    predates it). ``sanity.littles_law`` uses it."""

    @model_validator(mode="after")
    def _ordered(self) -> Latency:
        order = (self.p50, self.p75, self.p90, self.p99, self.p99_9, self.max)
        if list(order) != sorted(order):
            raise ValueError(f"latency percentiles must not decrease: {order}")
        return self


@dataclass(frozen=True, config=RECORD)
class SocketErrors:
    """wrk's socket-level errors of one run, by kind."""

    connect: NonNegativeInt
    """Connections that could not be opened."""
    read: NonNegativeInt
    """Failed reads."""
    write: NonNegativeInt
    """Failed writes."""
    timeout: NonNegativeInt
    """Requests without a response within wrk's ``--timeout`` (``config.timeout_s``)."""

    @property
    def total(self) -> int:
        """All socket errors."""
        return self.connect + self.read + self.write + self.timeout


@dataclass(frozen=True, config=RECORD)
class LoadSample(Derived):
    """One wrk run, as the Lua reporter (``lua/fwbench_report.lua``) printed it; or the
    merge of several wrk processes that loaded the same service at once, each kept in
    ``generators`` (``fwbench.harness.generators``)."""

    requests: NonNegativeInt
    """Responses received (complete HTTP responses, any status)."""
    duration_us: PositiveInt
    """Wall-clock length of the run, in microseconds."""
    bytes: NonNegativeInt
    """Bytes read from the server."""
    errors: SocketErrors
    """Socket errors by kind."""
    statuses: FrozenMap[IntKey, NonNegativeInt]
    """Responses by HTTP status, e.g. ``{"200": 5120, "404": 12}``; adds up to ``requests``."""
    latency_us: Latency
    """wrk's latency distribution, corrected for coordinated omission; for a merged
    sample, computed from the sum of the generators' histograms, bucket by bucket."""
    generators: Items[GeneratorRun] = ()
    """For a merged sample, each wrk process's own sample (at least two); empty for one
    wrk. Counts, bytes and errors above are their sums, ``duration_us`` the longest."""

    @model_validator(mode="after")
    def _consistent(self) -> LoadSample:
        if any(not 100 <= status <= 599 for status in self.statuses):
            raise ValueError(f"statuses must map HTTP statuses to counts: {dict(self.statuses)}")
        if sum(self.statuses.values()) != self.requests:
            raise ValueError(
                f"status counts add up to {sum(self.statuses.values())}, "
                f"not to the {self.requests} requests"
            )
        if self.generators:
            parts = [generator.sample for generator in self.generators]
            if len(parts) < 2 or any(part.generators for part in parts):
                raise ValueError("a merged sample needs two or more single-wrk generators")
            if (self.requests, self.bytes, self.duration_us) != (
                sum(part.requests for part in parts),
                sum(part.bytes for part in parts),
                max(part.duration_us for part in parts),
            ):
                raise ValueError(
                    "a merged sample's requests and bytes must be its generators' sums, its "
                    "duration their longest"
                )
        return self

    @computed_field(alias="throughput_rps")  # type: ignore[prop-decorator]
    @cached_property
    def throughput(self) -> float:
        """Derived: responses per second (``requests / duration``); for a merged sample,
        the sum of the generators' own throughputs."""
        if self.generators:
            return sum(generator.sample.throughput for generator in self.generators)
        return self.requests / (self.duration_us / 1e6)

    def unexpected(self, expected: Iterable[int] = ()) -> dict[int, int]:
        """Responses whose status is neither 2xx nor in ``expected``, by status."""
        allowed = set(expected)
        return {
            status: n
            for status, n in sorted(self.statuses.items())
            if not 200 <= status <= 299 and status not in allowed and n
        }


@dataclass(frozen=True, config=RECORD)
class GeneratorRun:
    """One of several wrk processes that loaded a service at once."""

    host: str | None
    """The load host it ran on, as the hosts file names it (``ssh://user@host``); null
    for this machine."""
    cpus: Cpus | None
    """The CPUs it was pinned to with ``taskset``; null when not pinned."""
    connections: PositiveInt
    """Its share of the point's connections."""
    sample: LoadSample
    """What it measured, as its reporter printed it."""


# --------------------------------------------------------------------------- sanity


@dataclass(frozen=True, config=RECORD)
class SanityCheck:
    """One sanity check of a point (see :mod:`fwbench.harness.sanity`)."""

    name: Annotated[str, Field(min_length=1)]
    """The rule: ``littles_law``, ``io_ceiling``, ``generator_bound``, ``downstream_bound``
    or ``unstable`` (docs/results-schema.md explains each)."""
    passed: bool
    """Whether the point satisfies it."""
    value: float | None
    """The measured quantity the rule compares, when it has one."""
    limit: float | None
    """The threshold it was compared with, when it has one."""
    message: Annotated[str, Field(min_length=1)]
    """One sentence with the numbers."""
    action: str | None
    """What to do about a failed check; null when it passed."""

    @model_validator(mode="after")
    def _says_what_to_do(self) -> SanityCheck:
        if not self.passed and not self.action:
            raise ValueError(f"failed sanity check {self.name!r} must say what to do")
        return self


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True, config=RECORD)
class MemoryUse:
    """Memory of one process or of a whole tree, in bytes."""

    rss: NonNegativeInt
    """Resident memory; shared pages count in every process that maps them."""
    uss: NonNegativeInt
    """Memory only this process uses (what stopping it frees)."""
    pss: NonNegativeInt
    """Shared pages split among the processes that map them, so PSS adds up to the tree's
    real footprint."""


#: What a process of the service's tree does.
ROLES: Final = ("master", "worker", "single")


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    return role


@dataclass(frozen=True, config=RECORD)
class ProcessMemory:
    """Memory of one process of the service's tree during a point."""

    pid: PositiveInt
    """Process id."""
    role: Annotated[str, AfterValidator(_role), Field(json_schema_extra={"enum": list(ROLES)})]
    """``master`` (the root of a multi-process server, which serves no request),
    ``worker`` (a process under it) or ``single`` (a one-process server)."""
    name: str
    """The process name, e.g. ``gunicorn``."""
    steady: MemoryUse
    """Median over the samples taken while the point was measured under load."""
    peak: MemoryUse
    """Maximum over every sample."""


@dataclass(frozen=True, config=RECORD)
class MemoryProfile(Derived):
    """The memory of the service's whole process tree while a point was measured, sampled
    with psutil (warm-up and repeats)."""

    samples: PositiveInt
    """How many times the tree was sampled."""
    interval_s: Annotated[float, Field(gt=0)]
    """Seconds between samples."""
    steady: MemoryUse
    """Tree total (each process summed), median over the samples under load."""
    peak: MemoryUse
    """The largest tree total of any sample."""
    processes: Annotated[Items[ProcessMemory], Field(min_length=1)]
    """Each process of the tree, master first."""

    @property
    def serving(self) -> tuple[ProcessMemory, ...]:
        """The processes that serve requests: the workers, or the single process."""
        return tuple(p for p in self.processes if p.role != "master")

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def per_worker(self) -> MemoryUse:
        """Derived: median steady memory of one serving process."""
        serving = self.serving or self.processes

        def median(values: list[int]) -> int:
            return round(summarize(values).median)

        return MemoryUse(
            rss=median([p.steady.rss for p in serving]),
            uss=median([p.steady.uss for p in serving]),
            pss=median([p.steady.pss for p in serving]),
        )

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def workers(self) -> int:
        """Derived: serving processes (the workers, or the single process)."""
        return len(self.serving)


# --------------------------------------------------------------------------- services


@dataclass(frozen=True, config=RECORD)
class ServiceRun:
    """One start of a service under a server: exactly what was measured."""

    framework: Annotated[str, Field(min_length=1)]
    """``fastapi``, ``flask`` or ``django``."""
    server: Annotated[str, Field(min_length=1)]
    """The server, e.g. ``gunicorn-sync``."""
    workers: PositiveInt
    """Worker processes."""
    threads: PositiveInt | None
    """Threads per worker; null when the server's default applies."""
    advice: str
    """The documented rule behind the sizing, and its source."""
    command: Annotated[Items[str], Field(min_length=1)]
    """The exact argv the service ran with, ``taskset -c CPUS python -m SERVER ...``."""
    cpus: Cpus
    """The CPUs it was pinned to."""
    database: str
    """The ``DATABASE_URL`` it used, with any password removed."""
    host: str | None = None
    """The service host it ran on (``--hosts``), as the hosts file names it; null: this
    machine."""


# --------------------------------------------------------------------------- points


def _scenario(name: str) -> str:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; fwbench knows {', '.join(SCENARIOS)}")
    return name


#: A scenario name of :data:`fwbench.harness.scenarios.SCENARIOS`.
Scenario = Annotated[str, AfterValidator(_scenario)]


@dataclass(frozen=True, config=RECORD)
class Point(Derived):
    """One benchmark point: a framework on a server, one scenario, one concurrency."""

    framework: Annotated[str, Field(min_length=1)]
    """``fastapi``, ``flask`` or ``django``."""
    server: Annotated[str, Field(min_length=1)]
    """The server; ``services`` has its command line."""
    scenario: Scenario
    """The scenario (``fwbench.harness.scenarios``)."""
    path: Annotated[str, Field(min_length=1)]
    """The path wrk requested (``/io?ms=10``), ``/`` for the scripted ``transactions`` mix."""
    connections: PositiveInt
    """wrk's open connections (the closed-loop concurrency)."""
    expected_statuses: Items[int]
    """Non-2xx statuses the scenario sends on purpose (``transactions``: 404 for 1 read
    in 20)."""
    warmup: LoadSample | None
    """The warm-up run, excluded from the statistics; null without warm-up."""
    repeats: Annotated[Items[LoadSample], Field(min_length=1)]
    """The measured runs."""
    memory: MemoryProfile | None
    """The service's memory while the point ran; null if it could not be read."""
    sanity: Items[SanityCheck]
    """Every sanity check that applies, passed or not."""

    @model_validator(mode="after")
    def _distinct_checks(self) -> Point:
        names = [check.name for check in self.sanity]
        if len(set(names)) != len(names):
            raise ValueError(f"sanity check names must be unique: {names}")
        return self

    @computed_field(alias="throughput_rps")  # type: ignore[prop-decorator]
    @cached_property
    def throughput(self) -> Summary:
        """Derived: summary of the repeats' responses per second."""
        return summarize([s.throughput for s in self.repeats])

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def latency_p50_us(self) -> Summary:
        """Derived: summary of the repeats' median latencies."""
        return summarize([s.latency_us.p50 for s in self.repeats])

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def latency_p99_us(self) -> Summary:
        """Derived: summary of the repeats' 99th percentiles."""
        return summarize([s.latency_us.p99 for s in self.repeats])

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def problems(self) -> tuple[str, ...]:
        """Derived: why the point is not valid (no response, unexpected statuses, socket
        errors); empty for a valid point."""
        problems = []
        for i, sample in enumerate(self.repeats, start=1):
            if not sample.requests:
                seconds = sample.duration_us / 1e6
                problems.append(
                    f"repeat {i}: no response in {seconds:.1f} s (every request took longer, "
                    "or the service hung)"
                )
            unexpected = sample.unexpected(self.expected_statuses)
            if unexpected:
                counts = ", ".join(f"{n} x {status}" for status, n in unexpected.items())
                problems.append(f"repeat {i}: unexpected responses {counts}")
            errors = sample.errors
            if errors.total:
                kinds = (
                    ("connect", errors.connect),
                    ("read", errors.read),
                    ("write", errors.write),
                    ("timeout", errors.timeout),
                )
                found = ", ".join(f"{n} {kind}" for kind, n in kinds if n)
                problems.append(f"repeat {i}: socket errors ({found})")
        return tuple(problems)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        """Derived: every repeat got responses, all 2xx or expected, and no socket error."""
        return not self.problems

    @property
    def key(self) -> tuple[str, str, str, int]:
        """What identifies the point within a run: framework, server, scenario, connections."""
        return (self.framework, self.server, self.scenario, self.connections)

    @property
    def failed_checks(self) -> tuple[SanityCheck, ...]:
        """The sanity checks the point does not pass."""
        return tuple(check for check in self.sanity if not check.passed)


# --------------------------------------------------------------------------- start-up


@dataclass(frozen=True, config=RECORD)
class ColdStart(Derived):
    """Cold starts of one framework on one server: each spawn timed to its first answers."""

    framework: str
    """The framework, started with the same command line as its service run (no database
    bootstrap)."""
    server: str
    """The server."""
    healthz_ms: Annotated[Items[float], Field(min_length=1)]
    """Per spawn, milliseconds from spawn to the first 2xx ``GET /healthz``."""
    first_request_ms: Annotated[Items[float], Field(min_length=1)]
    """Per spawn, milliseconds from spawn until the first domain request
    (``first_request_path``) answered 2xx, lazy initialisation included."""
    first_request_path: str
    """The domain request timed, e.g. ``/transactions?limit=1``, authenticated."""

    @model_validator(mode="after")
    def _paired(self) -> ColdStart:
        if len(self.healthz_ms) != len(self.first_request_ms):
            raise ValueError("cold starts need one first-request time per healthz time")
        if any(
            h <= 0 or r < h for h, r in zip(self.healthz_ms, self.first_request_ms, strict=True)
        ):
            raise ValueError("cold start times must be positive, first request after healthz")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def healthz(self) -> Summary:
        """Derived: summary of ``healthz_ms``."""
        return summarize(self.healthz_ms)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def first_request(self) -> Summary:
        """Derived: summary of ``first_request_ms``."""
        return summarize(self.first_request_ms)


@dataclass(frozen=True, config=RECORD)
class ImportTime(Derived):
    """``python -X importtime`` of a service's application module."""

    framework: str
    """The service."""
    module: str
    """The module its server imports, e.g. ``fwbench.services.flask_service.wsgi``."""
    samples_us: Annotated[Items[PositiveInt], Field(min_length=1)]
    """Cumulative import time of ``module``, one fresh interpreter each, pinned to the
    service CPUs."""
    heaviest: Items[Row[tuple[str, int]]]
    """The costliest top-level packages of the last sample, ``[module, cumulative_us]``,
    largest first (a package's time includes what it imported first)."""

    @computed_field(alias="cumulative_us")  # type: ignore[prop-decorator]
    @cached_property
    def cumulative(self) -> Summary:
        """Derived: summary of ``samples_us``."""
        return summarize(self.samples_us)


# --------------------------------------------------------------------------- machine


def _sorted(packages: object) -> object:
    return dict(sorted(packages.items())) if isinstance(packages, Mapping) else packages


@dataclass(frozen=True, config=RECORD)
class Machine:
    """The machine and software a run measured (see :mod:`fwbench.harness.machine`)."""

    hostname: str
    """The machine's name."""
    cpu_model: str
    """The CPU model, from ``/proc/cpuinfo``."""
    logical_cpus: PositiveInt
    """CPUs the operating system reports."""
    usable_cpus: PositiveInt
    """CPUs fwbench may run on (its affinity mask)."""
    memory_bytes: PositiveInt
    """Total RAM."""
    os: str
    """Operating system, release and architecture, e.g.
    ``Linux-6.1.0-...-x86_64-with-glibc2.36``."""
    python: str
    """Python implementation and version, e.g. ``CPython 3.11.2``."""
    wrk: str
    """``wrk -v``'s version line."""
    packages: Annotated[FrozenMap[str, str], BeforeValidator(_sorted)]
    """Installed version of each framework, server, driver and tool (``not installed``
    when absent)."""

    @model_validator(mode="after")
    def _consistent(self) -> Machine:
        if self.usable_cpus > self.logical_cpus:
            raise ValueError(
                f"cpu counts are inconsistent: {self.usable_cpus} usable of {self.logical_cpus}"
            )
        return self

    def differences(self, other: Machine) -> list[str]:
        """What makes ``other`` a different machine (host, CPU, cores, memory), as phrases."""
        fields = (
            ("host", self.hostname, other.hostname),
            ("CPU", self.cpu_model, other.cpu_model),
            ("usable cores", self.usable_cpus, other.usable_cpus),
            ("memory", f"{self.memory_bytes // _MiB} MiB", f"{other.memory_bytes // _MiB} MiB"),
        )
        return [f"{name} {a} vs {b}" for name, a, b in fields if a != b]


@dataclass(frozen=True, config=RECORD)
class Placement(Derived):
    """Which CPUs the service and the load (wrk, the downstream, fwbench) ran on. On 2
    CPUs the service runs on CPU 1 and the load on CPU 0; in general the service gets the
    upper half of the usable CPUs."""

    service_cpus: Cpus
    """CPUs the service (and every worker) is pinned to with ``taskset``."""
    load_cpus: Cpus
    """CPUs of wrk, the downstream and fwbench's own sampling."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def trustworthy(self) -> bool:
        """Derived: false when the service and the load share CPUs (a 1-core machine): the
        generator then steals CPU from the service."""
        return not set(self.service_cpus) & set(self.load_cpus)


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True, config=RECORD)
class CalibrationLevel:
    """The load side's ceilings at one concurrency."""

    connections: PositiveInt
    """wrk's connections."""
    generator: LoadSample
    """wrk on the load CPUs against the downstream's ``/delay?ms=0`` pinned to the service
    CPUs: the most a trivial server can be driven, i.e. the load generator's ceiling."""
    downstream: LoadSample
    """wrk against the downstream, both on the load CPUs, as placed during a run: the
    ceiling of what the load CPUs can both generate and serve, which bounds ``io`` and
    ``transactions`` (every request costs one downstream call)."""

    @model_validator(mode="after")
    def _measured(self) -> CalibrationLevel:
        if not self.generator.requests or not self.downstream.requests:
            raise ValueError("a calibration level needs a non-zero throughput for both ceilings")
        return self


@dataclass(frozen=True, config=RECORD)
class Calibration:
    """``fwbench calibrate``'s measurement of the load side's ceilings on this machine,
    stored in ``~/.cache/fwbench/calibration.json`` and copied into the results file whose
    sanity checks used it."""

    measured_at: Timestamp
    """When it was measured."""
    hostname: str
    """The machine it holds for."""
    cpu_model: str
    """The CPU it holds for."""
    wrk: str
    """``wrk -v``'s version line."""
    placement: Placement
    """The CPUs used, as during a run."""
    threads: PositiveInt
    """wrk threads."""
    duration_s: PositiveInt
    """Seconds per measurement (after 1 s of warm-up)."""
    levels: Items[CalibrationLevel]
    """One per concurrency, ascending."""

    @model_validator(mode="after")
    def _ascending(self) -> Calibration:
        connections = [level.connections for level in self.levels]
        if not connections or connections != sorted(set(connections)):
            raise ValueError(f"calibration levels must be distinct and ascending: {connections}")
        return self

    def level(self, connections: int) -> CalibrationLevel | None:
        """The level measured at ``connections``, if any."""
        return next((lv for lv in self.levels if lv.connections == connections), None)

    def matches(self, machine: Machine, placement: Placement, threads: int) -> bool:
        """Whether this calibration holds for a run on ``machine`` with ``placement`` and
        ``threads`` wrk threads."""
        return self._conditions() == (
            machine.hostname,
            machine.cpu_model,
            machine.wrk,
            placement,
            threads,
        )

    def same_conditions(self, other: Calibration) -> bool:
        """Whether ``other`` was measured on the same machine, wrk, CPUs and threads."""
        return self._conditions() == other._conditions()

    def _conditions(self) -> tuple[object, ...]:
        return (self.hostname, self.cpu_model, self.wrk, self.placement, self.threads)

    def merged(self, other: Calibration) -> Calibration:
        """This calibration with ``other``'s levels added (``other`` wins on a tie)."""
        levels = {lv.connections: lv for lv in self.levels}
        levels.update({lv.connections: lv for lv in other.levels})
        return replace(other, levels=tuple(levels[c] for c in sorted(levels)))

    def write(self, path: Path) -> None:
        """Write the calibration as JSON to ``path`` (atomically, creating directories)."""
        write_json(path, dump(self))

    @classmethod
    def read(cls, path: Path) -> Calibration:
        """Read a calibration file.

        Raises:
            ResultsFormatError: unreadable, not JSON, or not a calibration.
        """
        data = read_json(path, ResultsFormatError, "a file written by `fwbench calibrate`")
        return _validated(cls, data, path.name)


#: What a host does in a run across hosts.
HOST_ROLES: Final = ("service", "load", "balancer")


def _host_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    if not roles or any(role not in HOST_ROLES for role in roles):
        raise ValueError(f"roles must be among {HOST_ROLES}, not {list(roles)}")
    return roles


@dataclass(frozen=True, config=RECORD)
class HostRun:
    """One host of a run across hosts (``fwbench run --hosts``)."""

    url: Annotated[str, Field(min_length=1)]
    """The host as the hosts file names it, ``ssh://user@host``."""
    roles: Annotated[Items[str], AfterValidator(_host_roles)]
    """What it ran: ``service``, ``load`` and/or ``balancer``."""
    machine: Machine
    """Its machine and software, described on the host itself."""
    rtt_ms: NonNegativeFloat
    """Median time for the driver to open a TCP connection to the host's SSH port (one
    network round trip), measured before the run."""
    rtt_to_service_ms: NonNegativeFloat | None
    """For a load host, the same measured from the host to the first service host, the
    path its requests take; null for the service hosts."""
    calibration: Calibration | None = None
    """For a load host, its own wrk ceiling (``fwbench calibrate --hosts``), which the
    ``generator_bound`` check of its generator used; null when it has none that holds
    (the check is then left out for it) and for the other hosts."""
    service_cpus: Cpus | None = None
    """For a service host, the CPUs of the service there (every worker; the replicas it
    ran split them): its ``cpus`` entry of the hosts file, else the upper half of its
    usable CPUs; null for the other hosts, and in files before schema 6."""
    load_cpus: Cpus | None = None
    """The CPUs of what ran beside the service on the host: wrk on a load host; the
    downstream, fwbench's probes and HAProxy on the first service host and the balancer:
    its ``cpus`` entry of the hosts file, else the lower half of its usable CPUs; null on
    a host that ran none of them, and in files before schema 6."""


@dataclass(frozen=True, config=RECORD)
class Topology:
    """Where each part of a run across hosts ran."""

    driver: str
    """The machine fwbench ran on (its host name); ``machine`` describes it."""
    hosts: Annotated[Items[HostRun], Field(min_length=1)]
    """Every host, service hosts first."""
    service: Items[str]
    """The service host(s) of every point, as in ``hosts``."""
    load: Items[str]
    """The load hosts: one wrk each per repeat, merged (``generators`` of each sample)."""
    database: str | None
    """The database server, password removed; null: SQLite on the service host."""


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, config=RECORD)
class RunConfig:
    """What ``fwbench run`` was asked to measure (its options, resolved)."""

    pairs: Annotated[Items[Row[tuple[str, str]]], Field(min_length=1)]
    """The ``[framework, server]`` pairs measured, in order."""
    servers: str
    """The ``--servers`` selection as given (``canonical``, ``all`` or names)."""
    scenarios: Items[Scenario]
    """Scenario names, in order."""
    connections: Annotated[Items[PositiveInt], Field(min_length=1)]
    """wrk connections; several values make a sweep."""
    duration_s: PositiveInt
    """Seconds per measured repeat."""
    warmup_s: NonNegativeInt
    """Seconds of warm-up before each point's repeats, not measured (0: none)."""
    repeats: PositiveInt
    """Measured repeats per point."""
    workers: PositiveInt | None
    """``--workers`` for every server; null applies each server's documented rule."""
    database: str | None
    """Null for the embedded SQLite default, else the ``--database`` URL without its
    password."""
    downstream_latency_ms: NonNegativeInt
    """The downstream's delay for ``io`` (and ``/score`` in ``transactions``)."""
    cold_starts: NonNegativeInt
    """Spawns timed per pair for cold start (0: no cold start nor import time)."""
    wrk_threads: PositiveInt
    """wrk threads, one per load CPU."""
    timeout_s: PositiveInt
    """wrk's ``--timeout``: a request without response after it counts as a timeout."""
    replicas: PositiveInt = 1
    """Instances of each configuration, behind HAProxy when more than one (``--replicas``,
    ``fwbench.harness.balancer``); each instance is in ``services``."""

    @model_validator(mode="after")
    def _consistent(self) -> RunConfig:
        if len(set(self.pairs)) != len(self.pairs):
            raise ValueError("pairs must list distinct (framework, server) pairs")
        if len(set(self.scenarios)) != len(self.scenarios):
            raise ValueError(f"scenarios must be distinct names of {list(SCENARIOS)}")
        if any(c < self.wrk_threads for c in self.connections):
            raise ValueError("every connection count must be at least the wrk thread count")
        return self

    @property
    def frameworks(self) -> tuple[str, ...]:
        """The frameworks measured, in order."""
        return tuple(dict.fromkeys(framework for framework, _ in self.pairs))

    def conditions(self) -> dict[str, object]:
        """The settings two runs must share for their figures to be comparable."""
        return {
            "duration": self.duration_s,
            "warm-up": self.warmup_s,
            "connections": self.connections,
            "downstream latency": self.downstream_latency_ms,
            "workers": self.workers if self.workers is not None else "documented rule",
            "database": self.database or "embedded SQLite",
            "wrk threads": self.wrk_threads,
            "timeout": self.timeout_s,
            "replicas": self.replicas,
        }


# --------------------------------------------------------------------------- results

#: ``running`` while measuring; ``complete``; ``interrupted`` (Ctrl-C, the points so far
#: are kept); ``failed`` (an error stopped it; see ``error``).
STATUSES: Final = ("running", "complete", "interrupted", "failed")


def end_status(error: BaseException) -> tuple[str, str | None]:
    """The status and error a run's document records when ``error`` stopped it: Ctrl-C is
    ``interrupted``; anything else ``failed``, with the user-facing sentence of a
    :class:`FwbenchError` or the kind and text of a bug."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", None
    if isinstance(error, FwbenchError):
        return "failed", str(error)
    return "failed", f"{type(error).__name__}: {error}"


def _status(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    return status


#: A run's status, one of :data:`STATUSES` (results and fairness documents).
Status = Annotated[str, AfterValidator(_status), Field(json_schema_extra={"enum": list(STATUSES)})]


def _schema_version(version: int) -> int:
    if version != SCHEMA_VERSION:
        raise ValueError(f"must be {SCHEMA_VERSION}, not {version}")
    return version


@dataclass(frozen=True, config=RECORD)
class Results:
    """A results file: one ``fwbench run``, rewritten atomically after every completed
    step, so Ctrl-C or a crash leaves a valid file with the points measured so far."""

    schema_version: Annotated[
        int,
        AfterValidator(_schema_version),
        Field(json_schema_extra={"const": SCHEMA_VERSION}),
    ]
    """The version of this format (``fwbench.harness.results.SCHEMA_VERSION``)."""
    fwbench: str
    """The fwbench version that wrote the file."""
    command: Items[str]
    """The command line, e.g. ``["fwbench", "run", "--repeats", "5"]``."""
    status: Status
    """``running`` while measuring, then ``complete``, ``interrupted`` (Ctrl-C; the points
    measured are kept) or ``failed``."""
    error: str | None
    """For ``failed``: the error that stopped the run; else null."""
    started_at: Timestamp
    """When the run started (RFC 3339, UTC)."""
    finished_at: Timestamp | None
    """When it ended; null while ``running``."""
    machine: Machine
    """The machine and software versions."""
    placement: Placement
    """The CPUs of the service and of the load."""
    config: RunConfig
    """The options, resolved."""
    calibration: Calibration | None
    """The load side's ceilings the sanity checks used; null when unknown."""
    services: Items[ServiceRun] = ()
    """Every service start measured, with its exact command line."""
    points: Items[Point] = ()
    """The measured points, in measurement order."""
    cold_starts: Items[ColdStart] = ()
    """Cold starts, one per framework/server pair."""
    import_times: Items[ImportTime] = ()
    """Import times, one per framework/server pair."""
    notes: Items[str] = ()
    """Warnings that concern the whole run (e.g. a 1-core machine: untrustworthy)."""
    topology: Topology | None = None
    """For a run across hosts (``--hosts``), which host ran what, each host's machine and
    the round-trip times measured before the run; null when everything ran here."""
    sections: FrozenMap[str, Json] = Field(default_factory=dict)
    """Data of other commands, by name (e.g. ``claims`` from ``fwbench claims``), each
    documented by that command."""

    @model_validator(mode="after")
    def _consistent(self) -> Results:
        if (self.status == "failed") != (self.error is not None):
            raise ValueError("error is set exactly when the status is 'failed'")
        if (self.status == "running") != (self.finished_at is None):
            raise ValueError("finished_at is set exactly when the run is no longer running")
        keys = [point.key for point in self.points]
        if len(set(keys)) != len(keys):
            raise ValueError("two points measure the same framework, server, scenario and load")
        measured = {(s.framework, s.server) for s in self.services}
        orphans = {(p.framework, p.server) for p in self.points} - measured
        if orphans:
            raise ValueError(f"points without a service run: {sorted(orphans)}")
        return self

    @classmethod
    def start(
        cls,
        command: Iterable[str],
        machine: Machine,
        placement: Placement,
        config: RunConfig,
        calibration: Calibration | None,
        notes: Iterable[str] = (),
    ) -> Results:
        """A new, running results object with nothing measured yet.

        Args:
            command: the command line that started the run.
            machine: the machine description.
            placement: the CPU placement.
            config: the resolved options.
            calibration: the load side's ceilings, None when unknown.
            notes: run-wide warnings.
        """
        return cls(
            schema_version=SCHEMA_VERSION,
            fwbench=__version__,
            command=tuple(command),
            status="running",
            error=None,
            started_at=utc_now(),
            finished_at=None,
            machine=machine,
            placement=placement,
            config=config,
            calibration=calibration,
            notes=tuple(notes),
        )

    def with_calibration(self, calibration: Calibration) -> Results:
        """A copy whose sanity checks refer to ``calibration``."""
        return replace(self, calibration=calibration)

    def with_service(self, service: ServiceRun) -> Results:
        """A copy with ``service`` appended."""
        return replace(self, services=(*self.services, service))

    def with_point(self, point: Point) -> Results:
        """A copy with ``point`` appended."""
        return replace(self, points=(*self.points, point))

    def with_cold_start(self, cold_start: ColdStart) -> Results:
        """A copy with ``cold_start`` appended."""
        return replace(self, cold_starts=(*self.cold_starts, cold_start))

    def with_import_time(self, import_time: ImportTime) -> Results:
        """A copy with ``import_time`` appended."""
        return replace(self, import_times=(*self.import_times, import_time))

    def with_topology(self, topology: Topology) -> Results:
        """A copy that records ``topology``."""
        return replace(self, topology=topology)

    def with_section(self, name: str, data: Json) -> Results:
        """A copy where ``sections[name]`` is ``data`` (JSON values only)."""
        json.dumps(data, allow_nan=False)  # refuse what the file could not store
        return replace(self, sections={**self.sections, name: data})

    def finished(self, status: str, error: str | None = None) -> Results:
        """A copy that records the end of the run.

        Args:
            status: ``complete``, ``interrupted`` or ``failed``.
            error: for ``failed``, the one-sentence error.
        """
        return replace(self, status=status, error=error, finished_at=utc_now())

    def point(self, framework: str, server: str, scenario: str, connections: int) -> Point | None:
        """The point with that key, if it was measured."""
        key = (framework, server, scenario, connections)
        return next((p for p in self.points if p.key == key), None)

    def cold_start(self, framework: str, server: str) -> ColdStart | None:
        """The cold start measured for that pair, if any."""
        return next(
            (c for c in self.cold_starts if (c.framework, c.server) == (framework, server)), None
        )

    def write(self, path: Path) -> None:
        """Write the results as JSON to ``path``, atomically: a crash while writing leaves
        the previous version intact. Creates missing directories."""
        write_json(path, dump(self))

    @classmethod
    def read(cls, path: Path) -> Results:
        """Read a results file of this or an older schema version.

        Raises:
            ResultsFormatError: unreadable, not JSON, or not a valid results file.
        """
        data = read_json(path, ResultsFormatError, "a file written by `fwbench run`")
        return cls.parse(data, path.name)

    @classmethod
    def parse(cls, data: object, where: str = "results") -> Results:
        """Validate a results file's JSON values, upgrading an older schema version.

        Args:
            data: what ``json.load`` returned.
            where: the name used in error messages (the file name).

        Raises:
            ResultsFormatError: a newer schema version, or a field that breaks the format.
        """
        return _validated(cls, upgraded(data, where), where)


# --------------------------------------------------------------------------- versions


def _update_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 stored ``config.pairs`` and ``import_times[].heaviest`` items as objects."""
    config = data.get("config")
    if isinstance(config, dict) and isinstance(config.get("pairs"), list):
        config["pairs"] = [_as_row(item, ("framework", "server")) for item in config["pairs"]]
    for import_time in data.get("import_times") or ():
        if isinstance(import_time, dict) and isinstance(import_time.get("heaviest"), list):
            import_time["heaviest"] = [
                _as_row(item, ("module", "cumulative_us")) for item in import_time["heaviest"]
            ]
    return data


def _as_row(item: object, keys: tuple[str, ...]) -> object:
    # Anything else is left as it is, for validation to name.
    if isinstance(item, dict) and set(item) == set(keys):
        return [item[key] for key in keys]
    return item


#: ``UPGRADES[n]`` turns the JSON values of a schema-``n`` file into schema ``n + 1``.
UPGRADES: Final[dict[int, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    1: _update_to_2,
    2: lambda data: data,  # schema 3 only added a section
    3: lambda data: data,  # schema 4 only added optional fields
    4: lambda data: data,  # schema 5 only added an optional field
    5: lambda data: data,  # schema 6 only added optional fields
}


def upgraded(data: object, where: str = "results") -> object:
    """The JSON values of a results file, upgraded to :data:`SCHEMA_VERSION` (pyperf and
    asv read old files the same way).

    Raises:
        ResultsFormatError: no known schema version, or a newer one than this fwbench's.
    """
    if not isinstance(data, dict):
        raise ResultsFormatError(f"{where} is not a results file (not a JSON object)", _NOT_OURS)
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ResultsFormatError(
            f"{where} has results schema version {version!r}, which no fwbench writes",
            "pass a file written by `fwbench run`",
        )
    if version > SCHEMA_VERSION:
        raise ResultsFormatError(
            f"{where} has results schema version {version}, newer than the version "
            f"{SCHEMA_VERSION} this fwbench {__version__} reads",
            "upgrade fwbench to read it",
        )
    data = dict(data)
    for step in range(version, SCHEMA_VERSION):
        data = UPGRADES[step](data)
        data["schema_version"] = step + 1
    return data


def _validated(kind: type[T], data: object, where: str) -> T:
    """``data`` validated as a ``kind``; a format error naming the broken field if not."""
    try:
        return load(kind, data)
    except ValidationError as error:
        raise ResultsFormatError(problem(error, where), _NOT_OURS) from None
    except ValueError as error:  # NaN or infinity, which JSON cannot hold
        raise ResultsFormatError(f"{where}: {error}", _NOT_OURS) from None
