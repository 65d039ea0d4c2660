"""Experiment 6: unbounded ORM reads ("ORM loads entire table").

Every framework serves ``GET /_lab/rows?mode=...`` over a table of growing size:
``all`` is the article's snippet (the whole table as a list of ORM objects, serialised at
once), ``stream`` the same JSON array streamed with bounded memory (Django
``.iterator()`` + ``StreamingHttpResponse``, SQLAlchemy ``yield_per`` + a streaming
response), ``page`` one keyset page of 100. For each request: the exact peak memory of
the worker that served it (the kernel's high-water mark, reset just before) above its
memory just before, and the latency. A fresh worker measures each table size.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from typing import Final

from fwbench.experiments._measure import MeasurementFailed, expect_ok
from fwbench.experiments._peak import read_peak, reset_peak
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict, failures_table, noting
from fwbench.experiments.verdicts import growth_per_row, whole_table_rule
from fwbench.harness.errors import FwbenchError
from fwbench.harness.process import ServiceProcess
from fwbench.harness.servers import FRAMEWORKS, canonical_server

CLAIM: Final = "ORM loads entire table"
MODES: Final = ("page", "stream", "all")
PAGE_SIZE: Final = 100
_MB: Final = 1_000_000


@dataclass(frozen=True)
class Settings:
    """Table sizes (rows) and requests per mode and size (the median latency is kept;
    the memory is that of the first request in the fresh worker)."""

    sizes: tuple[int, ...]
    repeats: int


QUICK: Final = Settings(sizes=(2_000, 20_000), repeats=1)
FULL: Final = Settings(sizes=(1_000, 10_000, 100_000), repeats=3)
#: Seconds per framework and size for the plan: two starts, a seed, the requests.
STEP_ESTIMATE_S: Final = 7.0


@dataclass(frozen=True)
class ReadRun:
    """One mode at one table size in one framework.

    Attributes:
        framework / server: the service (one worker).
        rows: rows in the table.
        mode: ``all``, ``stream`` or ``page``.
        peak_bytes: the worker's peak RSS during the first request above its RSS before.
        latency_ms: median time to the complete response.
        response_bytes: size of the response body.
        items: rows in the response (checked against the table).
    """

    framework: str
    server: str
    rows: int
    mode: str
    peak_bytes: int
    latency_ms: float
    response_bytes: int
    items: int


@dataclass(frozen=True)
class UnboundedEvidence:
    """Every framework x size x mode, and the frameworks that could not be measured."""

    sizes: tuple[int, ...]
    runs: tuple[ReadRun, ...]
    failures: tuple[str, ...]


def _worker_pid(service: ServiceProcess) -> int:
    processes = service.processes()
    if not processes:
        raise MeasurementFailed(f"{service.name} has no process", "check its output")
    # One worker: under a master (gunicorn) it is the only child; alone (uvicorn
    # --workers 1) the process itself serves.
    return processes[-1].pid


def _items(mode: str, body: bytes) -> int:
    document = json.loads(body)
    return len(document["items"] if mode == "page" else document)


def _measure_mode(
    service: ServiceProcess, framework: str, rows: int, mode: str, repeats: int
) -> ReadRun:
    pid = _worker_pid(service)
    latencies = []
    peak = 0
    body = b""
    for repeat in range(repeats):
        before = reset_peak(pid)
        started = time.perf_counter()
        body = expect_ok("GET", service.url, f"/_lab/rows?mode={mode}")
        latencies.append((time.perf_counter() - started) * 1000)
        if repeat == 0:
            peak = max(0, read_peak(pid) - before)
    items = _items(mode, body)
    expected = min(PAGE_SIZE, rows) if mode == "page" else rows
    if items != expected:
        raise MeasurementFailed(
            f"{framework} answered {items} rows to mode={mode} over a table of {rows}",
            "check its /_lab/rows implementation",
        )
    config = service.config
    return ReadRun(
        framework=framework,
        server=config.server if config else "",
        rows=rows,
        mode=mode,
        peak_bytes=peak,
        latency_ms=float(statistics.median(latencies)),
        response_bytes=len(body),
        items=items,
    )


def measure_framework(context: Context, framework: str, settings: Settings) -> list[ReadRun]:
    """All sizes and modes for ``framework`` on its canonical server with one worker.

    Each size is measured by a fresh worker, which afterwards seeds the next size."""
    server = canonical_server(framework)
    runs = []
    sizes = settings.sizes
    with context.service(framework, server, workers=1) as seeder:
        expect_ok("POST", seeder.url, f"/_lab/rows/seed?count={sizes[0]}")
    for index, rows in enumerate(sizes):
        context.say(f"unbounded reads: {framework}, {rows:,} rows")
        with context.service(framework, server, workers=1, bootstrap=False) as service:
            for mode in MODES:
                runs.append(_measure_mode(service, framework, rows, mode, settings.repeats))
            if index + 1 < len(sizes):
                expect_ok("POST", service.url, f"/_lab/rows/seed?count={sizes[index + 1]}")
    return runs


def growth(evidence: UnboundedEvidence) -> dict[str, float]:
    """Peak memory growth per table row (bytes) of each framework x mode."""
    result = {}
    for framework in dict.fromkeys(run.framework for run in evidence.runs):
        for mode in MODES:
            peaks = {
                run.rows: float(run.peak_bytes)
                for run in evidence.runs
                if (run.framework, run.mode) == (framework, mode)
            }
            if len(peaks) >= 2:
                result[f"{framework} mode={mode}"] = growth_per_row(peaks)
    return result


class UnboundedReads(Experiment[UnboundedEvidence]):
    """Whole-table reads vs streaming vs keyset pages, by peak memory and latency."""

    name = "unbounded-reads"
    # Across hosts it runs whole on the service host: it resets and reads each worker's
    # peak memory in that host's /proc.
    whole_on_service_host = True
    title = "Unbounded ORM reads: peak worker memory and latency by table size"
    claims = (CLAIM,)
    setup = (
        "GET /_lab/rows?mode=all|stream|page in each framework (canonical server, one "
        "worker) over lab_row tables of growing size (200-character payload per row); "
        "the worker's exact peak RSS during the request (kernel high-water mark) above its "
        "RSS before, and the latency."
    )
    evidence_type = UnboundedEvidence

    def plan(self, context: Context) -> Plan:
        settings = QUICK if context.quick else FULL
        # Larger tables take longer: roughly 3 s per 10,000 rows on top of the base cost.
        per_framework = sum(STEP_ESTIMATE_S + rows / 10_000 * 3 for rows in settings.sizes)
        return Plan(
            len(FRAMEWORKS) * per_framework,
            (
                f"{len(FRAMEWORKS)} frameworks x tables of "
                f"{', '.join(f'{n:,}' for n in settings.sizes)} rows x modes {', '.join(MODES)}",
            ),
        )

    def run(self, context: Context) -> UnboundedEvidence:
        settings = QUICK if context.quick else FULL
        runs: list[ReadRun] = []
        failures = []
        for framework in FRAMEWORKS:
            try:
                runs += measure_framework(context, framework, settings)
            except FwbenchError as error:
                failures.append(f"{framework}: {error.problem}")
        return UnboundedEvidence(settings.sizes, tuple(runs), tuple(failures))

    def tables(self, evidence: UnboundedEvidence) -> tuple[Table, ...]:
        rates = growth(evidence)
        by_key = {(run.framework, run.mode, run.rows): run for run in evidence.runs}
        rows = []
        for framework in dict.fromkeys(run.framework for run in evidence.runs):
            for mode in MODES:
                cells = []
                for size in evidence.sizes:
                    run = by_key.get((framework, mode, size))
                    if run is None:
                        cells.append("")
                    else:
                        cells.append(f"{run.peak_bytes / _MB:,.1f} MB / {run.latency_ms:,.0f} ms")
                rate = rates.get(f"{framework} mode={mode}")
                rows.append((framework, mode, *cells, "" if rate is None else f"{rate:,.0f}"))
        return (
            Table(
                "Peak worker memory above its baseline / latency, by table size",
                ("framework", "mode", *(f"{n:,} rows" for n in evidence.sizes), "bytes/row"),
                tuple(rows),
                "bytes/row: least-squares slope of the peak against the table size. Each row "
                "carries a 200-character payload.",
            ),
            *failures_table(evidence.failures),
        )

    def verdicts(self, evidence: UnboundedEvidence) -> tuple[Verdict, ...]:
        # The article's snippet is Django's; `all` is it (the whole table in one list).
        verdict = whole_table_rule(CLAIM, growth(evidence), judged=("django mode=all",))
        return (noting(verdict, evidence.failures),)
