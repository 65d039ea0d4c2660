"""Each experiment end to end, in a tiny configuration, against real servers.

The tiny configurations shrink the experiments' settings (1-2 s points, one or two
server configurations, small tables) with ``monkeypatch``; the servers, wrk, the
database and the probes are the real ones. Assertions check behaviour that does not
depend on the machine's speed: a deadlock is a deadlock, a throughput never exceeds
its Little's-law ceiling, an ORM issues the statements it issues.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from fwbench.experiments import (
    _measure,
    article_table,
    blocking_async,
    cold_start,
    httpx_tip,
    io_ratio,
    memory,
    n_plus_one,
    thread_pools,
    unbounded_reads,
)
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Outcome
from fwbench.experiments.runner import ExperimentRecord, rejudge, run_experiment
from fwbench.experiments.verdicts import Behaviour, classify_run, little_ceiling
from fwbench.harness.documents import dump, load

pytestmark = pytest.mark.slow

TINY_SWEEP = _measure.Sweep(
    latencies_ms=(_measure.IO_LATENCY_MS,),
    connections=(_measure.IO_CONNECTIONS,),
    duration_s=1,
    repeats=1,
    warmup_s=0,
)


@pytest.fixture
def context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setattr(_measure, "QUICK_SWEEP", TINY_SWEEP)
    # Servers other suites keep for the whole session (the contract pool) are not ours.
    before = set(psutil.Process().children(recursive=True))
    with Context(quick=True, state_dir=tmp_path) as ctx:
        yield ctx
    # Every server an experiment started is gone with it.
    assert not [
        p
        for p in set(psutil.Process().children(recursive=True)) - before
        if p.is_running() and p.status() != "zombie"
    ]


def _run(experiment: Experiment[Any], context: Context) -> tuple[Any, ExperimentRecord]:
    """Run through the runner, check the record survives JSON and re-judges the same."""
    record = run_experiment(experiment, context, experiment.plan(context))
    assert record.error is None, record.error
    stored = load(ExperimentRecord, json.loads(json.dumps(dump(record))))
    assert stored == record
    assert rejudge(experiment, stored) == record.verdicts
    assert len(record.verdicts) == len(experiment.claims)
    return load(experiment.evidence_type, record.evidence), record


def test_blocking_async_tells_the_stall_from_the_deadlock(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        blocking_async,
        "QUICK",
        blocking_async.Settings(connections=16, demo_connections=128, duration_s=2),
    )
    evidence, record = _run(blocking_async.BlockingAsync(), context)
    behaviour = {run.setup: classify_run(run.loaded_run()) for run in evidence.runs}
    assert behaviour[blocking_async.MIXING] is Behaviour.SERIALISED
    assert behaviour["sync deps + pool, 16 conns"] is not Behaviour.DEADLOCKED
    assert behaviour["sync deps + pool, 128 conns"] is Behaviour.DEADLOCKED
    # The deadlocked app's event loop still answers: it is the thread pool that is stuck.
    demo = next(run for run in evidence.runs if run.setup.endswith("128 conns"))
    assert demo.probe_ms
    # The blocking call stalls the loop for about a request's time; the async route does not.
    mixing = next(run for run in evidence.runs if run.setup == blocking_async.MIXING)
    assert mixing.probe_lost or max(mixing.probe_ms) >= 0.5 * mixing.unloaded_ms
    # Judged on the article's own mistake (a blocking call inside async def): it stalls the
    # loop but does not deadlock; the app built to deadlock is a finding of its own.
    assert record.verdicts[0].outcome is Outcome.CONTRADICTED


def test_thread_pools_plateaus_respect_littles_law(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        thread_pools.ThreadPools,
        "quick_setups",
        (
            _measure.IoSetup("flask", "gunicorn-sync", "/io"),
            _measure.IoSetup("fastapi", "uvicorn", "/_lab/io-sync"),
        ),
    )
    evidence, record = _run(thread_pools.ThreadPools(), context)
    sync, threaded = evidence.sessions
    assert sync.slots == 2 * context.service_cores + 1
    assert threaded.slots == _measure.ANYIO_THREADS * threaded.workers
    for session in evidence.sessions:
        point = session.at(_measure.IO_LATENCY_MS, _measure.IO_CONNECTIONS)
        slots = math.inf if session.slots is None else session.slots
        ceiling = little_ceiling(min(slots, _measure.IO_CONNECTIONS), _measure.IO_LATENCY_MS)
        assert 0 < point.load.ok_rps <= 1.05 * ceiling
    assert [v.claim for v in record.verdicts] == list(thread_pools.ThreadPools.claims)


def test_io_ratio_compares_every_pairing(context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        io_ratio.IoRatio,
        "quick_setups",
        (
            _measure.IoSetup("fastapi", "uvicorn", "/io"),
            _measure.IoSetup("flask", "gunicorn-sync", "/io"),
        ),
    )
    evidence, record = _run(io_ratio.IoRatio(), context)
    assert list(io_ratio.ratios(evidence, "flask")) == ["FastAPI uvicorn vs gunicorn-sync"]
    assert len(record.verdicts[0].findings) == 1


def test_httpx_tip_compares_both_clients_at_every_point(context: Context) -> None:
    evidence, record = _run(httpx_tip.HttpxTip(), context)
    assert [s.route for s in evidence.sessions] == ["/_lab/io-httpx", "/io"]
    assert list(evidence.pairs()) == [
        f"{_measure.IO_LATENCY_MS} ms, {_measure.IO_CONNECTIONS} conns"
    ]
    assert len(record.verdicts[0].findings) == 1


def test_memory_measures_workers_and_the_whole_tree(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        memory.Memory, "quick_setups", (_measure.IoSetup("django", "gunicorn-sync", "/io"),)
    )
    evidence, record = _run(memory.Memory(), context)
    (session,) = evidence.sessions
    assert session.loaded.workers == session.workers == 2 * context.service_cores + 1
    # The tree holds the master and every worker.
    assert session.loaded.total_pss_mb > session.loaded.worker_pss_mb * session.workers
    assert session.loaded.worker_uss_mb <= session.loaded.worker_pss_mb
    plan = memory.capacity(session, evidence.latency_ms, evidence.target_rps)
    assert plan.workers >= 1
    assert record.verdicts[0].findings[0].startswith("Django on gunicorn-sync")


def test_cold_start_spawns_django_with_and_without_contrib(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cold_start,
        "QUICK_SETUPS",
        (("flask", "gunicorn-sync", False), ("django", "gunicorn-sync", False),
         ("django", "gunicorn-sync", True)),
    )  # fmt: skip
    monkeypatch.setattr(cold_start, "QUICK_SPAWNS", 1)
    monkeypatch.setattr(cold_start, "IMPORT_SAMPLES", 1)
    evidence, record = _run(cold_start.ColdStart(), context)
    for run in evidence.runs:
        assert len(run.healthz_ms) == 1 and len(run.import_ms) == 1
        assert 0 < run.healthz_ms[0] <= run.first_request_ms[0]
    assert [run.label for run in evidence.runs][-1] == "django gunicorn-sync (minimal)"
    assert len(record.verdicts[0].findings) == 2


def test_unbounded_reads_whole_table_costs_its_payload(context: Context) -> None:
    settings = unbounded_reads.Settings(sizes=(500, 5_000), repeats=1)
    runs = unbounded_reads.measure_framework(context, "flask", settings)
    evidence = unbounded_reads.UnboundedEvidence(settings.sizes, tuple(runs), ())
    by_key = {(run.mode, run.rows): run for run in runs}
    assert by_key["page", 5_000].items == 100
    assert by_key["all", 5_000].items == by_key["stream", 5_000].items == 5_000
    # Holding 5,000 rows holds at least their 200-character payloads.
    assert by_key["all", 5_000].peak_bytes >= 5_000 * 200
    rates = unbounded_reads.growth(evidence)
    assert rates["flask mode=all"] >= 200
    stored = load(unbounded_reads.UnboundedEvidence, dump(evidence))
    assert stored == evidence


def test_n_plus_one_counts_django_statements(context: Context) -> None:
    run = n_plus_one.measure_framework(context, "django", n_plus_one.Settings(1, 1))
    # Django: one query for the page, one per purchase; select_related: one join.
    assert (run.naive_small, run.naive_large) == (
        n_plus_one.SMALL_LIMIT + 1,
        n_plus_one.LARGE_LIMIT + 1,
    )
    assert (run.eager_small, run.eager_large) == (1, 1)
    assert run.naive.ok > 0 and run.eager.ok > 0
    # The article's tip itself, shell_plus --print-sql, prints every one of them.
    assert (run.printed_small, run.printed_large) == (run.naive_small, run.naive_large)
    assert any(line.startswith("SELECT") and "lab_merchant" in line for line in run.printed_excerpt)


def test_article_table_compares_every_column(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    canonical = article_table.CONFIGURATIONS[article_table.CANONICAL]
    monkeypatch.setattr(article_table, "CONFIGURATIONS", {article_table.CANONICAL: canonical})
    monkeypatch.setattr(cold_start, "QUICK_SPAWNS", 1)
    monkeypatch.setattr(cold_start, "IMPORT_SAMPLES", 1)
    evidence, record = _run(article_table.ArticleTable(), context)
    assert {entry.framework for entry in evidence.entries} == {"fastapi", "flask", "django"}
    assert all(entry.cold_start_ms is not None for entry in evidence.entries)
    # Ranking and ratios of each of the three columns, on the one configuration measured.
    assert [len(v.findings) for v in record.verdicts] == [1] * 6
