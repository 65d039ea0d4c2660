"""The stored model: raw points, the parameters fitted from them, and the validation,
as frozen, strict pydantic models with a schema version of their own: the document is
the ``model`` section of the results file ``fwbench model`` writes (results schema 3).

Numbers are in the units their names say (``_ms``, ``_mb`` = 10^6 bytes, ``_s``); an
unbounded number of slots is ``None`` (JSON has no infinity).
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Version of this document's layout; bump it when a field changes meaning or goes.
SCHEMA_VERSION: Final = 1

#: Scenarios whose CPU cost the model holds.
SCENARIOS: Final[tuple[str, ...]] = ("io", "json", "db", "transactions")

Role = Literal["fit", "validate"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


class Setup(_Record):
    """One configuration of a pair, as started: ``routes`` is ``def`` for FastAPI's
    plain-``def`` io route (anyio's thread pool), else ``native``."""

    framework: str
    server: str
    routes: Literal["native", "def"] = "native"
    workers: int = Field(ge=1)
    threads: int | None = Field(default=None, ge=1)
    cores: int = Field(ge=1)

    @property
    def pair(self) -> str:
        """The pair's name, e.g. ``flask/gunicorn-gthread`` or ``fastapi/uvicorn+def``."""
        return pair_name(self.framework, self.server, self.routes)

    @property
    def label(self) -> str:
        """e.g. ``flask/gunicorn-gthread 3x2`` (workers x threads)."""
        threads = "" if self.threads is None else f"x{self.threads}"
        return f"{self.pair} {self.workers}{threads}"


def pair_name(framework: str, server: str, routes: str = "native") -> str:
    """``framework/server``, with ``+def`` for FastAPI's ``def`` routes."""
    return f"{framework}/{server}" + ("+def" if routes == "def" else "")


class Point(_Record):
    """One wrk run against one setup.

    ``cpu_s`` is the CPU time (user + system) of the service's whole process tree over
    ``window_s`` seconds around the run, from psutil; ``others_cpu_s`` the time the
    service's CPUs spent on anything else (other processes, the hypervisor's steal) in
    that window; ``rps`` counts the responses the
    scenario expects (2xx, and its deliberate 404s). ``why`` says what a
    validation point varies against the fitted ones.
    """

    setup: Setup
    scenario: str
    latency_ms: float = Field(ge=0)
    connections: int = Field(ge=1)
    duration_s: float = Field(gt=0)
    ok: int = Field(ge=0)
    failed: int = Field(ge=0)
    rps: float = Field(ge=0)
    mean_ms: float = Field(ge=0)
    p50_ms: float = Field(ge=0)
    p99_ms: float = Field(ge=0)
    window_s: float = Field(gt=0)
    cpu_s: float = Field(ge=0)
    others_cpu_s: float = Field(default=0.0, ge=0)
    role: Role
    why: str = ""

    @property
    def cpu_utilisation(self) -> float:
        """Fraction of the setup's cores the service kept busy."""
        return self.cpu_s / self.window_s / self.setup.cores

    @property
    def others_utilisation(self) -> float:
        """Fraction of the setup's cores everything else kept busy."""
        return self.others_cpu_s / self.window_s / self.setup.cores

    @property
    def cpu_ms_per_request(self) -> float | None:
        """CPU milliseconds per response (any status); None when nothing came back."""
        answered = self.ok + self.failed
        return self.cpu_s * 1000 / answered if answered else None


class MemoryPoint(_Record):
    """PSS of a setup's whole process tree (``*_mb``) and of one serving process
    (``*_worker_mb``, the median): ``idle`` after start-up, ``loaded`` the median under
    the setup's load."""

    setup: Setup
    idle_mb: float = Field(ge=0)
    idle_worker_mb: float = Field(ge=0)
    loaded_mb: float = Field(ge=0)
    loaded_worker_mb: float = Field(ge=0)


class StartupPoint(_Record):
    """Median cold start (spawn to first domain request) and import time of a pair."""

    pair: str
    cold_start_ms: float = Field(ge=0)
    import_ms: float = Field(ge=0)


class Slots(_Record):
    """Requests one worker serves at once. ``configured``: what the settings allow
    (None: unbounded). ``measured``: from Little's law on the io points the slots
    limited (None: never reached; ``at_least`` is then the most seen busy)."""

    configured: float | None
    measured: float | None
    at_least: float
    agree: bool
    note: str


class Memory(_Record):
    """``master + per_worker x workers`` MB at rest and under load: per worker, the
    median serving process of the setups measured; the master, what their trees hold
    besides their workers (0 for a server that runs one process)."""

    master_idle_mb: float
    per_worker_idle_mb: float
    master_loaded_mb: float
    per_worker_loaded_mb: float
    workers_measured: tuple[int, ...]


class Latency(_Record):
    """``p = light + growth x Q``, per percentile: ``Q`` is the mean queueing delay (ms)
    the laws give, ``light`` the percentile's excess over the unloaded mean."""

    p50_light_ms: float
    p50_growth: float
    p99_light_ms: float
    p99_growth: float


class Span(_Record):
    """The lowest and highest value measured along one dimension."""

    low: float
    high: float


class PairModel(_Record):
    """Everything the model knows about one pair, fitted on ``setup``'s points.

    ``cpu_ms``: CPU per request by scenario; ``cpu_share``: the share of its cores
    the service got when saturated (about 1 on a machine of its own, less when other
    processes competed; validation uses it, predictions assume 1 unless told);
    ``overhead_ms``: the round trip beyond downstream and CPU; ``measured``: the span
    of each dimension measured, for extrapolation warnings."""

    setup: Setup
    slots: Slots
    cpu_ms: dict[str, float]
    cpu_share: float = Field(gt=0, le=1)
    overhead_ms: float
    latency: Latency
    memory: Memory
    cold_start_ms: float | None
    import_ms: float | None
    measured: dict[str, Span]


class Check(_Record):
    """One validation point: predicted vs measured throughput (and latency). ``error``
    is relative, None when the point measured nothing; a latency the model sees grow
    without bound is None."""

    point: Point
    predicted_rps: float
    predicted_p50_ms: float | None
    predicted_p99_ms: float | None
    law: str
    error: float | None
    flag: str


class ModelDocument(_Record):
    """A whole ``fwbench model`` run."""

    schema_version: Literal[1] = SCHEMA_VERSION
    created: str
    command: tuple[str, ...]
    machine: str
    quick: bool
    service_cpus: tuple[int, ...]
    load_cpus: tuple[int, ...]
    notes: tuple[str, ...] = ()
    points: tuple[Point, ...]
    memory: tuple[MemoryPoint, ...]
    startup: tuple[StartupPoint, ...]
    failures: tuple[str, ...] = ()
    pairs: tuple[PairModel, ...] = ()
    checks: tuple[Check, ...] = ()
    duration_s: float = 0.0

    def pair(self, name: str) -> PairModel | None:
        """The fitted pair named ``name``, or None."""
        return next((p for p in self.pairs if p.setup.pair == name), None)
