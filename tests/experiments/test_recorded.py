"""Every experiment's verdicts, tables and printing on evidence recorded by a real
``fwbench claims --quick`` run (tests/experiments/data/quick-evidence.json).

The rule tests (test_verdicts.py) check each rule on chosen numbers; these check that
each experiment feeds its rules the right numbers from what it measured.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from fwbench.advice.sources import find_source
from fwbench.experiments import article_table, io_ratio, memory, thread_pools
from fwbench.experiments.model import Experiment, Outcome, Plan
from fwbench.experiments.registry import EXPERIMENTS, judged_by_these_rules, rejudged_sentence
from fwbench.experiments.render import print_record
from fwbench.experiments.runner import ClaimsReport, ExperimentRecord, rejudge
from fwbench.harness.documents import dump, load
from fwbench.report.model import build_report
from tests.advice.builders import build_results

RECORDED = json.loads(
    (Path(__file__).parent / "data" / "quick-evidence.json").read_text(encoding="utf-8")
)["evidence"]

#: What the rules concluded from the recorded run.
EXPECTED = {
    # the article's mistake stalls (serialised), it does not deadlock; the demo app built
    # to deadlock does, as a separate finding
    "blocking-async": [Outcome.CONTRADICTED],
    # ~50 RPS/core: 253 at 10 ms, 57 at 50 ms. Thread pools: none exhausted in the
    # recorded run (anyio at 617 of 800 req/s, 77%), granian's 512 threads not reached.
    "thread-pools": [Outcome.DEPENDS, Outcome.INCONCLUSIVE],
    # 7.45x and 1.91x: neither matches "3x" (2 to 4.5)
    "io-ratio": [Outcome.CONTRADICTED],
    "httpx-tip": [Outcome.DEPENDS],
    # Django 195 MB (gunicorn sync) and 80 MB (uvicorn): 195 MB is within the 3% PSS
    # moves between runs of 200 MB, so the verdict is undecided there.
    "memory": [Outcome.INCONCLUSIVE],
    "cold-start": [Outcome.CONTRADICTED],
    # judged on Django's whole-table list only; page and stream are separate findings
    "unbounded-reads": [Outcome.SUPPORTED],
    # the recorded run predates running the tip itself (shell_plus --print-sql)
    "n-plus-one": [Outcome.INCONCLUSIVE],
    "footprint": [Outcome.DEPENDS],
    # Per column, ranking then ratios. One repeat each: Flask and Django at 252 vs 240
    # req/s are a tie, which leaves the I/O ranking undecided; at 177 vs 195 MB their
    # memory is told apart (each figure ranges 3% either side, no margin on top).
    "article-table": [
        Outcome.INCONCLUSIVE,
        Outcome.CONTRADICTED,
        Outcome.DEPENDS,
        Outcome.CONTRADICTED,
        Outcome.CONTRADICTED,
        Outcome.CONTRADICTED,
    ],
}


def _evidence(experiment: Experiment[Any]) -> Any:
    return load(experiment.evidence_type, RECORDED[experiment.name])


def _recorded_record(
    experiment: Experiment[Any], outcome: Outcome | None = None
) -> ExperimentRecord:
    """The record of ``experiment`` from the recorded run, its stored verdicts given
    ``outcome`` instead of the rules' (as an older fwbench's rules might have judged)."""
    verdicts = experiment.verdicts(_evidence(experiment))
    if outcome is not None:
        verdicts = tuple(replace(v, outcome=outcome) for v in verdicts)
    return ExperimentRecord(
        name=experiment.name,
        title=experiment.title,
        claims=experiment.claims,
        setup=experiment.setup,
        plan=Plan(1.0, ("recorded",)),
        duration_s=1.0,
        evidence=RECORDED[experiment.name],
        tables=(),
        verdicts=verdicts,
        error=None,
    )


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_recorded_evidence_gives_the_recorded_verdicts(experiment: Experiment[Any]) -> None:
    evidence = _evidence(experiment)
    assert dump(evidence) == RECORDED[experiment.name]
    verdicts = experiment.verdicts(evidence)
    assert [v.outcome for v in verdicts] == EXPECTED[experiment.name]
    assert [v.claim for v in verdicts] == list(experiment.claims)
    for verdict in verdicts:
        assert verdict.rule and verdict.findings


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_recorded_evidence_prints_claim_tables_and_verdicts(experiment: Experiment[Any]) -> None:
    evidence = _evidence(experiment)
    tables = experiment.tables(evidence)
    assert tables and all(len(row) == len(t.columns) for t in tables for row in t.rows)
    record = replace(_recorded_record(experiment), tables=tables)
    assert rejudge(experiment, record) == record.verdicts
    console = Console(record=True, width=200)
    print_record(console, record)
    text = console.export_text()
    for verdict in record.verdicts:
        assert verdict.outcome.value in text
        assert verdict.rule[:60] in text
    assert tables[0].title in text


def test_thread_pools_judges_the_50_rps_claim_per_core_and_latency() -> None:
    evidence = _evidence(thread_pools.ThreadPools())
    per_core, exhaustion = thread_pools.ThreadPools().verdicts(evidence)
    # One finding per workers x latency of the gunicorn-sync sessions (the recorded run
    # had the documented 3 workers only), with the law's figure beside it.
    assert per_core.findings == (
        "gunicorn sync, 3 workers at 10 ms (law: 300 per core): 253 req/s outside 33.33 to 75",
        "gunicorn sync, 3 workers at 50 ms (law: 60 per core): 56.88 req/s within 33.33 to 75",
    )
    # Exhaustion is judged where requests hold a thread of a pool, each named.
    judged = [f for f in exhaustion.findings if "separate finding" not in f]
    assert [f.split(" at ")[0] for f in judged] == [
        "fastapi uvicorn /_lab/io-sync",
        "fastapi uvicorn /_lab/io-sync",
        "flask gunicorn-gthread",
        "flask gunicorn-gthread",
        "flask granian",
        "flask granian",
    ]
    assert "anyio's 40-token thread limiter (FastAPI def routes)" in judged[0]
    assert "flask gunicorn-sync at 50 ms (separate finding, no thread pool)" in "\n".join(
        exhaustion.findings
    )


def test_io_ratio_pairs_every_fastapi_server_with_every_flask_server() -> None:
    evidence = _evidence(io_ratio.IoRatio())
    ratios = io_ratio.ratios(evidence, "flask")
    assert len(ratios) == 2 * 4
    sync = next(
        s for s in evidence.sessions if s.server == "gunicorn-sync" and s.framework == "flask"
    )
    fast = next(s for s in evidence.sessions if (s.framework, s.server) == ("fastapi", "uvicorn"))
    assert ratios["FastAPI uvicorn vs gunicorn-sync"].value == pytest.approx(
        evidence.rps(fast) / evidence.rps(sync)
    )


def test_memory_capacity_sizes_workers_for_the_target() -> None:
    evidence = _evidence(memory.Memory())
    for session in evidence.sessions:
        plan = memory.capacity(session, evidence.latency_ms, evidence.target_rps)
        assert plan.workers * plan.per_worker_rps >= evidence.target_rps
        assert (plan.workers - 1) * plan.per_worker_rps < evidence.target_rps
        assert plan.memory_mb >= plan.workers * session.loaded.worker_pss_mb


def test_article_table_columns_skip_configurations_without_a_value() -> None:
    evidence = _evidence(article_table.ArticleTable())
    assert set(article_table.column(evidence, lambda e: e.rps_repeats)) == {
        article_table.CANONICAL,
        article_table.SAME_SERVER,
    }
    # --quick measures cold starts on the canonical servers only.
    assert set(article_table.column(evidence, lambda e: e.cold_start_repeats)) == {
        article_table.CANONICAL
    }


def test_memory_verdict_does_not_flip_on_its_spread() -> None:
    """The audit's case: Django's steady PSS a few MB under the 200 MB threshold, its
    samples reaching over it, is not "contradicted" but undecided."""
    evidence = _evidence(memory.Memory())
    sessions = []
    for session in evidence.sessions:
        if (session.framework, session.server) == ("django", "gunicorn-sync"):
            loaded = replace(session.loaded, total_pss_peak_mb=203.0)
            session = replace(session, loaded=loaded)
        sessions.append(session)
    (verdict,) = memory.Memory().verdicts(replace(evidence, sessions=tuple(sessions)))
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "Django on gunicorn-sync (3 workers): 195 MB (189-203) within its spread" in (
        "\n".join(verdict.findings)
    )


def _django_gunicorn_at(steady_mb: float) -> memory.MemoryEvidence:
    """The recorded memory evidence with Django on gunicorn at ``steady_mb`` of PSS under
    load, its samples never above it (no spread of its own)."""
    evidence = _evidence(memory.Memory())
    sessions = []
    for session in evidence.sessions:
        if (session.framework, session.server) == ("django", "gunicorn-sync"):
            loaded = replace(session.loaded, total_pss_mb=steady_mb, total_pss_peak_mb=steady_mb)
            session = replace(session, loaded=loaded)
        sessions.append(session)
    return replace(evidence, sessions=tuple(sessions))


@pytest.mark.parametrize(
    ("steady_mb", "outcome"),
    [
        # 200 MB is the edge of the claim's band (300 / 1.5); PSS moves 3% between runs.
        (194.2, Outcome.INCONCLUSIVE),  # 194.2 + 3% = 200.03: the next run may reach 200
        (200.0, Outcome.INCONCLUSIVE),
        (206.1, Outcome.INCONCLUSIVE),  # 206.1 - 3% = 199.92
        (194.1, Outcome.CONTRADICTED),  # 194.1 + 3% = 199.92: below in every run
        (206.2, Outcome.DEPENDS),  # 206.2 - 3% = 200.01: above in every run; uvicorn is not
    ],
)
def test_memory_verdict_needs_more_than_the_between_runs_variation(
    steady_mb: float, outcome: Outcome
) -> None:
    """A run's samples may not spread at all, yet the same configuration's PSS moves
    between runs: only a figure clear of the edge by more than that gets a verdict."""
    (verdict,) = memory.Memory().verdicts(_django_gunicorn_at(steady_mb))
    assert verdict.outcome is outcome


def test_a_memory_ratio_on_its_band_edge_is_inconclusive_in_the_article_table() -> None:
    """Two runs measured Flask/FastAPI memory at 2.03 and 1.99 (the band of the article's
    1.33 ends at 2.0): with what PSS moves between runs, both are undecided, not one
    "off" and one "within its spread"."""
    evidence = _evidence(article_table.ArticleTable())
    memory_mb = {"fastapi": 86.0, "flask": 86.0 * 2.03, "django": 86.0 * 2.32}
    entries = tuple(
        replace(entry, memory_mb=memory_mb[entry.framework], memory_peak_mb=None)
        if entry.configuration == article_table.CANONICAL
        else entry
        for entry in evidence.entries
    )
    verdicts = article_table.ArticleTable().verdicts(replace(evidence, entries=entries))
    (memory_ratios,) = [v for v in verdicts if v.claim.startswith("Memory") and "ratios" in v.claim]
    canonical = next(f for f in memory_ratios.findings if f.startswith("canonical servers"))
    assert "Flask/FastAPI 2.03 (1.94-2.12) vs article 1.33 (within its spread" in canonical


@pytest.mark.parametrize("flask_mb", [93.6, 96.2])
def test_memory_ranking_needs_no_margin_on_top_of_the_between_runs_range(
    flask_mb: float,
) -> None:
    """Two runs measured Flask on granian at 93.6 and 96.2 MB against FastAPI's 105.8 and
    105.5 (13% and 9.7% apart): a 10% median margin made one a tie and the other an
    order. A memory figure already ranges what PSS moves between runs, so both runs order
    them the same way."""
    evidence = _evidence(article_table.ArticleTable())
    memory_mb = {"fastapi": 105.6, "flask": flask_mb, "django": 108.8}
    entries = tuple(
        replace(entry, memory_mb=memory_mb[entry.framework], memory_peak_mb=None)
        if entry.configuration == article_table.SAME_SERVER
        else entry
        for entry in evidence.entries
    )
    verdicts = article_table.ArticleTable().verdicts(replace(evidence, entries=entries))
    (memory_ranking,) = [
        v for v in verdicts if v.claim.startswith("Memory") and "ranking" in v.claim
    ]
    granian = next(f for f in memory_ranking.findings if f.startswith("all on granian"))
    assert granian == "all on granian: Flask < FastAPI = Django (unlike the article)"


def test_stored_verdicts_are_judged_again_by_these_rules() -> None:
    memory_claim, table = memory.Memory(), article_table.ArticleTable()
    stale = _recorded_record(memory_claim, Outcome.SUPPORTED)
    current = _recorded_record(table)
    failed = replace(_recorded_record(io_ratio.IoRatio(), Outcome.SUPPORTED), evidence=None)
    unknown = replace(_recorded_record(memory_claim, Outcome.SUPPORTED), name="retired")
    report = ClaimsReport(True, (stale, current, failed, unknown), 4.0)

    judged, changed = judged_by_these_rules(report)

    assert changed == ("memory",)
    outcomes = [[v.outcome for v in record.verdicts] for record in judged.experiments]
    assert outcomes == [
        [Outcome.INCONCLUSIVE],  # the rules' verdict on the recorded 195 MB, not the stored one
        EXPECTED["article-table"],
        [Outcome.SUPPORTED],  # no evidence to judge: the stored verdict stays
        [Outcome.SUPPORTED],  # no rules of that name here: the stored verdict stays
    ]
    assert rejudged_sentence(changed) == (
        "The claims verdicts are this fwbench's rules applied to the stored numbers; they "
        "differ from the verdicts stored for memory."
    )


def test_advice_and_report_quote_the_verdicts_of_these_rules(tmp_path: Path) -> None:
    report = ClaimsReport(True, (_recorded_record(memory.Memory(), Outcome.SUPPORTED),), 1.0)
    results = build_results().with_section("claims", dump(report))
    results.write(tmp_path / "claims.json")

    source = find_source(tmp_path / "claims.json")
    assert source.evidence is not None
    assert [c.outcome for c in source.evidence.claims] == ["inconclusive here"]
    assert source.notice.endswith(rejudged_sentence(["memory"]))

    page = build_report(results, tmp_path / "claims.json")
    assert [v.outcome for e in page.experiments for v in e.verdicts] == ["inconclusive here"]
    assert rejudged_sentence(["memory"]) in page.warnings
