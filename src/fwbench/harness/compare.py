"""``fwbench compare A.json B.json``: ratios of two runs with a significance verdict.

Like pyperf's ``compare_to`` and asv's ``compare``, a difference is only called a
difference when the raw repeats say it is real:

* Mann-Whitney U (two-sided, exact for small samples; scipy) on the raw repeats of
  each side, significant at p < 0.05 (asv uses the same test);
* with too few repeats for the test to ever reach p < 0.05 (3 against 3: the smallest
  two-sided p is 0.1), non-overlapping ranges (every value of one side beyond every
  value of the other) stand in, and the verdict says which rule decided.

Two runs measured under different conditions (machine, CPU placement, duration,
connections ...) are refused, as pyperf refuses to compare incompatible benchmarks:
their ratios would measure the conditions, not the frameworks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from scipy.stats import mannwhitneyu

from fwbench.harness.errors import FwbenchError
from fwbench.harness.results import Results
from fwbench.harness.stats import summarize

#: Significance level of the Mann-Whitney U test.
ALPHA: Final = 0.05

Better = Literal["higher", "lower"]


class IncomparableResults(FwbenchError):
    """Two results files measured under different conditions."""


@dataclass(frozen=True)
class Metric:
    """One figure compared between the runs.

    Attributes:
        subject: what was measured, e.g. ``fastapi/uvicorn io c=64``.
        name: the metric: ``req/s``, ``p99 ms``, or ``first req ms`` (cold start).
        better: ``"higher"`` or ``"lower"``.
        a / b: the raw values of each run.
    """

    subject: str
    name: str
    better: Better
    a: tuple[float, ...]
    b: tuple[float, ...]

    @property
    def ratio(self) -> float:
        """Median of B over median of A (inf when A's median is 0)."""
        a, b = summarize(self.a).median, summarize(self.b).median
        return b / a if a else math.inf

    @property
    def test(self) -> str:
        """The rule that decides significance: ``mann-whitney`` or ``ranges``."""
        return "mann-whitney" if _min_p_value(len(self.a), len(self.b)) < ALPHA else "ranges"

    @property
    def p_value(self) -> float | None:
        """Two-sided Mann-Whitney U p-value; None when the ranges rule decides."""
        if self.test != "mann-whitney":
            return None
        return float(mannwhitneyu(self.a, self.b, alternative="two-sided").pvalue)

    @property
    def significant(self) -> bool:
        """Whether A and B differ by the rule of :attr:`test`."""
        p_value = self.p_value
        if p_value is not None:
            return p_value < ALPHA
        return max(self.a) < min(self.b) or max(self.b) < min(self.a)

    @property
    def verdict(self) -> str:
        """``better``, ``worse`` (B relative to A) or ``not significant``."""
        if not self.significant:
            return "not significant"
        b_higher = summarize(self.b).median > summarize(self.a).median
        return "better" if b_higher == (self.better == "higher") else "worse"


def _min_p_value(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value an exact Mann-Whitney U test can give for samples
    of ``n_a`` and ``n_b`` values: both extreme orderings out of all of them."""
    return 2 / math.comb(n_a + n_b, n_a)


@dataclass(frozen=True)
class Comparison:
    """The comparison of two runs.

    Attributes:
        metrics: every figure both runs measured.
        only_a / only_b: subjects measured by one run only.
    """

    metrics: tuple[Metric, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]


def differences(a: Results, b: Results) -> list[str]:
    """The conditions under which ``a`` and ``b`` were measured differently, as phrases;
    empty when they are comparable."""
    found = a.machine.differences(b.machine)
    if a.placement != b.placement:
        found.append(
            f"CPU placement service {list(a.placement.service_cpus)} / load "
            f"{list(a.placement.load_cpus)} vs service {list(b.placement.service_cpus)} / "
            f"load {list(b.placement.load_cpus)}"
        )
    conditions_a, conditions_b = a.config.conditions(), b.config.conditions()
    found += [
        f"{name} {_show(conditions_a[name])} vs {_show(conditions_b[name])}"
        for name in conditions_a
        if conditions_a[name] != conditions_b[name]
    ]
    return found


def _show(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def compare(a: Results, b: Results) -> Comparison:
    """Compare every point and cold start both runs measured.

    Args:
        a: the baseline run.
        b: the run compared with it (ratios are B / A).

    Raises:
        IncomparableResults: the runs were measured under different conditions.
    """
    found = differences(a, b)
    if found:
        raise IncomparableResults(
            "the two runs were measured under different conditions (" + "; ".join(found) + ")",
            "compare runs made on the same machine with the same options",
        )
    metrics: list[Metric] = []
    subjects_a: list[str] = []
    subjects_b: list[str] = []
    for point in a.points:
        subject = f"{point.framework}/{point.server} {point.scenario} c={point.connections}"
        subjects_a.append(subject)
        other = b.point(*point.key)
        if other is None:
            continue
        metrics += [
            Metric(
                subject,
                "req/s",
                "higher",
                tuple(s.throughput for s in point.repeats),
                tuple(s.throughput for s in other.repeats),
            ),
            Metric(
                subject,
                "p99 ms",
                "lower",
                tuple(s.latency_us.p99 / 1000 for s in point.repeats),
                tuple(s.latency_us.p99 / 1000 for s in other.repeats),
            ),
        ]
    for cold in a.cold_starts:
        subject = f"{cold.framework}/{cold.server} cold start"
        subjects_a.append(subject)
        other_cold = b.cold_start(cold.framework, cold.server)
        if other_cold is not None:
            metrics.append(
                Metric(
                    subject,
                    "first req ms",
                    "lower",
                    cold.first_request_ms,
                    other_cold.first_request_ms,
                )
            )
    subjects_b += [f"{p.framework}/{p.server} {p.scenario} c={p.connections}" for p in b.points]
    subjects_b += [f"{c.framework}/{c.server} cold start" for c in b.cold_starts]
    return Comparison(
        metrics=tuple(metrics),
        only_a=_missing(subjects_a, subjects_b),
        only_b=_missing(subjects_b, subjects_a),
    )


def _missing(subjects: Sequence[str], others: Sequence[str]) -> tuple[str, ...]:
    return tuple(s for s in subjects if s not in set(others))
