"""Descriptive statistics of repeated measurements.

A benchmark point is measured a few times (3 by default), so the summary reports what a
reader needs to judge such a small sample: the median (robust to one outlier), the range
(min and max, every value is kept) and the coefficient of variation, which flags unstable
points the way pyperf does (https://pyperf.readthedocs.io/en/latest/analyze.html).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: A coefficient of variation above this marks a point as unstable (pyperf warns at 10%:
#: "the standard deviation ... is 10% of the mean" in ``pyperf check``).
UNSTABLE_CV: Final = 0.10


@dataclass(frozen=True)
class Summary:
    """Summary of ``n`` repeated values of one metric.

    ``stdev`` is the sample standard deviation (n - 1 denominator); ``cv`` is
    ``stdev / mean`` and is ``None`` when it means nothing: a single value, or a mean of 0.
    """

    n: int
    """Values summarized."""
    median: float
    """Median of the values."""
    mean: float
    """Mean of the values."""
    min: float
    """Smallest value."""
    max: float
    """Largest value."""
    stdev: float
    """Sample standard deviation (n - 1 denominator)."""
    cv: float | None
    """Coefficient of variation ``stdev / mean``; null for one value or a zero mean. Above
    0.10 the values are unstable (pyperf's rule)."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"a summary needs at least one value, got n={self.n}")
        values = (self.median, self.mean, self.min, self.max, self.stdev)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"summary values must be finite numbers: {values}")
        if not self.min <= self.median <= self.max or not self.min <= self.mean <= self.max:
            raise ValueError(
                f"inconsistent summary: min {self.min}, median {self.median}, "
                f"mean {self.mean}, max {self.max}"
            )
        if self.stdev < 0 or (self.cv is not None and self.cv < 0):
            raise ValueError("stdev and cv cannot be negative")

    @property
    def unstable(self) -> bool:
        """True when the spread is too large for the median to be trusted (CV > 10%)."""
        return self.cv is not None and self.cv > UNSTABLE_CV


def summarize(values: Sequence[float]) -> Summary:
    """Summarize repeated measurements of one metric.

    Args:
        values: the raw values, in measurement order; at least one, all finite.
    """
    if not values:
        raise ValueError("cannot summarize an empty list of values")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"values must be finite numbers: {list(values)}")
    mean = statistics.fmean(values)
    stdev = statistics.stdev(values) if len(values) > 1 else 0.0
    cv = stdev / mean if len(values) > 1 and mean > 0 else None
    return Summary(
        n=len(values),
        median=float(statistics.median(values)),
        # fmean can land a rounding error outside [min, max] for equal values.
        mean=min(max(mean, min(values)), max(values)),
        min=float(min(values)),
        max=float(max(values)),
        stdev=stdev,
        cv=cv,
    )
