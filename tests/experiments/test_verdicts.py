"""The verdict rules on recorded numbers: every rule reaches each of its verdicts.

The numbers are shaped like what the experiments record (requests/s, MB, ms, bytes per
row); the cases sit on both sides of each threshold so a changed threshold or a flipped
comparison fails a test.
"""

from __future__ import annotations

import math

import pytest

from fwbench.experiments.model import Outcome, noting
from fwbench.experiments.verdicts import (
    Behaviour,
    ColdStartInput,
    LoadedRun,
    Measured,
    NPlusOneInput,
    PlateauInput,
    PlateauKind,
    across,
    at_least_figure_rule,
    classify_plateau,
    classify_run,
    cold_start_rule,
    competitive_rule,
    deadlock_rule,
    distinguishable,
    exhaustion_rule,
    growth_per_row,
    little_ceiling,
    n_plus_one_rule,
    near_figure_rule,
    ranking,
    ratio_rule,
    sprawl_rule,
    table_ranking_rule,
    table_ratio_rule,
    whole_table_rule,
)

CLAIM = "a claim"


def test_across_names_both_sides_when_it_depends() -> None:
    verdict = across(CLAIM, "rule", {"uvicorn": True, "granian": False}, ["a", "b"])
    assert verdict.outcome is Outcome.DEPENDS
    assert "holds for uvicorn" in verdict.condition
    assert "Does not hold for granian" in verdict.condition
    assert verdict.findings == ("a", "b")


def test_across_refuses_to_judge_nothing() -> None:
    with pytest.raises(ValueError, match="nothing to judge"):
        across(CLAIM, "rule", {}, [])


def test_a_verdict_on_incomplete_evidence_says_so_in_its_condition() -> None:
    verdict = across(CLAIM, "rule", {"sync": False}, ["sync: 197 MB"])
    noted = noting(verdict, ("django gunicorn-gthread /io: did not start",))
    assert noted.outcome is Outcome.CONTRADICTED
    assert noted.condition == (
        "holds in none of the 1 configurations measured (on incomplete evidence: 1 "
        "configuration not measured)"
    )
    assert noted.findings[-1] == (
        "not measured, so not judged: django gunicorn-gthread /io: did not start"
    )
    assert noting(verdict, ()) == verdict


def test_across_is_inconclusive_when_the_spread_decides() -> None:
    verdict = across(CLAIM, "rule", {"sync": False, "gthread": None}, [], settle="measure X")
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "does not hold for sync" in verdict.condition
    assert "within the evidence's spread of the threshold: gthread" in verdict.condition
    assert verdict.condition.endswith("to settle it, measure X")
    # Both sides decided elsewhere: it depends, whatever the undecided one would say.
    mixed = across(CLAIM, "rule", {"a": True, "b": False, "c": None}, [])
    assert mixed.outcome is Outcome.DEPENDS
    assert "Undecided (within the spread): c" in mixed.condition


def _m(value: float, spread: float = 0.0) -> Measured:
    return Measured(value, value - spread, value + spread)


@pytest.mark.parametrize(
    ("ratios", "outcome"),
    [
        # the band of "3x" is 2 to 4.5, both edges included
        ({"sync": _m(2.0), "gevent": _m(4.5)}, Outcome.SUPPORTED),
        ({"sync": _m(1.99), "gevent": _m(4.51)}, Outcome.CONTRADICTED),
        # 43x is not "3x": one definition, two-sided
        ({"sync": _m(43.0), "gevent": _m(1.1)}, Outcome.CONTRADICTED),
        ({"sync": _m(3.1), "gevent": _m(7.9)}, Outcome.DEPENDS),
        # just inside, but the repeats reach outside: inconclusive
        ({"sync": _m(2.05, 0.1), "gevent": _m(3.0)}, Outcome.INCONCLUSIVE),
        ({"sync": _m(4.4, 0.2)}, Outcome.INCONCLUSIVE),
    ],
)
def test_ratio_rule_matches_within_a_factor_1_5_either_way(
    ratios: dict[str, Measured], outcome: Outcome
) -> None:
    verdict = ratio_rule(CLAIM, ratios, 3, "FastAPI/Flask io throughput")
    assert verdict.outcome is outcome
    assert "within a factor 1.5 of it, either way" in verdict.rule
    assert "(2 to 4.5)" in verdict.rule


def test_ratio_findings_say_above_or_below() -> None:
    verdict = ratio_rule(CLAIM, {"a": _m(7.45), "b": Measured(1.9, 1.8, 1.95)}, 3, "x")
    assert verdict.findings == (
        "a: 7.45x above 3x (2 to 4.5)",
        "b: 1.9 (1.8-1.95)x below 3x (2 to 4.5)",
    )


@pytest.mark.parametrize(
    ("per_core", "outcome"),
    [
        ({"10 ms": _m(34.0), "50 ms": _m(74.0)}, Outcome.SUPPORTED),
        ({"10 ms": _m(320.0), "200 ms": _m(12.0)}, Outcome.CONTRADICTED),
        ({"10 ms": _m(320.0), "50 ms": _m(61.5), "200 ms": _m(15.2)}, Outcome.DEPENDS),
        ({"10 ms": _m(74.0, 2.0)}, Outcome.INCONCLUSIVE),
    ],
)
def test_near_figure_rule_uses_a_factor_1_5(
    per_core: dict[str, Measured], outcome: Outcome
) -> None:
    verdict = near_figure_rule(CLAIM, per_core, 50, "plateau per core", "req/s")
    assert verdict.outcome is outcome
    assert "33.33 to 75" in verdict.rule


@pytest.mark.parametrize(
    ("totals", "outcome"),
    [
        ({"gunicorn sync": _m(412.0), "uvicorn": _m(205.0)}, Outcome.SUPPORTED),
        ({"gunicorn sync": _m(160.0), "uvicorn": _m(71.0)}, Outcome.CONTRADICTED),
        ({"gunicorn sync": _m(260.0), "uvicorn": _m(88.0)}, Outcome.DEPENDS),
        # just inside (200 >= 200) and just outside (199.9)
        ({"gthread": _m(200.0)}, Outcome.SUPPORTED),
        ({"gthread": _m(199.9)}, Outcome.CONTRADICTED),
        # the audit's case: 197 MB steady with a peak of 203 MB straddles 200 MB
        ({"sync": Measured(197.0, 197.0, 203.0)}, Outcome.INCONCLUSIVE),
    ],
)
def test_at_least_figure_rule(totals: dict[str, Measured], outcome: Outcome) -> None:
    assert at_least_figure_rule(CLAIM, totals, 300, "memory", "MB").outcome is outcome


def test_a_ratio_adds_both_relative_spreads_in_quadrature() -> None:
    # 11 +- 1 (9.1%) over 5 +- 0.5 (10%): 2.2 +- 13.5%, narrower than the extremes'
    # 2.0-3.0, which assume both figures at their worst at once.
    ratio = Measured.of([10.0, 12.0, 11.0]).over(Measured.of([4.0, 5.0, 5.0]))
    spread = math.hypot(1 / 11, 0.5 / 5)
    assert ratio.value == pytest.approx(2.2)
    assert (ratio.low, ratio.high) == pytest.approx((2.2 * (1 - spread), 2.2 * (1 + spread)))
    assert Measured.exact(6.0).over(Measured.exact(2.0)) == Measured.exact(3.0)
    assert Measured.exact(3.0).text("x") == "3 x"


def test_little_ceiling_is_slots_over_latency() -> None:
    assert little_ceiling(3, 50) == pytest.approx(60.0)
    assert little_ceiling(40, 200) == pytest.approx(200.0)


@pytest.mark.parametrize(
    ("plateau", "slots", "connections", "kind"),
    [
        (55.0, 3, 64, PlateauKind.SLOTS),  # gunicorn sync, 3 workers, ceiling 60
        (40.0, 3, 64, PlateauKind.OTHER),  # below 80 % of 60
        (75.0, 3, 64, PlateauKind.ABOVE),  # above 115 % of 60
        (1200.0, math.inf, 64, PlateauKind.LOAD),  # event loop, ceiling 64 / 50 ms = 1280
        (700.0, math.inf, 64, PlateauKind.OTHER),  # event loop, CPU bound
    ],
)
def test_classify_plateau(
    plateau: float, slots: float, connections: int, kind: PlateauKind
) -> None:
    assert classify_plateau(plateau, slots, connections, 50) is kind


def _plateau(
    name: str, plateau: float, slots: float, spread: tuple[float, float] | None = None
) -> PlateauInput:
    pool = None if name in ("sync", "gevent") else f"{name}'s threads"
    return PlateauInput(name, plateau, slots, 64, 50, pool, spread)


@pytest.mark.parametrize(
    ("plateaus", "outcome"),
    [
        # ceilings at 50 ms: 12 threads -> 240 req/s, 40 threads -> 800 req/s
        ([_plateau("gthread", 230.0, 12), _plateau("anyio", 704.0, 40)], Outcome.SUPPORTED),
        ([_plateau("anyio", 640.0, 40)], Outcome.SUPPORTED),  # 80%: just at the threshold
        ([_plateau("anyio", 639.0, 40)], Outcome.CONTRADICTED),
        ([_plateau("anyio", 704.0, 40), _plateau("gthread", 100.0, 12)], Outcome.DEPENDS),
        # repeats straddle 80% of 800; a pool larger than the 64 connections is not reached
        ([_plateau("anyio", 650.0, 40, (617.0, 690.0))], Outcome.INCONCLUSIVE),
        ([_plateau("granian", 1180.0, 512)], Outcome.INCONCLUSIVE),
        # process slots do not judge a thread-pool claim, however exhausted
        ([_plateau("sync", 57.0, 3), _plateau("anyio", 400.0, 40)], Outcome.CONTRADICTED),
    ],
)
def test_exhaustion_rule(plateaus: list[PlateauInput], outcome: Outcome) -> None:
    verdict = exhaustion_rule(CLAIM, plateaus)
    assert verdict.outcome is outcome
    assert len(verdict.findings) == len(plateaus)


def test_exhaustion_findings_name_the_pool_and_set_process_slots_apart() -> None:
    verdict = exhaustion_rule(CLAIM, [_plateau("sync", 57.0, 3), _plateau("anyio", 704.0, 40)])
    assert verdict.findings[0].startswith("sync (separate finding, no thread pool): 57 req/s")
    assert verdict.findings[1] == (
        "anyio, anyio's threads: 704 req/s vs ceiling 800 req/s (slots 40, up to 64 "
        "connections, 50 ms): at its slot ceiling: exhausted"
    )


def _run(ok: int, recovered_s: float | None = 0.4, connections: int = 16) -> LoadedRun:
    # 1 worker at 50 ms: one at a time is 20 req/s; 16 queued requests drain in 0.8 s.
    return LoadedRun(
        ok=ok,
        duration_s=3,
        workers=1,
        latency_ms=50,
        connections=connections,
        recovered_s=recovered_s,
        recovery_timeout_s=10,
    )


def test_classify_run_tells_deadlock_stall_and_concurrency_apart() -> None:
    assert classify_run(_run(ok=0, recovered_s=None)) is Behaviour.DEADLOCKED
    # Some requests went through before it locked up: still a deadlock.
    assert classify_run(_run(ok=37, recovered_s=None)) is Behaviour.DEADLOCKED
    assert classify_run(_run(ok=58)) is Behaviour.SERIALISED
    assert classify_run(_run(ok=90)) is Behaviour.SERIALISED  # 30 req/s = 1.5 x 20
    assert classify_run(_run(ok=91)) is Behaviour.CONCURRENT
    assert classify_run(_run(ok=2400)) is Behaviour.CONCURRENT


def test_classify_run_does_not_call_a_busy_core_a_stall() -> None:
    # 1.6 ms of CPU per request: 900 req/s one at a time is all one core does.
    fast = LoadedRun(
        ok=3600, duration_s=4, workers=1, latency_ms=1.6, connections=32,
        recovered_s=0.02, recovery_timeout_s=10,
    )  # fmt: skip
    assert classify_run(fast) is Behaviour.CPU_BOUND


def test_classify_run_refuses_a_recovery_wait_too_short_to_tell() -> None:
    # 256 queued requests at 20 req/s need 12.8 s to drain, more than the 10 s waited.
    with pytest.raises(ValueError, match=r"take 12\.8 s to drain"):
        classify_run(_run(ok=0, recovered_s=None, connections=256))


@pytest.mark.parametrize(
    ("runs", "outcome"),
    [
        (
            {"blocking in async def": _run(12, None), "async client": _run(2400)},
            Outcome.SUPPORTED,
        ),
        ({"blocking in async def": _run(59), "async client": _run(2400)}, Outcome.CONTRADICTED),
        # A recipe built to deadlock does not decide the claim: the article's mistake does.
        (
            {
                "blocking in async def": _run(59),
                "sync deps + pool": _run(0, None),
                "async": _run(2400),
            },
            Outcome.CONTRADICTED,
        ),
        (
            {"blocking, 1 worker": _run(12, None), "blocking, 4 workers": _run(59)},
            Outcome.DEPENDS,
        ),
    ],
)
def test_deadlock_rule(runs: dict[str, LoadedRun], outcome: Outcome) -> None:
    mixing = [name for name in runs if name.startswith("blocking")]
    verdict = deadlock_rule(CLAIM, runs, mixing=mixing)
    assert verdict.outcome is outcome


def test_deadlock_rule_reports_the_designed_deadlock_as_a_separate_finding() -> None:
    runs = {"blocking in async def": _run(59), "sync deps + pool": _run(0, None)}
    verdict = deadlock_rule(CLAIM, runs, mixing=["blocking in async def"])
    assert verdict.condition == (
        "holds in none of the 1 configurations measured: blocking in async def serialised "
        "(stall); a deadlock was measured only in sync deps + pool (a separate finding)"
    )
    assert verdict.findings[1].startswith("sync deps + pool (separate finding): 0.0 ok req/s")


def _cold(name: str, ms: float, reference_ms: float = 400.0) -> ColdStartInput:
    return ColdStartInput(name, ms, "Flask on gunicorn sync", reference_ms)


@pytest.mark.parametrize(
    ("points", "outcome"),
    [
        ([_cold("Django full", 1250.0), _cold("Django minimal", 1010.0)], Outcome.SUPPORTED),
        # slow but not 2x the alternative; 2x the alternative but under a second
        (
            [_cold("Django full", 1250.0, 700.0), _cold("Django minimal", 900.0)],
            Outcome.CONTRADICTED,
        ),
        ([_cold("Django full", 1250.0), _cold("Django minimal", 700.0)], Outcome.DEPENDS),
    ],
)
def test_cold_start_rule(points: list[ColdStartInput], outcome: Outcome) -> None:
    assert cold_start_rule(CLAIM, points).outcome is outcome


def test_growth_per_row_is_the_least_squares_slope() -> None:
    assert growth_per_row({1_000: 1.0e6, 10_000: 4.6e6, 100_000: 40.6e6}) == pytest.approx(400.0)
    with pytest.raises(ValueError, match="two table sizes"):
        growth_per_row({1_000: 1.0e6})


@pytest.mark.parametrize(
    ("growth", "outcome"),
    [
        ({"Django all": 1450.0, "Django stream": 12.0}, Outcome.SUPPORTED),
        ({"Django all": 200.0}, Outcome.SUPPORTED),  # just at the threshold
        ({"Django all": 199.0, "Django stream": 1450.0}, Outcome.CONTRADICTED),
    ],
)
def test_whole_table_rule_judges_the_articles_query(
    growth: dict[str, float], outcome: Outcome
) -> None:
    verdict = whole_table_rule(CLAIM, growth, judged=["Django all"])
    assert verdict.outcome is outcome
    assert [f for f in verdict.findings if "separate finding" in f] == [
        f for f in verdict.findings if not f.startswith("Django all:")
    ]


def test_whole_table_rule_needs_the_articles_query() -> None:
    with pytest.raises(ValueError, match="article's query was not measured: Django all"):
        whole_table_rule(CLAIM, {"Django stream": 12.0}, judged=["Django all"])


def _n1(
    name: str,
    naive: tuple[int, int],
    eager: tuple[int, int],
    gain: float,
    printed: tuple[int, int] | None = None,
) -> NPlusOneInput:
    small, large = printed if printed is not None else (None, None)
    return NPlusOneInput(
        name, 10, 100, naive[0], naive[1], eager[0], eager[1], 100.0, 100.0 * gain, small, large
    )


@pytest.mark.parametrize(
    ("django", "outcome"),
    [
        (_n1("Django", (11, 101), (1, 1), 4.0, (11, 101)), Outcome.SUPPORTED),
        (_n1("Django", (11, 101), (1, 1), 1.25, (11, 101)), Outcome.SUPPORTED),  # just at 1.25x
        (_n1("Django", (11, 101), (1, 1), 1.24, (11, 101)), Outcome.CONTRADICTED),
        (_n1("Django", (2, 2), (1, 1), 1.0, (2, 2)), Outcome.CONTRADICTED),  # no N+1
        (_n1("Django", (11, 101), (1, 1), 4.0, (1, 1)), Outcome.CONTRADICTED),  # tip missed it
        (_n1("Django", (11, 101), (1, 1), 4.0), Outcome.INCONCLUSIVE),  # tip not run
    ],
)
def test_n_plus_one_rule_judges_the_tip_on_django(django: NPlusOneInput, outcome: Outcome) -> None:
    # SQLAlchemy's listing, whatever it shows, is a separate finding of a Django tip.
    other = _n1("SQLAlchemy", (2, 2), (2, 2), 1.0)
    verdict = n_plus_one_rule(CLAIM, [django, other], judged=["Django"])
    assert verdict.outcome is outcome
    assert verdict.findings[1].startswith("SQLAlchemy (separate finding): naive 2 -> 2")


def test_n_plus_one_findings_show_what_the_tip_printed() -> None:
    verdict = n_plus_one_rule(CLAIM, [_n1("Django", (11, 101), (1, 1), 4.0, (11, 101))], ["Django"])
    assert verdict.findings[0].endswith(
        "; shell_plus --print-sql printed 11 -> 101 statements: caught"
    )


@pytest.mark.parametrize(
    ("closures", "outcome"),
    [
        ({"flask": 24, "fastapi": 20, "django": 18}, Outcome.SUPPORTED),
        ({"flask": 12, "fastapi": 20, "django": 18}, Outcome.CONTRADICTED),
        ({"flask": 21, "fastapi": 20, "django": 25}, Outcome.DEPENDS),
        ({"flask": 14, "fastapi": 10, "django": 9}, Outcome.DEPENDS),
    ],
)
def test_sprawl_rule(closures: dict[str, int], outcome: Outcome) -> None:
    assert sprawl_rule(CLAIM, closures, "flask", 15).outcome is outcome


ARTICLE_RPS = {"FastAPI": 12_000.0, "Flask": 4_500.0, "Django": 2_800.0}
ARTICLE_MB = {"FastAPI": 90.0, "Flask": 120.0, "Django": 310.0}
ARTICLE_MS = {"FastAPI": 300.0, "Flask": 150.0, "Django": 1_200.0}


def test_repeats_that_overlap_or_lone_figures_close_together_are_not_distinguishable() -> None:
    # The audit's case: 255 vs 246 req/s, one figure each, flips between runs.
    assert not distinguishable([255.0], [246.0])
    assert distinguishable([255.0], [200.0])
    assert not distinguishable([250.0, 255.0, 260.0], [245.0, 252.0, 258.0])
    # Three repeats each, apart: ranges decide (Mann-Whitney cannot reach p < 0.05).
    assert distinguishable([300.0, 301.0, 302.0], [240.0, 241.0, 242.0])
    # Apart but within 10% of each other: a tie, as drift between runs is larger.
    assert not distinguishable([250.0, 251.0, 252.0], [240.0, 241.0, 242.0])
    # Five each: Mann-Whitney U decides, as in fwbench compare.
    assert distinguishable([10.0, 11, 12, 13, 14], [20.0, 21, 22, 23, 24])
    assert not distinguishable([10.0, 21, 12, 23, 14], [20.0, 11, 22, 13, 24])


def test_ranking_groups_ties() -> None:
    values = {"FastAPI": [1900.0], "Flask": [254.0], "Django": [257.0]}
    assert ranking(values, higher_first=True) == [["FastAPI"], ["Django", "Flask"]]
    assert ranking(values, higher_first=False) == [["Flask", "Django"], ["FastAPI"]]


# Every column of the table: its article, whether higher ranks first, and measured
# configurations that rank as the article, against it, and with a tie.
COLUMNS = [
    (
        ARTICLE_RPS,
        True,
        {"FastAPI": [3000.0, 3100.0], "Flask": [1300.0, 1310.0], "Django": [800.0, 810.0]},
        {"FastAPI": [1000.0, 1010.0], "Flask": [1300.0, 1310.0], "Django": [800.0, 810.0]},
        {"FastAPI": [3000.0, 3100.0], "Flask": [254.0], "Django": [257.0]},
    ),
    (
        ARTICLE_MB,
        False,
        {"FastAPI": [88.0, 90.0], "Flask": [130.0, 133.0], "Django": [300.0, 305.0]},
        {"FastAPI": [88.0, 90.0], "Flask": [360.0, 363.0], "Django": [300.0, 305.0]},
        {"FastAPI": [88.0, 90.0], "Flask": [177.0, 180.0], "Django": [179.0, 184.0]},
    ),
    (
        ARTICLE_MS,
        False,
        {"FastAPI": [300.0, 320.0, 310.0], "Flask": [150.0, 160.0, 155.0], "Django": [1200.0]},
        {"FastAPI": [670.0, 690.0, 660.0], "Flask": [1337.0, 1300.0, 1350.0], "Django": [961.0]},
        {"FastAPI": [300.0, 320.0, 310.0], "Flask": [150.0, 160.0, 155.0], "Django": [330.0]},
    ),
]


@pytest.mark.parametrize(("article", "higher_first", "same", "other", "tie"), COLUMNS)
def test_table_ranking_rule_on_every_column(
    article: dict[str, float],
    higher_first: bool,
    same: dict[str, list[float]],
    other: dict[str, list[float]],
    tie: dict[str, list[float]],
) -> None:
    def judge(**configs: dict[str, list[float]]) -> Outcome:
        return table_ranking_rule(CLAIM, configs, article, "x", higher_first).outcome

    assert judge(a=same) is Outcome.SUPPORTED
    assert judge(a=other) is Outcome.CONTRADICTED
    assert judge(a=same, b=other) is Outcome.DEPENDS
    assert judge(a=tie) is Outcome.INCONCLUSIVE


def test_table_ranking_findings_print_ties() -> None:
    _, _, _, _, tie = COLUMNS[0]
    verdict = table_ranking_rule(CLAIM, {"canonical": tie}, ARTICLE_RPS, "throughput", True)
    assert verdict.findings == (
        "canonical: FastAPI > Django = Flask (a tie leaves the order undecided)",
    )
    assert "(FastAPI > Flask > Django)" in verdict.rule
    memory = table_ranking_rule(CLAIM, {"c": COLUMNS[1][2]}, ARTICLE_MB, "memory", False)
    assert "(FastAPI < Flask < Django)" in memory.rule
    assert memory.findings == ("c: FastAPI < Flask < Django (as the article)",)


@pytest.mark.parametrize(
    ("article", "measured", "outcome"),
    [
        # ratios to FastAPI: article 0.375 and 0.233 (req/s)
        (ARTICLE_RPS, {"FastAPI": [3000.0], "Flask": [1200.0], "Django": [700.0]}, "supported"),
        (ARTICLE_RPS, {"FastAPI": [3000.0], "Flask": [2700.0], "Django": [700.0]}, "contra"),
        # memory: 1.33 and 3.44; Flask's 1.99 is just inside 1.33 x 1.5, Django's 3.44 exact
        (ARTICLE_MB, {"FastAPI": [100.0], "Flask": [199.0], "Django": [344.0]}, "supported"),
        (ARTICLE_MB, {"FastAPI": [100.0], "Flask": [201.0], "Django": [344.0]}, "contra"),
        (ARTICLE_MB, {"FastAPI": [100.0], "Flask": [195.0, 205.0], "Django": [344.0]}, "open"),
        # cold start: 0.5 and 4
        (ARTICLE_MS, {"FastAPI": [600.0], "Flask": [300.0], "Django": [2400.0]}, "supported"),
        (ARTICLE_MS, {"FastAPI": [670.0], "Flask": [1337.0], "Django": [961.0]}, "contra"),
    ],
)
def test_table_ratio_rule_on_every_column(
    article: dict[str, float], measured: dict[str, list[float]], outcome: str
) -> None:
    expected = {
        "supported": Outcome.SUPPORTED,
        "contra": Outcome.CONTRADICTED,
        "open": Outcome.INCONCLUSIVE,
    }[outcome]
    assert table_ratio_rule(CLAIM, {"c": measured}, article, "x").outcome is expected


def test_table_rules_need_every_framework() -> None:
    partial = {"c": {"FastAPI": [1.0], "Flask": [1.0]}}
    with pytest.raises(ValueError, match="no throughput measured for Django"):
        table_ranking_rule(CLAIM, partial, ARTICLE_RPS, "throughput", True)
    with pytest.raises(ValueError, match="no throughput measured for Django"):
        table_ratio_rule(CLAIM, partial, ARTICLE_RPS, "throughput")


@pytest.mark.parametrize(
    ("measured", "outcome"),
    [
        (
            {"10 ms, 64 conns": (2400.0, 2500.0), "50 ms, 64 conns": (1000.0, 1250.0)},
            Outcome.SUPPORTED,
        ),
        (
            {"10 ms, 64 conns": (330.0, 2588.0), "50 ms, 64 conns": (999.0, 1250.0)},
            Outcome.CONTRADICTED,
        ),
        ({"10 ms, 64 conns": (330.0, 2588.0), "200 ms, 16 conns": (75.0, 76.0)}, Outcome.DEPENDS),
    ],
)
def test_competitive_rule_needs_80_percent_of_the_alternative(
    measured: dict[str, tuple[float, float]], outcome: Outcome
) -> None:
    verdict = competitive_rule(CLAIM, measured, "httpx.AsyncClient", "aiohttp")
    assert verdict.outcome is outcome
    assert ">= 80% of the throughput of aiohttp" in verdict.rule
