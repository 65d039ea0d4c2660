"""The results file: immutable, validated value objects and their versioned JSON form.

Like pyperf's ``Benchmark`` objects, every value here is a frozen dataclass that checks
itself in ``__post_init__``, keeps every raw measurement (each wrk run, each cold start)
and derives its summaries from them, so a summary can never disagree with its data.
``to_json()`` writes summaries for readers of the file; ``from_json()`` reads the raw
values and recomputes them. The format is documented field by field in
``docs/results-schema.md`` and as a JSON Schema in ``results.schema.json`` next to
this module.

Other commands store their own data under :attr:`Results.sections` (``fwbench claims``
uses ``sections["claims"]``), with :meth:`Results.with_section`.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar

from fwbench import __version__
from fwbench.harness.errors import FwbenchError
from fwbench.harness.scenarios import SCENARIOS
from fwbench.harness.stats import Summary, summarize

#: Version of the results file format; :func:`Results.from_json` refuses other versions.
#: History (add a line, and a section to docs/results-schema.md, for every change):
#:   1 - fwbench 0.1.0: first format (run points, memory, cold start, import time,
#:       calibration, sections for other commands).
SCHEMA_VERSION: Final = 1

#: JSON values as ``json.loads`` returns them.
Json = dict[str, Any] | list[Any] | str | int | float | bool | None

T = TypeVar("T")

_MiB: Final = 1024 * 1024


class ResultsFormatError(FwbenchError):
    """A results file that cannot be read: not JSON, another schema version, or a field
    that breaks the format (the message names the field's path)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _check_timestamp(value: str, name: str) -> None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be an RFC 3339 timestamp, not {value!r}") from None
    if parsed.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone, not {value!r}")


def _check_non_negative(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, not {value}")
        if value < 0:
            raise ValueError(f"{name} cannot be negative ({value})")


def _check_cpus(cpus: tuple[int, ...], name: str) -> None:
    if not cpus or any(cpu < 0 for cpu in cpus) or len(set(cpus)) != len(cpus):
        raise ValueError(f"{name} must list distinct CPU numbers, not {list(cpus)}")


# --------------------------------------------------------------------------- reading


class _Fields:
    """Typed access to one JSON object, raising errors that name the field's path."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ResultsFormatError(
                f"{where} must be a JSON object, not {type(data).__name__}",
                "the file was not written by fwbench or was edited by hand",
            )
        self.data: dict[str, Any] = data
        self.where = where

    def _error(self, key: str, expected: str) -> ResultsFormatError:
        value = self.data.get(key, "<missing>")
        return ResultsFormatError(
            f"{self.where}.{key} must be {expected}, not {value!r}",
            "the file was not written by fwbench or was edited by hand",
        )

    def _get(self, key: str, accept: Callable[[object], bool], expected: str) -> Any:
        if key not in self.data or not accept(self.data[key]):
            raise self._error(key, expected)
        return self.data[key]

    def integer(self, key: str) -> int:
        value: int = self._get(
            key, lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"
        )
        return value

    def number(self, key: str) -> float:
        value = self._get(
            key, lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"
        )
        return float(value)

    def text(self, key: str) -> str:
        value: str = self._get(key, lambda v: isinstance(v, str), "a string")
        return value

    def flag(self, key: str) -> bool:
        value: bool = self._get(key, lambda v: isinstance(v, bool), "true or false")
        return value

    def optional(self, key: str, read: Callable[[str], T]) -> T | None:
        if key not in self.data:
            raise self._error(key, "present (null when unknown)")
        return None if self.data[key] is None else read(key)

    def array(self, key: str) -> list[Any]:
        value: list[Any] = self._get(key, lambda v: isinstance(v, list), "a list")
        return value

    def integers(self, key: str) -> tuple[int, ...]:
        values = self.array(key)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise self._error(key, "a list of integers")
        return tuple(values)

    def numbers(self, key: str) -> tuple[float, ...]:
        values = self.array(key)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise self._error(key, "a list of numbers")
        return tuple(float(v) for v in values)

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.array(key)
        if not all(isinstance(v, str) for v in values):
            raise self._error(key, "a list of strings")
        return tuple(values)

    def obj(self, key: str, read: Callable[[_Fields], T]) -> T:
        return _build(lambda: read(_Fields(self.data.get(key), f"{self.where}.{key}")))

    def optional_obj(self, key: str, read: Callable[[_Fields], T]) -> T | None:
        return self.optional(key, lambda k: self.obj(k, read))

    def objs(self, key: str, read: Callable[[_Fields], T]) -> tuple[T, ...]:
        return tuple(
            _build(partial(read, _Fields(item, f"{self.where}.{key}[{i}]")))
            for i, item in enumerate(self.array(key))
        )

    def mapping(self, key: str) -> dict[str, Any]:
        value: dict[str, Any] = self._get(key, lambda v: isinstance(v, dict), "an object")
        return value


def _build(make: Callable[[], T]) -> T:
    """Run a constructor, turning its validation error into a located format error."""
    try:
        return make()
    except ResultsFormatError:
        raise
    except ValueError as error:
        raise ResultsFormatError(
            f"invalid results data: {error}",
            "the file was not written by fwbench or was edited by hand",
        ) from None


# --------------------------------------------------------------------------- load samples


@dataclass(frozen=True)
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

    p50: int
    p75: int
    p90: int
    p99: int
    p99_9: int
    max: int
    mean: float
    stdev: float
    uncorrected_mean: float | None = None

    def __post_init__(self) -> None:
        _check_non_negative(self, "p50", "mean", "stdev")
        if self.uncorrected_mean is not None and self.uncorrected_mean < 0:
            raise ValueError(f"uncorrected_mean must not be negative: {self.uncorrected_mean}")
        order = (self.p50, self.p75, self.p90, self.p99, self.p99_9, self.max)
        if list(order) != sorted(order):
            raise ValueError(f"latency percentiles must not decrease: {order}")

    def to_json(self) -> dict[str, Json]:
        return {
            "p50": self.p50,
            "p75": self.p75,
            "p90": self.p90,
            "p99": self.p99,
            "p99_9": self.p99_9,
            "max": self.max,
            "mean": self.mean,
            "stdev": self.stdev,
            "uncorrected_mean": self.uncorrected_mean,
        }

    @classmethod
    def from_json(cls, f: _Fields) -> Latency:
        return cls(
            p50=f.integer("p50"),
            p75=f.integer("p75"),
            p90=f.integer("p90"),
            p99=f.integer("p99"),
            p99_9=f.integer("p99_9"),
            max=f.integer("max"),
            mean=f.number("mean"),
            stdev=f.number("stdev"),
            # Absent from results written before fwbench undid wrk's correction.
            uncorrected_mean=(
                f.optional("uncorrected_mean", f.number) if "uncorrected_mean" in f.data else None
            ),
        )


@dataclass(frozen=True)
class SocketErrors:
    """wrk's socket-level errors of one run, by kind. ``timeout`` counts requests that got
    no response within wrk's ``--timeout``."""

    connect: int
    read: int
    write: int
    timeout: int

    def __post_init__(self) -> None:
        _check_non_negative(self, "connect", "read", "write", "timeout")

    @property
    def total(self) -> int:
        """All socket errors."""
        return self.connect + self.read + self.write + self.timeout

    def to_json(self) -> dict[str, Json]:
        return {
            "connect": self.connect,
            "read": self.read,
            "write": self.write,
            "timeout": self.timeout,
        }

    @classmethod
    def from_json(cls, f: _Fields) -> SocketErrors:
        return cls(
            connect=f.integer("connect"),
            read=f.integer("read"),
            write=f.integer("write"),
            timeout=f.integer("timeout"),
        )


@dataclass(frozen=True)
class LoadSample:
    """One wrk run: what the Lua reporter (``lua/fwbench_report.lua``) printed.

    Attributes:
        requests: responses received (complete HTTP responses, any status).
        duration_us: wall-clock length of the run.
        bytes: bytes read from the server.
        errors: socket errors by kind.
        statuses: responses by HTTP status; the counts add up to ``requests``.
        latency_us: latency distribution.
    """

    requests: int
    duration_us: int
    bytes: int
    errors: SocketErrors
    statuses: Mapping[int, int]
    latency_us: Latency

    def __post_init__(self) -> None:
        _check_non_negative(self, "requests", "bytes")
        if self.duration_us <= 0:
            raise ValueError(f"duration_us must be positive, not {self.duration_us}")
        if any(not 100 <= status <= 599 or n < 0 for status, n in self.statuses.items()):
            raise ValueError(f"statuses must map HTTP statuses to counts: {dict(self.statuses)}")
        if sum(self.statuses.values()) != self.requests:
            raise ValueError(
                f"status counts add up to {sum(self.statuses.values())}, "
                f"not to the {self.requests} requests"
            )
        # A read-only view: a plain dict would let a caller mutate a frozen sample.
        object.__setattr__(self, "statuses", MappingProxyType(dict(self.statuses)))

    @property
    def throughput(self) -> float:
        """Responses per second."""
        return self.requests / (self.duration_us / 1e6)

    def unexpected(self, expected: Iterable[int] = ()) -> dict[int, int]:
        """Responses whose status is neither 2xx nor in ``expected``, by status."""
        allowed = set(expected)
        return {
            status: n
            for status, n in sorted(self.statuses.items())
            if not 200 <= status <= 299 and status not in allowed and n
        }

    def to_json(self) -> dict[str, Json]:
        return {
            "requests": self.requests,
            "duration_us": self.duration_us,
            "bytes": self.bytes,
            "errors": self.errors.to_json(),
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
            "latency_us": self.latency_us.to_json(),
            "throughput_rps": self.throughput,
        }

    @classmethod
    def from_json(cls, f: _Fields) -> LoadSample:
        statuses: dict[int, int] = {}
        for key, n in f.mapping("statuses").items():
            if not key.isdigit() or not isinstance(n, int) or isinstance(n, bool):
                raise f._error("statuses", 'an object of "status": count')
            statuses[int(key)] = n
        return cls(
            requests=f.integer("requests"),
            duration_us=f.integer("duration_us"),
            bytes=f.integer("bytes"),
            errors=f.obj("errors", SocketErrors.from_json),
            statuses=statuses,
            latency_us=f.obj("latency_us", Latency.from_json),
        )


def _summary_json(summary: Summary) -> dict[str, Json]:
    return {
        "n": summary.n,
        "median": summary.median,
        "mean": summary.mean,
        "min": summary.min,
        "max": summary.max,
        "stdev": summary.stdev,
        "cv": summary.cv,
    }


# --------------------------------------------------------------------------- sanity


@dataclass(frozen=True)
class SanityCheck:
    """One sanity check of a point (see :mod:`fwbench.harness.sanity`).

    Attributes:
        name: the rule, e.g. ``"littles_law"``, ``"generator_bound"``, ``"unstable"``.
        passed: whether the point satisfies it.
        value: the measured quantity the rule compares, when it has one.
        limit: the threshold it was compared with, when it has one.
        message: one sentence with the numbers.
        action: what to do about a failed check; None when it passed.
    """

    name: str
    passed: bool
    value: float | None
    limit: float | None
    message: str
    action: str | None

    def __post_init__(self) -> None:
        if not self.name or not self.message:
            raise ValueError("a sanity check needs a name and a message")
        if not self.passed and not self.action:
            raise ValueError(f"failed sanity check {self.name!r} must say what to do")

    def to_json(self) -> dict[str, Json]:
        return {
            "name": self.name,
            "passed": self.passed,
            "value": self.value,
            "limit": self.limit,
            "message": self.message,
            "action": self.action,
        }

    @classmethod
    def from_json(cls, f: _Fields) -> SanityCheck:
        return cls(
            name=f.text("name"),
            passed=f.flag("passed"),
            value=f.optional("value", f.number),
            limit=f.optional("limit", f.number),
            message=f.text("message"),
            action=f.optional("action", f.text),
        )


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class MemoryUse:
    """Memory of one process or of a whole tree, in bytes.

    ``rss`` counts shared pages in every process that maps them; ``uss`` is memory only
    this process uses (what killing it frees); ``pss`` shares each shared page among the
    processes mapping it, so PSS adds up to the tree's real footprint.
    """

    rss: int
    uss: int
    pss: int

    def __post_init__(self) -> None:
        _check_non_negative(self, "rss", "uss", "pss")

    def to_json(self) -> dict[str, Json]:
        return {"rss": self.rss, "uss": self.uss, "pss": self.pss}

    @classmethod
    def from_json(cls, f: _Fields) -> MemoryUse:
        return cls(rss=f.integer("rss"), uss=f.integer("uss"), pss=f.integer("pss"))


ROLES: Final = ("master", "worker", "single")


@dataclass(frozen=True)
class ProcessMemory:
    """Memory of one process of the service's tree during a point.

    Attributes:
        pid: process id.
        role: ``"master"`` (the root of a multi-process server, which serves no request),
            ``"worker"`` (a process under it) or ``"single"`` (a one-process server).
        name: the process name, e.g. ``"gunicorn"``.
        steady: median over the samples taken while it was measured under load.
        peak: maximum over every sample.
    """

    pid: int
    role: str
    name: str
    steady: MemoryUse
    peak: MemoryUse

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {self.role!r}")
        if self.pid <= 0:
            raise ValueError(f"pid must be positive, not {self.pid}")

    def to_json(self) -> dict[str, Json]:
        return {
            "pid": self.pid,
            "role": self.role,
            "name": self.name,
            "steady": self.steady.to_json(),
            "peak": self.peak.to_json(),
        }

    @classmethod
    def from_json(cls, f: _Fields) -> ProcessMemory:
        return cls(
            pid=f.integer("pid"),
            role=f.text("role"),
            name=f.text("name"),
            steady=f.obj("steady", MemoryUse.from_json),
            peak=f.obj("peak", MemoryUse.from_json),
        )


@dataclass(frozen=True)
class MemoryProfile:
    """The memory of the service's whole process tree while a point was measured.

    Attributes:
        samples: how many times the tree was sampled.
        interval_s: seconds between samples.
        steady: tree total (each process summed), median over the samples under load.
        peak: the largest tree total of any sample.
        processes: each process of the tree, master first.
    """

    samples: int
    interval_s: float
    steady: MemoryUse
    peak: MemoryUse
    processes: tuple[ProcessMemory, ...]

    def __post_init__(self) -> None:
        if self.samples < 1 or self.interval_s <= 0:
            raise ValueError("a memory profile needs at least one sample and a positive interval")
        if not self.processes:
            raise ValueError("a memory profile needs at least one process")

    @property
    def serving(self) -> tuple[ProcessMemory, ...]:
        """The processes that serve requests: the workers, or the single process."""
        return tuple(p for p in self.processes if p.role != "master")

    @property
    def per_worker(self) -> MemoryUse:
        """Median steady memory of one serving process."""
        serving = self.serving or self.processes

        def median(values: list[int]) -> int:
            return round(summarize(values).median)

        return MemoryUse(
            rss=median([p.steady.rss for p in serving]),
            uss=median([p.steady.uss for p in serving]),
            pss=median([p.steady.pss for p in serving]),
        )

    def to_json(self) -> dict[str, Json]:
        return {
            "samples": self.samples,
            "interval_s": self.interval_s,
            "steady": self.steady.to_json(),
            "peak": self.peak.to_json(),
            "per_worker": self.per_worker.to_json(),
            "workers": len(self.serving),
            "processes": [p.to_json() for p in self.processes],
        }

    @classmethod
    def from_json(cls, f: _Fields) -> MemoryProfile:
        return cls(
            samples=f.integer("samples"),
            interval_s=f.number("interval_s"),
            steady=f.obj("steady", MemoryUse.from_json),
            peak=f.obj("peak", MemoryUse.from_json),
            processes=f.objs("processes", ProcessMemory.from_json),
        )


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class ServiceRun:
    """One start of a service under a server: exactly what was measured.

    Attributes:
        framework: ``fastapi``, ``flask`` or ``django``.
        server: the server name, e.g. ``gunicorn-sync``.
        workers: worker processes.
        threads: threads per worker, or None when the server's default applies.
        advice: the documented rule behind the sizing and its source.
        command: the exact argv the service ran with.
        cpus: the CPUs it was pinned to.
        database: the database it used, with any password removed.
    """

    framework: str
    server: str
    workers: int
    threads: int | None
    advice: str
    command: tuple[str, ...]
    cpus: tuple[int, ...]
    database: str

    def __post_init__(self) -> None:
        if not self.framework or not self.server or not self.command:
            raise ValueError("a service run needs a framework, a server and a command")
        if self.workers < 1 or (self.threads is not None and self.threads < 1):
            raise ValueError("workers and threads must be at least 1")
        _check_cpus(self.cpus, "cpus")

    def to_json(self) -> dict[str, Json]:
        return {
            "framework": self.framework,
            "server": self.server,
            "workers": self.workers,
            "threads": self.threads,
            "advice": self.advice,
            "command": list(self.command),
            "cpus": list(self.cpus),
            "database": self.database,
        }

    @classmethod
    def from_json(cls, f: _Fields) -> ServiceRun:
        return cls(
            framework=f.text("framework"),
            server=f.text("server"),
            workers=f.integer("workers"),
            threads=f.optional("threads", f.integer),
            advice=f.text("advice"),
            command=f.texts("command"),
            cpus=f.integers("cpus"),
            database=f.text("database"),
        )


# --------------------------------------------------------------------------- points


@dataclass(frozen=True)
class Point:
    """One benchmark point: a framework on a server, one scenario, one concurrency.

    Attributes:
        framework: ``fastapi``, ``flask`` or ``django``.
        server: the server name; :attr:`Results.services` has its command line.
        scenario: the scenario name (:data:`fwbench.harness.scenarios.SCENARIOS`).
        path: the path wrk requested, ``/`` for the scripted ``transactions`` mix.
        connections: wrk's open connections (the closed-loop concurrency).
        expected_statuses: non-2xx statuses the scenario sends on purpose.
        warmup: the warm-up run, discarded from the statistics; None without warm-up.
        repeats: the measured runs.
        memory: the service's memory while the point ran, None if it could not be read.
        sanity: the sanity checks, passed or not.

    Derived (written to the file for readers, recomputed when it is read):
        throughput: summary of the repeats' responses per second.
        latency_p50_us / latency_p99_us: summaries of the repeats' percentiles.
        problems: why the point is invalid (unexpected statuses, socket errors);
            empty for a valid point.
    """

    framework: str
    server: str
    scenario: str
    path: str
    connections: int
    expected_statuses: tuple[int, ...]
    warmup: LoadSample | None
    repeats: tuple[LoadSample, ...]
    memory: MemoryProfile | None
    sanity: tuple[SanityCheck, ...]
    throughput: Summary = field(init=False)
    latency_p50_us: Summary = field(init=False)
    latency_p99_us: Summary = field(init=False)
    problems: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.framework or not self.server or not self.path:
            raise ValueError("a point needs a framework, a server and a path")
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}")
        if self.connections < 1:
            raise ValueError(f"connections must be at least 1, not {self.connections}")
        if not self.repeats:
            raise ValueError("a point needs at least one measured repeat")
        names = [check.name for check in self.sanity]
        if len(set(names)) != len(names):
            raise ValueError(f"sanity check names must be unique: {names}")
        object.__setattr__(self, "throughput", summarize([s.throughput for s in self.repeats]))
        object.__setattr__(
            self, "latency_p50_us", summarize([s.latency_us.p50 for s in self.repeats])
        )
        object.__setattr__(
            self, "latency_p99_us", summarize([s.latency_us.p99 for s in self.repeats])
        )
        object.__setattr__(self, "problems", self._problems())

    def _problems(self) -> tuple[str, ...]:
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
            if sample.errors.total:
                kinds = ", ".join(f"{n} {kind}" for kind, n in sample.errors.to_json().items() if n)
                problems.append(f"repeat {i}: socket errors ({kinds})")
        return tuple(problems)

    @property
    def key(self) -> tuple[str, str, str, int]:
        """What identifies the point within a run: framework, server, scenario, connections."""
        return (self.framework, self.server, self.scenario, self.connections)

    @property
    def valid(self) -> bool:
        """True when every repeat got responses, all 2xx or expected, and no socket error."""
        return not self.problems

    @property
    def failed_checks(self) -> tuple[SanityCheck, ...]:
        """The sanity checks the point does not pass."""
        return tuple(check for check in self.sanity if not check.passed)

    def to_json(self) -> dict[str, Json]:
        return {
            "framework": self.framework,
            "server": self.server,
            "scenario": self.scenario,
            "path": self.path,
            "connections": self.connections,
            "expected_statuses": list(self.expected_statuses),
            "valid": self.valid,
            "problems": list(self.problems),
            "throughput_rps": _summary_json(self.throughput),
            "latency_p50_us": _summary_json(self.latency_p50_us),
            "latency_p99_us": _summary_json(self.latency_p99_us),
            "sanity": [check.to_json() for check in self.sanity],
            "memory": self.memory.to_json() if self.memory else None,
            "warmup": self.warmup.to_json() if self.warmup else None,
            "repeats": [sample.to_json() for sample in self.repeats],
        }

    @classmethod
    def from_json(cls, f: _Fields) -> Point:
        return cls(
            framework=f.text("framework"),
            server=f.text("server"),
            scenario=f.text("scenario"),
            path=f.text("path"),
            connections=f.integer("connections"),
            expected_statuses=f.integers("expected_statuses"),
            warmup=f.optional_obj("warmup", LoadSample.from_json),
            repeats=f.objs("repeats", LoadSample.from_json),
            memory=f.optional_obj("memory", MemoryProfile.from_json),
            sanity=f.objs("sanity", SanityCheck.from_json),
        )


# --------------------------------------------------------------------------- start-up


@dataclass(frozen=True)
class ColdStart:
    """Cold starts of one framework on one server: each spawn timed to its first answers.

    Attributes:
        framework / server: what was started (same command line as its service run).
        healthz_ms: per spawn, milliseconds from spawn to the first 2xx ``GET /healthz``.
        first_request_ms: per spawn, milliseconds from spawn to the first 2xx domain
            request (``first_request_path``), which includes lazy initialisation.
        first_request_path: the domain request used.

    Derived: ``healthz`` and ``first_request`` summaries.
    """

    framework: str
    server: str
    healthz_ms: tuple[float, ...]
    first_request_ms: tuple[float, ...]
    first_request_path: str
    healthz: Summary = field(init=False)
    first_request: Summary = field(init=False)

    def __post_init__(self) -> None:
        if len(self.healthz_ms) != len(self.first_request_ms) or not self.healthz_ms:
            raise ValueError("cold starts need one first-request time per healthz time")
        if any(
            h <= 0 or r < h for h, r in zip(self.healthz_ms, self.first_request_ms, strict=True)
        ):
            raise ValueError("cold start times must be positive, first request after healthz")
        object.__setattr__(self, "healthz", summarize(self.healthz_ms))
        object.__setattr__(self, "first_request", summarize(self.first_request_ms))

    def to_json(self) -> dict[str, Json]:
        return {
            "framework": self.framework,
            "server": self.server,
            "first_request_path": self.first_request_path,
            "healthz_ms": list(self.healthz_ms),
            "first_request_ms": list(self.first_request_ms),
            "healthz": _summary_json(self.healthz),
            "first_request": _summary_json(self.first_request),
        }

    @classmethod
    def from_json(cls, f: _Fields) -> ColdStart:
        return cls(
            framework=f.text("framework"),
            server=f.text("server"),
            healthz_ms=f.numbers("healthz_ms"),
            first_request_ms=f.numbers("first_request_ms"),
            first_request_path=f.text("first_request_path"),
        )


@dataclass(frozen=True)
class ImportTime:
    """``python -X importtime`` of a service's application module.

    Attributes:
        framework: the service.
        module: the module imported (the one its server loads).
        samples_us: cumulative import time of ``module`` in each fresh interpreter.
        heaviest: the costliest top-level imports of the last sample, as
            ``(module, cumulative microseconds)``, largest first.

    Derived: ``cumulative`` summary of ``samples_us``.
    """

    framework: str
    module: str
    samples_us: tuple[int, ...]
    heaviest: tuple[tuple[str, int], ...]
    cumulative: Summary = field(init=False)

    def __post_init__(self) -> None:
        if not self.samples_us or any(us <= 0 for us in self.samples_us):
            raise ValueError("import time needs positive samples")
        object.__setattr__(self, "cumulative", summarize(self.samples_us))

    def to_json(self) -> dict[str, Json]:
        return {
            "framework": self.framework,
            "module": self.module,
            "samples_us": list(self.samples_us),
            "cumulative_us": _summary_json(self.cumulative),
            "heaviest": [{"module": m, "cumulative_us": us} for m, us in self.heaviest],
        }

    @classmethod
    def from_json(cls, f: _Fields) -> ImportTime:
        heaviest = f.objs("heaviest", lambda g: (g.text("module"), g.integer("cumulative_us")))
        return cls(
            framework=f.text("framework"),
            module=f.text("module"),
            samples_us=f.integers("samples_us"),
            heaviest=heaviest,
        )


# --------------------------------------------------------------------------- machine


@dataclass(frozen=True)
class Machine:
    """The machine and software a run measured (see :mod:`fwbench.harness.machine`).

    Attributes:
        hostname: the machine's name.
        cpu_model: the CPU model string.
        logical_cpus: CPUs the operating system reports.
        usable_cpus: CPUs this process may run on (its affinity mask).
        memory_bytes: total RAM.
        os: operating system and release, e.g. ``Linux-6.1.0-...-x86_64-with-glibc2.36``.
        python: Python implementation and version, e.g. ``CPython 3.11.2``.
        wrk: ``wrk -v``'s version line.
        packages: installed version of each framework, server, driver and tool package.
    """

    hostname: str
    cpu_model: str
    logical_cpus: int
    usable_cpus: int
    memory_bytes: int
    os: str
    python: str
    wrk: str
    packages: Mapping[str, str]

    def __post_init__(self) -> None:
        if self.logical_cpus < 1 or not 1 <= self.usable_cpus <= self.logical_cpus:
            raise ValueError(
                f"cpu counts are inconsistent: {self.usable_cpus} usable of {self.logical_cpus}"
            )
        if self.memory_bytes <= 0:
            raise ValueError("memory_bytes must be positive")
        object.__setattr__(self, "packages", MappingProxyType(dict(sorted(self.packages.items()))))

    def differences(self, other: Machine) -> list[str]:
        """What makes ``other`` a different machine (host, CPU, cores, memory), as phrases."""
        fields = (
            ("host", self.hostname, other.hostname),
            ("CPU", self.cpu_model, other.cpu_model),
            ("usable cores", self.usable_cpus, other.usable_cpus),
            ("memory", f"{self.memory_bytes // _MiB} MiB", f"{other.memory_bytes // _MiB} MiB"),
        )
        return [f"{name} {a} vs {b}" for name, a, b in fields if a != b]

    def to_json(self) -> dict[str, Json]:
        return {
            "hostname": self.hostname,
            "cpu_model": self.cpu_model,
            "logical_cpus": self.logical_cpus,
            "usable_cpus": self.usable_cpus,
            "memory_bytes": self.memory_bytes,
            "os": self.os,
            "python": self.python,
            "wrk": self.wrk,
            "packages": dict(self.packages),
        }

    @classmethod
    def from_json(cls, f: _Fields) -> Machine:
        packages = f.mapping("packages")
        if not all(isinstance(v, str) for v in packages.values()):
            raise f._error("packages", 'an object of "package": "version"')
        return cls(
            hostname=f.text("hostname"),
            cpu_model=f.text("cpu_model"),
            logical_cpus=f.integer("logical_cpus"),
            usable_cpus=f.integer("usable_cpus"),
            memory_bytes=f.integer("memory_bytes"),
            os=f.text("os"),
            python=f.text("python"),
            wrk=f.text("wrk"),
            packages=packages,
        )


@dataclass(frozen=True)
class Placement:
    """Which CPUs the service and the load (wrk, the downstream, fwbench) ran on.

    ``trustworthy`` is False when both had to share cores (a 1-core machine): the
    generator then steals CPU from the service and the figures are not trustworthy.
    """

    service_cpus: tuple[int, ...]
    load_cpus: tuple[int, ...]

    def __post_init__(self) -> None:
        _check_cpus(self.service_cpus, "service_cpus")
        _check_cpus(self.load_cpus, "load_cpus")

    @property
    def trustworthy(self) -> bool:
        """True when the service has cores of its own."""
        return not set(self.service_cpus) & set(self.load_cpus)

    def to_json(self) -> dict[str, Json]:
        return {
            "service_cpus": list(self.service_cpus),
            "load_cpus": list(self.load_cpus),
            "trustworthy": self.trustworthy,
        }

    @classmethod
    def from_json(cls, f: _Fields) -> Placement:
        return cls(service_cpus=f.integers("service_cpus"), load_cpus=f.integers("load_cpus"))


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationLevel:
    """The load side's ceilings at one concurrency.

    Attributes:
        connections: wrk's connections.
        generator: wrk on the load CPUs against the downstream's ``/delay?ms=0`` pinned
            to the service CPUs: the most a trivial server can be driven, i.e. the load
            generator's ceiling.
        downstream: wrk against the downstream, both on the load CPUs, as placed during
            a run: the ceiling of what the load CPUs can both generate and serve, which
            bounds ``io`` and ``transactions`` (every request costs one downstream call).
    """

    connections: int
    generator: LoadSample
    downstream: LoadSample

    def __post_init__(self) -> None:
        if self.connections < 1:
            raise ValueError(f"connections must be at least 1, not {self.connections}")
        if not self.generator.requests or not self.downstream.requests:
            raise ValueError("a calibration level needs a non-zero throughput for both ceilings")

    def to_json(self) -> dict[str, Json]:
        return {
            "connections": self.connections,
            "generator": self.generator.to_json(),
            "downstream": self.downstream.to_json(),
        }

    @classmethod
    def from_json(cls, f: _Fields) -> CalibrationLevel:
        return cls(
            connections=f.integer("connections"),
            generator=f.obj("generator", LoadSample.from_json),
            downstream=f.obj("downstream", LoadSample.from_json),
        )


@dataclass(frozen=True)
class Calibration:
    """``fwbench calibrate``'s measurement of the load side's ceilings on this machine.

    Attributes:
        measured_at: RFC 3339 UTC time.
        hostname / cpu_model: the machine it holds for.
        wrk: ``wrk -v``'s version line.
        placement: the CPUs used, as during a run.
        threads: wrk threads.
        duration_s: seconds per measurement.
        levels: one per concurrency, ascending.
    """

    measured_at: str
    hostname: str
    cpu_model: str
    wrk: str
    placement: Placement
    threads: int
    duration_s: int
    levels: tuple[CalibrationLevel, ...]

    def __post_init__(self) -> None:
        _check_timestamp(self.measured_at, "measured_at")
        if self.threads < 1 or self.duration_s < 1:
            raise ValueError("threads and duration_s must be at least 1")
        connections = [level.connections for level in self.levels]
        if not connections or connections != sorted(set(connections)):
            raise ValueError(f"calibration levels must be distinct and ascending: {connections}")

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

    def to_json(self) -> dict[str, Json]:
        return {
            "measured_at": self.measured_at,
            "hostname": self.hostname,
            "cpu_model": self.cpu_model,
            "wrk": self.wrk,
            "placement": self.placement.to_json(),
            "threads": self.threads,
            "duration_s": self.duration_s,
            "levels": [level.to_json() for level in self.levels],
        }

    @classmethod
    def from_json(cls, f: _Fields) -> Calibration:
        return cls(
            measured_at=f.text("measured_at"),
            hostname=f.text("hostname"),
            cpu_model=f.text("cpu_model"),
            wrk=f.text("wrk"),
            placement=f.obj("placement", Placement.from_json),
            threads=f.integer("threads"),
            duration_s=f.integer("duration_s"),
            levels=f.objs("levels", CalibrationLevel.from_json),
        )

    def write(self, path: Path) -> None:
        """Write the calibration as JSON to ``path`` (atomically, creating directories)."""
        _write_json(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> Calibration:
        """Read a calibration file.

        Raises:
            ResultsFormatError: unreadable, not JSON, or not a calibration.
        """
        return _build(lambda: cls.from_json(_Fields(_read_json(path), path.name)))


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class RunConfig:
    """What ``fwbench run`` was asked to measure (its options, resolved).

    Attributes:
        pairs: the ``(framework, server)`` pairs measured, in order.
        servers: the ``--servers`` selection as given (``canonical``, ``all`` or names).
        scenarios: scenario names, in order.
        connections: wrk connections; several values make a sweep.
        duration_s: seconds per measured repeat.
        warmup_s: seconds of warm-up before each point's repeats (0: none).
        repeats: measured repeats per point.
        workers: worker processes forced with ``--workers``; None applies each server's
            documented rule.
        database: None for the embedded SQLite default, else the ``--database`` URL with
            any password removed.
        downstream_latency_ms: the ``io`` scenario's downstream delay.
        cold_starts: spawns timed per pair for cold start (0: not measured).
        wrk_threads: wrk threads (one per load CPU).
        timeout_s: wrk's ``--timeout``: a request without response after it is an error.
    """

    pairs: tuple[tuple[str, str], ...]
    servers: str
    scenarios: tuple[str, ...]
    connections: tuple[int, ...]
    duration_s: int
    warmup_s: int
    repeats: int
    workers: int | None
    database: str | None
    downstream_latency_ms: int
    cold_starts: int
    wrk_threads: int
    timeout_s: int

    def __post_init__(self) -> None:
        if not self.pairs or len(set(self.pairs)) != len(self.pairs):
            raise ValueError("pairs must list distinct (framework, server) pairs")
        unknown = [s for s in self.scenarios if s not in SCENARIOS]
        if unknown or len(set(self.scenarios)) != len(self.scenarios):
            raise ValueError(f"scenarios must be distinct names of {list(SCENARIOS)}")
        if not self.connections or any(c < 1 for c in self.connections):
            raise ValueError(f"connections must be at least 1: {list(self.connections)}")
        if self.duration_s < 1 or self.repeats < 1 or self.wrk_threads < 1 or self.timeout_s < 1:
            raise ValueError("duration, repeats, wrk threads and timeout must be at least 1")
        if self.warmup_s < 0 or self.cold_starts < 0 or self.downstream_latency_ms < 0:
            raise ValueError("warm-up, cold starts and downstream latency cannot be negative")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers must be at least 1")
        if any(c < self.wrk_threads for c in self.connections):
            raise ValueError("every connection count must be at least the wrk thread count")

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
        }

    def to_json(self) -> dict[str, Json]:
        return {
            "pairs": [{"framework": f, "server": s} for f, s in self.pairs],
            "servers": self.servers,
            "scenarios": list(self.scenarios),
            "connections": list(self.connections),
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "repeats": self.repeats,
            "workers": self.workers,
            "database": self.database,
            "downstream_latency_ms": self.downstream_latency_ms,
            "cold_starts": self.cold_starts,
            "wrk_threads": self.wrk_threads,
            "timeout_s": self.timeout_s,
        }

    @classmethod
    def from_json(cls, f: _Fields) -> RunConfig:
        return cls(
            pairs=f.objs("pairs", lambda g: (g.text("framework"), g.text("server"))),
            servers=f.text("servers"),
            scenarios=f.texts("scenarios"),
            connections=f.integers("connections"),
            duration_s=f.integer("duration_s"),
            warmup_s=f.integer("warmup_s"),
            repeats=f.integer("repeats"),
            workers=f.optional("workers", f.integer),
            database=f.optional("database", f.text),
            downstream_latency_ms=f.integer("downstream_latency_ms"),
            cold_starts=f.integer("cold_starts"),
            wrk_threads=f.integer("wrk_threads"),
            timeout_s=f.integer("timeout_s"),
        )


# --------------------------------------------------------------------------- results

STATUSES: Final = ("running", "complete", "interrupted", "failed")


@dataclass(frozen=True)
class Results:
    """A results file: one ``fwbench run``, written after every completed point.

    Attributes:
        schema_version: :data:`SCHEMA_VERSION`.
        fwbench: the fwbench version that wrote it.
        command: the command line, e.g. ``("fwbench", "run", "--repeats", "5")``.
        status: ``running`` while measuring; ``complete``; ``interrupted`` (Ctrl-C, the
            points so far are kept); ``failed`` (an error stopped it; see ``error``).
        error: the error that stopped a failed run, else None.
        started_at / finished_at: RFC 3339 UTC; ``finished_at`` is None while running.
        machine: the machine and software versions.
        placement: the CPUs of the service and of the load.
        config: the resolved options.
        calibration: the load side's ceilings the sanity checks used, None if unknown.
        services: every service start measured, with its exact command line.
        points: the measured points, in measurement order.
        cold_starts: cold start per pair.
        import_times: import time per framework.
        notes: warnings that concern the whole run (e.g. a 1-core machine).
        sections: data of other commands, by name (e.g. ``claims``), each documented by
            the command that writes it.
    """

    schema_version: int
    fwbench: str
    command: tuple[str, ...]
    status: str
    error: str | None
    started_at: str
    finished_at: str | None
    machine: Machine
    placement: Placement
    config: RunConfig
    calibration: Calibration | None
    services: tuple[ServiceRun, ...] = ()
    points: tuple[Point, ...] = ()
    cold_starts: tuple[ColdStart, ...] = ()
    import_times: tuple[ImportTime, ...] = ()
    notes: tuple[str, ...] = ()
    sections: Mapping[str, Json] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version must be {SCHEMA_VERSION}, not {self.schema_version}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if (self.status == "failed") != (self.error is not None):
            raise ValueError("error is set exactly when the status is 'failed'")
        _check_timestamp(self.started_at, "started_at")
        if self.finished_at is not None:
            _check_timestamp(self.finished_at, "finished_at")
        if (self.status == "running") != (self.finished_at is None):
            raise ValueError("finished_at is set exactly when the run is no longer running")
        keys = [point.key for point in self.points]
        if len(set(keys)) != len(keys):
            raise ValueError("two points measure the same framework, server, scenario and load")
        measured = {(s.framework, s.server) for s in self.services}
        orphans = {(p.framework, p.server) for p in self.points} - measured
        if orphans:
            raise ValueError(f"points without a service run: {sorted(orphans)}")
        object.__setattr__(self, "sections", MappingProxyType(dict(self.sections)))

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
            started_at=_now(),
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
        return replace(self, status=status, error=error, finished_at=_now())

    def point(self, framework: str, server: str, scenario: str, connections: int) -> Point | None:
        """The point with that key, if it was measured."""
        key = (framework, server, scenario, connections)
        return next((p for p in self.points if p.key == key), None)

    def heaviest_memory(self, framework: str, server: str) -> Point | None:
        """The point of that pair with the largest steady memory (PSS of the whole process
        tree): its footprint under the heaviest load measured, the figure to plan capacity
        with. One definition for the terminal, the report and ``advise``; None when memory
        was not profiled."""
        profiled = [
            p
            for p in self.points
            if (p.framework, p.server) == (framework, server) and p.memory is not None
        ]
        return max(profiled, key=lambda p: p.memory.steady.pss if p.memory else 0, default=None)

    def cold_start(self, framework: str, server: str) -> ColdStart | None:
        """The cold start measured for that pair, if any."""
        return next(
            (c for c in self.cold_starts if (c.framework, c.server) == (framework, server)), None
        )

    def to_json(self) -> dict[str, Json]:
        return {
            "schema_version": self.schema_version,
            "fwbench": self.fwbench,
            "command": list(self.command),
            "status": self.status,
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "machine": self.machine.to_json(),
            "placement": self.placement.to_json(),
            "config": self.config.to_json(),
            "calibration": self.calibration.to_json() if self.calibration else None,
            "notes": list(self.notes),
            "services": [s.to_json() for s in self.services],
            "points": [p.to_json() for p in self.points],
            "cold_starts": [c.to_json() for c in self.cold_starts],
            "import_times": [i.to_json() for i in self.import_times],
            "sections": dict(self.sections),
        }

    @classmethod
    def from_json(cls, data: Json, where: str = "results") -> Results:
        """Rebuild results from parsed JSON.

        Args:
            data: what ``json.load`` returned.
            where: the name used in error messages (the file name).

        Raises:
            ResultsFormatError: another schema version, or a field that breaks the format.
        """
        f = _Fields(data, where)
        version = f.data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ResultsFormatError(
                f"{where} has results schema version {version!r}; this fwbench reads "
                f"version {SCHEMA_VERSION}",
                "rerun `fwbench run` with this version, or use the fwbench that wrote it",
            )
        return _build(
            lambda: cls(
                schema_version=f.integer("schema_version"),
                fwbench=f.text("fwbench"),
                command=f.texts("command"),
                status=f.text("status"),
                error=f.optional("error", f.text),
                started_at=f.text("started_at"),
                finished_at=f.optional("finished_at", f.text),
                machine=f.obj("machine", Machine.from_json),
                placement=f.obj("placement", Placement.from_json),
                config=f.obj("config", RunConfig.from_json),
                calibration=f.optional_obj("calibration", Calibration.from_json),
                notes=f.texts("notes"),
                services=f.objs("services", ServiceRun.from_json),
                points=f.objs("points", Point.from_json),
                cold_starts=f.objs("cold_starts", ColdStart.from_json),
                import_times=f.objs("import_times", ImportTime.from_json),
                sections=f.mapping("sections"),
            )
        )

    def write(self, path: Path) -> None:
        """Write the results as JSON to ``path``, atomically: a crash while writing leaves
        the previous version intact. Creates missing directories."""
        _write_json(path, self.to_json())

    @classmethod
    def read(cls, path: Path) -> Results:
        """Read a results file.

        Raises:
            ResultsFormatError: unreadable, not JSON, or not a valid results file.
        """
        return cls.from_json(_read_json(path), path.name)


def _write_json(path: Path, data: Json) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(text)
    Path(handle.name).replace(path)


def _read_json(path: Path) -> Json:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ResultsFormatError(
            f"cannot read {path}: {error.strerror}", "check the path and its permissions"
        ) from None
    try:
        data: Json = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsFormatError(
            f"{path} is not JSON ({error.msg} at line {error.lineno})",
            "pass a file written by `fwbench run` or `fwbench calibrate`",
        ) from None
    return data
