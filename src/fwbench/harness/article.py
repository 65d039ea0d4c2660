"""The article's table: the figures it published and the ones measured here, by one rule.

The terminal (:mod:`fwbench.harness.display`), the HTML and Markdown report
(:mod:`fwbench.report.model`) and ``advise`` read their measured figures through this
module, so the same results file shows the same figures everywhere. The rule: only valid
points count (a point with socket errors or unexpected statuses is not a measurement of
the service working); throughput is the best median over the concurrencies measured,
memory the steady PSS of the whole process tree at the valid point with the most of it,
cold start the median spawn-to-first-domain-request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fwbench.harness.results import ColdStart, Point, Results
from fwbench.harness.servers import Framework

#: Megabytes as the article counts them (10^6 bytes).
MB: Final = 1_000_000


@dataclass(frozen=True)
class ArticleFigures:
    """One framework's row as the article published it."""

    rps: int
    memory_mb: int
    cold_start_ms: int


#: The article's table (section 3, "Performance: The Truth Beyond Benchmarks"):
#: requests/s (I/O), memory (MB) and cold start (ms), quoted as published.
ARTICLE: Final[dict[Framework, ArticleFigures]] = {
    "fastapi": ArticleFigures(12_000, 90, 300),
    "flask": ArticleFigures(4_500, 120, 150),
    "django": ArticleFigures(2_800, 310, 1_200),
}


def scenario_points(results: Results, framework: str, server: str, scenario: str) -> list[Point]:
    """Every point of a pair and scenario, valid or not, in concurrency order."""
    return sorted(
        (
            p
            for p in results.points
            if (p.framework, p.server, p.scenario) == (framework, server, scenario)
        ),
        key=lambda p: p.connections,
    )


def best_point(results: Results, framework: str, server: str, scenario: str) -> Point | None:
    """The valid point of a pair and scenario with the highest median throughput."""
    valid = [p for p in scenario_points(results, framework, server, scenario) if p.valid]
    return max(valid, key=lambda p: p.throughput.median, default=None)


def heaviest_memory(results: Results, framework: str, server: str) -> Point | None:
    """The valid point of a pair with the largest steady memory (PSS of the whole process
    tree): its footprint under the heaviest load measured, the figure to plan capacity
    with. None when no valid point profiled memory."""
    profiled = [
        p
        for p in results.points
        if (p.framework, p.server) == (framework, server) and p.valid and p.memory is not None
    ]
    return max(profiled, key=lambda p: p.memory.steady.pss if p.memory else 0, default=None)


@dataclass(frozen=True)
class MeasuredRow:
    """The measured figures of one framework/server pair (None: not measured, or no
    valid point).

    Attributes:
        framework / server: the pair.
        throughput: the best valid point of the table's scenario.
        memory: the valid point with the largest steady memory.
        cold_start: the pair's cold starts.
    """

    framework: str
    server: str
    throughput: Point | None
    memory: Point | None
    cold_start: ColdStart | None

    @property
    def rps(self) -> float | None:
        """Median requests/s of :attr:`throughput`."""
        return None if self.throughput is None else self.throughput.throughput.median

    @property
    def memory_mb(self) -> float | None:
        """Steady PSS of the whole process tree in MB."""
        profile = None if self.memory is None else self.memory.memory
        return None if profile is None else profile.steady.pss / MB

    @property
    def cold_start_ms(self) -> float | None:
        """Median spawn to first domain response, in milliseconds."""
        return None if self.cold_start is None else self.cold_start.first_request.median


def measured_row(
    results: Results, framework: str, server: str, scenario: str = "io"
) -> MeasuredRow:
    """The article's columns measured for one pair, throughput taken from ``scenario``."""
    return MeasuredRow(
        framework,
        server,
        best_point(results, framework, server, scenario),
        heaviest_memory(results, framework, server),
        results.cold_start(framework, server),
    )
