"""Summaries of repeated measurements: median, range, coefficient of variation."""

from __future__ import annotations

import math
import statistics

import pytest

from fwbench.harness.stats import UNSTABLE_CV, Summary, summarize


def test_summarizes_repeats() -> None:
    summary = summarize([100.0, 110.0, 90.0])
    assert summary.n == 3
    assert summary.median == 100.0
    assert summary.mean == pytest.approx(100.0)
    assert (summary.min, summary.max) == (90.0, 110.0)
    assert summary.stdev == pytest.approx(10.0)
    assert summary.cv == pytest.approx(0.10)


def test_median_of_an_even_count_is_the_middle_mean() -> None:
    assert summarize([1.0, 2.0, 3.0, 10.0]).median == 2.5


def test_one_value_has_no_spread() -> None:
    summary = summarize([42.0])
    assert (summary.median, summary.stdev, summary.cv) == (42.0, 0.0, None)
    assert not summary.unstable


def test_zero_mean_has_no_coefficient_of_variation() -> None:
    assert summarize([0.0, 0.0]).cv is None


def test_flags_a_spread_above_ten_percent() -> None:
    stable = summarize([1000.0, 1050.0, 950.0])
    unstable = summarize([1000.0, 1300.0, 800.0])
    assert stable.cv is not None and stable.cv <= UNSTABLE_CV
    assert not stable.unstable
    assert unstable.cv is not None and unstable.cv > UNSTABLE_CV
    assert unstable.unstable


def test_mean_stays_within_the_range_for_equal_values() -> None:
    values = [0.1] * 7
    summary = summarize(values)
    assert summary.min <= summary.mean <= summary.max
    assert summary.mean == pytest.approx(statistics.fmean(values))


def test_refuses_empty_and_non_finite_values() -> None:
    with pytest.raises(ValueError, match="empty"):
        summarize([])
    with pytest.raises(ValueError, match="finite"):
        summarize([1.0, math.nan])
    with pytest.raises(ValueError, match="finite"):
        summarize([math.inf])


def test_summary_validates_consistency() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        Summary(n=2, median=5.0, mean=5.0, min=6.0, max=7.0, stdev=0.0, cv=0.0)
    with pytest.raises(ValueError, match="at least one"):
        Summary(n=0, median=0.0, mean=0.0, min=0.0, max=0.0, stdev=0.0, cv=None)
    with pytest.raises(ValueError, match="negative"):
        Summary(n=2, median=1.0, mean=1.0, min=1.0, max=1.0, stdev=-1.0, cv=None)
