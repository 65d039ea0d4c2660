"""The verdict rules: pure functions from recorded numbers to a :class:`Verdict`.

Every rule is written down twice, in the code below and in the ``rule`` text the verdict
carries (and ``fwbench claims`` prints), with its thresholds. Most rules share one shape:
a per-configuration test ("does the claim hold on this server, at this latency, in this
framework?"), then :func:`across`: supported when it holds in every configuration
measured, contradicted when it holds in none, depends on configuration otherwise, naming
both sides.

Two conventions hold for every rule:

* **Matching a figure** (:data:`MATCH`): a measured figure or ratio matches the article's
  "Nx", "~50 RPS/core" or "300MB" when it lies within a factor
  :data:`ROUND_FIGURE_FACTOR` of it, either way. 43x does not match "3x".
* **Margins**: a figure is a :class:`Measured` value with the spread of its repeats (or
  samples). A test that the spread straddles (part of it on each side of a threshold) is
  undecided, and a verdict resting on it is "inconclusive here", naming the measurement
  that would settle it. So a verdict does not flip on noise.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from fwbench.experiments.model import Outcome, Verdict
from fwbench.harness.compare import Metric
from fwbench.harness.stats import UNSTABLE_CV

#: A round figure or ratio of the article is matched by a measurement within this factor
#: of it, either way.
ROUND_FIGURE_FACTOR = 1.5
#: The one definition of "matches", printed with every verdict that uses it.
MATCH = (
    f"a measured figure or ratio matches the article's when it lies within a factor "
    f"{ROUND_FIGURE_FACTOR} of it, either way"
)
#: What settles a test the evidence's spread leaves undecided, unless a rule says better.
MORE_REPEATS = "rerun with more repeats on a quiet machine (fwbench claims, full mode)"


@dataclass(frozen=True)
class Measured:
    """A measured figure: ``value`` (the median) and the ``low``-``high`` range of its
    repeats or samples, which a threshold must clear to decide a test."""

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Measured:
        """The median and range of ``values`` (one or more)."""
        if not values:
            raise ValueError("a measured figure needs at least one value")
        return cls(float(statistics.median(values)), float(min(values)), float(max(values)))

    @classmethod
    def exact(cls, value: float) -> Measured:
        """A figure without spread (a count, a setting)."""
        return cls(value, value, value)

    def over(self, other: Measured) -> Measured:
        """The ratio ``self / other`` of the medians, with a relative half-range that adds
        both figures' relative half-ranges in quadrature (first-order propagation for
        independent measurements). Dividing the extremes instead assumes both figures
        were at their worst at once: with three repeats, one slow warm-up repeat then
        moved a 2.8x ratio's range below 2x in one run out of three."""
        ratio = self.value / other.value
        spread = math.hypot(self.relative_spread, other.relative_spread)
        return Measured(ratio, ratio * max(0.0, 1 - spread), ratio * (1 + spread))

    @property
    def relative_spread(self) -> float:
        """Half the range, as a fraction of the median."""
        return (self.high - self.low) / 2 / self.value if self.value else 0.0

    def text(self, unit: str = "") -> str:
        """e.g. ``197 MB (195-201)``; no range when there is no spread."""
        suffix = f" {unit}" if unit else ""
        if self.low == self.high:
            return f"{_fmt(self.value)}{suffix}"
        return f"{_fmt(self.value)}{suffix} ({_fmt(self.low)}-{_fmt(self.high)})"


def at_least(figure: Measured, threshold: float) -> bool | None:
    """Whether ``figure`` is >= ``threshold``; None when its range straddles it."""
    if figure.low >= threshold:
        return True
    if figure.high < threshold:
        return False
    return None


def matches(figure: Measured, claimed: float) -> bool | None:
    """Whether ``figure`` matches ``claimed`` (:data:`MATCH`); None when its range
    straddles an edge of the band."""
    low, high = claimed / ROUND_FIGURE_FACTOR, claimed * ROUND_FIGURE_FACTOR
    if low <= figure.low and figure.high <= high:
        return True
    if figure.high < low or figure.low > high:
        return False
    return None


def _every(tests: Sequence[bool | None]) -> bool | None:
    """Whether every test holds: False if one fails, None if one is undecided."""
    return False if False in tests else None if None in tests else True


def _word(held: bool | None, yes: str, no: str) -> str:
    return yes if held else no if held is not None else "within its spread of the threshold"


def across(
    claim: str,
    rule: str,
    holds: Mapping[str, bool | None],
    findings: Sequence[str],
    settle: str = MORE_REPEATS,
) -> Verdict:
    """Judge a claim from a per-configuration test.

    ``holds`` maps each configuration measured (a readable name) to whether the claim held
    there, None when the evidence's spread leaves it undecided; ``findings`` are the
    lines explaining each test with its numbers; ``settle`` what would decide an
    undecided test. Raises ``ValueError`` when nothing was measured: no evidence, no
    verdict.
    """
    if not holds:
        raise ValueError("no configuration was measured, so there is nothing to judge")
    yes = [name for name, held in holds.items() if held]
    no = [name for name, held in holds.items() if held is False]
    open_ = [name for name, held in holds.items() if held is None]
    undecided = f". Undecided (within the spread): {'; '.join(open_)}" if open_ else ""
    if yes and no:
        outcome = Outcome.DEPENDS
        condition = f"holds for {'; '.join(yes)}. Does not hold for {'; '.join(no)}{undecided}"
    elif open_:
        outcome = Outcome.INCONCLUSIVE
        decided = f"holds for {'; '.join(yes)}. " if yes else ""
        decided += f"does not hold for {'; '.join(no)}. " if no else ""
        condition = (
            f"{decided}within the evidence's spread of the threshold: {'; '.join(open_)}; "
            f"to settle it, {settle}"
        )
    elif not no:
        outcome, condition = (
            Outcome.SUPPORTED,
            f"holds in every configuration measured ({len(yes)})",
        )
    else:
        outcome, condition = (
            Outcome.CONTRADICTED,
            f"holds in none of the {len(no)} configurations measured",
        )
    return Verdict(claim, outcome, rule, condition, tuple(findings))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")


def _band(claimed: float) -> str:
    return f"{_fmt(claimed / ROUND_FIGURE_FACTOR)} to {_fmt(claimed * ROUND_FIGURE_FACTOR)}"


# --- 1. ratios such as "3x faster than Flask for I/O bound tasks" -------------------------


def ratio_rule(claim: str, ratios: Mapping[str, Measured], claimed: float, what: str) -> Verdict:
    """Judge "``claimed``x faster" from measured ratios, one per configuration.

    ``ratios`` maps a configuration (e.g. "uvicorn vs gunicorn sync") to the measured
    ratio with its range; ``what`` names the ratio for the rule text (e.g.
    "FastAPI/Flask io throughput").
    """
    rule = (
        f"{MATCH}. Supported if the {what} ratio matches the claimed {_fmt(claimed)}x "
        f"({_band(claimed)}) in every configuration measured; contradicted if it matches in "
        f"none; depends on configuration otherwise; inconclusive where its range straddles "
        f"an edge of the band"
    )
    holds = {name: matches(ratio, claimed) for name, ratio in ratios.items()}
    findings = [
        f"{name}: {ratio.text()}x "
        f"{_word(holds[name], 'matches', 'below' if ratio.high < claimed else 'above')} "
        f"{_fmt(claimed)}x ({_band(claimed)})"
        for name, ratio in ratios.items()
    ]
    return across(claim, rule, holds, findings)


# --- 2. round figures such as "~50 RPS/core" or "300MB" ----------------------------------


def near_figure_rule(
    claim: str, measured: Mapping[str, Measured], claimed: float, what: str, unit: str
) -> Verdict:
    """Judge an "about ``claimed``" figure: holds where the measurement matches it
    (:data:`MATCH`)."""
    rule = (
        f"{MATCH}. Supported if the {what} matches the claimed {_fmt(claimed)} {unit} "
        f"({_band(claimed)}) in every configuration measured; contradicted if in none; "
        f"depends on configuration otherwise; inconclusive where its range straddles an edge"
    )
    holds = {name: matches(value, claimed) for name, value in measured.items()}
    findings = [
        f"{name}: {value.text(unit)} {_word(holds[name], 'within', 'outside')} {_band(claimed)}"
        for name, value in measured.items()
    ]
    return across(claim, rule, holds, findings)


def at_least_figure_rule(
    claim: str,
    measured: Mapping[str, Measured],
    claimed: float,
    what: str,
    unit: str,
    settle: str = MORE_REPEATS,
) -> Verdict:
    """Judge a cost figure ("300MB overhead"): holds where the measured cost is at least
    the claimed one, less the :data:`ROUND_FIGURE_FACTOR` tolerance (a larger cost still
    bears the warning out). ``settle`` says what would decide a figure whose range
    straddles the edge (default: more repeats)."""
    low = claimed / ROUND_FIGURE_FACTOR
    rule = (
        f"supported if the {what} is at least the claimed {_fmt(claimed)} {unit} within a "
        f"factor {ROUND_FIGURE_FACTOR} (>= {_fmt(low)} {unit}) in every configuration "
        f"measured; contradicted if below in all; depends on configuration otherwise; "
        f"inconclusive where its range straddles {_fmt(low)} {unit}"
    )
    holds = {name: at_least(value, low) for name, value in measured.items()}
    findings = [
        f"{name}: {value.text(unit)} {_word(holds[name], '>=', '<')} {_fmt(low)}"
        for name, value in measured.items()
    ]
    return across(claim, rule, holds, findings, settle=settle)


# --- 3. thread pools and Little's law -----------------------------------------------------

#: A plateau at or above this fraction of a ceiling is "at" that ceiling.
AT_CEILING = 0.8
#: A plateau above this multiple of its ceiling means the slot model is wrong.
ABOVE_CEILING = 1.15


class PlateauKind(enum.StrEnum):
    """What limits a measured throughput plateau."""

    SLOTS = "at its slot ceiling"
    LOAD = "at the offered-load ceiling"
    OTHER = "below both ceilings (CPU, GIL or server bound)"
    ABOVE = "above its slot ceiling (more slots than configured)"


def little_ceiling(slots: float, latency_ms: float) -> float:
    """Little's law: at most ``slots`` requests in service at once, each taking at least
    ``latency_ms`` milliseconds, give at most ``slots / latency`` requests per second."""
    return slots / (latency_ms / 1000.0)


def classify_plateau(
    plateau: float, slots: float, connections: int, latency_ms: float
) -> PlateauKind:
    """Say what bounds ``plateau`` (requests/s): the server's concurrent ``slots``
    (workers x threads, ``math.inf`` for an event loop), the ``connections`` of the load
    generator (closed loop: it never has more requests in flight), or something else.

    The binding ceiling is the lower of ``slots / latency`` and ``connections / latency``;
    the plateau is "at" it from :data:`AT_CEILING` of it upwards.
    """
    slot_ceiling = little_ceiling(slots, latency_ms)
    load_ceiling = little_ceiling(connections, latency_ms)
    if slot_ceiling < load_ceiling:
        if plateau > ABOVE_CEILING * slot_ceiling:
            return PlateauKind.ABOVE
        if plateau >= AT_CEILING * slot_ceiling:
            return PlateauKind.SLOTS
        return PlateauKind.OTHER
    return PlateauKind.LOAD if plateau >= AT_CEILING * load_ceiling else PlateauKind.OTHER


@dataclass(frozen=True)
class PlateauInput:
    """One measured plateau: the configuration's name, its plateau (requests/s, the best
    throughput of the concurrency sweep), its slots, the sweep's largest connection count
    and the downstream latency in milliseconds; ``pool`` names the thread pool its slots
    are (e.g. "anyio's 40-token limiter"), None when they are not threads (processes,
    greenlets, an event loop)."""

    name: str
    plateau: float
    slots: float
    connections: int
    latency_ms: float
    pool: str | None = None
    #: The plateau's repeats range, when known: a test they straddle is undecided.
    spread: tuple[float, float] | None = None


def exhaustion_rule(claim: str, plateaus: Sequence[PlateauInput]) -> Verdict:
    """Judge "threadpool exhaustion at scale" where requests hold a thread of a pool:
    does the throughput plateau at the ceiling the pool's threads impose, below the
    offered load? Configurations without a thread pool (process slots, greenlets, an
    event loop) are separate findings; a pool larger than the concurrency measured was
    not put to the test."""
    rule = (
        f"judged where requests hold a thread of a pool (which pool, in which framework, is "
        f"named). Each plateau is compared with Little's law ceilings: threads / latency and "
        f"connections / latency. Exhaustion = more connections than threads, and the plateau "
        f"reaches >= {AT_CEILING:.0%} of threads / latency. Supported if every pool measured "
        f"is exhausted; contradicted if none is; depends on configuration otherwise; "
        f"undecided for a pool no larger concurrency was measured against. Process slots "
        f"(gunicorn sync), greenlets and event loops are separate findings"
    )
    holds: dict[str, bool | None] = {}
    findings = []
    for point in plateaus:
        kind = classify_plateau(point.plateau, point.slots, point.connections, point.latency_ms)
        slots = "unbounded" if math.isinf(point.slots) else _fmt(point.slots)
        ceiling = little_ceiling(min(point.slots, point.connections), point.latency_ms)
        measured = (
            f"{_fmt(point.plateau)} req/s vs ceiling {_fmt(ceiling)} req/s (slots {slots}, up "
            f"to {point.connections} connections, {_fmt(point.latency_ms)} ms): {kind.value}"
        )
        if point.pool is None:
            findings.append(f"{point.name} (separate finding, no thread pool): {measured}")
            continue
        reached = point.connections > point.slots
        kinds = {
            classify_plateau(value, point.slots, point.connections, point.latency_ms)
            for value in (point.spread or (point.plateau,))
        } | {kind}
        straddles = len(kinds) > 1 and PlateauKind.SLOTS in kinds
        holds[point.name] = None if not reached or straddles else kind is PlateauKind.SLOTS
        exhausted = "exhausted" if holds[point.name] else "not exhausted"
        if straddles:
            low, high = point.spread or (point.plateau, point.plateau)
            exhausted = f"repeats {_fmt(low)}-{_fmt(high)} req/s straddle {AT_CEILING:.0%}"
        findings.append(
            f"{point.name}, {point.pool}: {measured}: "
            f"{exhausted if reached else 'not reached (fewer connections than threads)'}"
        )
    return across(claim, rule, holds, findings, settle="measure with more connections than threads")


# --- 4. blocking calls in async code ------------------------------------------------------

#: Throughput up to this multiple of the one-request-at-a-time ceiling counts as serialised.
SERIALISED_FACTOR = 1.5
#: A request that takes less than this alone is mostly CPU work: served one at a time on
#: one core is all the core can do, not a stall. (The waiting routes take 50 ms and more.)
WAITING_MS = 10.0


class Behaviour(enum.StrEnum):
    """How a server behaved under load."""

    CONCURRENT = "concurrent"
    CPU_BOUND = "CPU-bound (nothing to overlap)"
    SERIALISED = "serialised (stall)"
    DEADLOCKED = "deadlocked"


@dataclass(frozen=True)
class LoadedRun:
    """One bounded load run and what followed it.

    Attributes:
        ok: successful responses during the run.
        duration_s: the run's length.
        workers: worker processes serving.
        latency_ms: how long one request takes served alone.
        connections: requests kept in flight by the load generator.
        recovered_s: seconds the route took to answer once the load stopped, None when
            it did not within ``recovery_timeout_s``.
        recovery_timeout_s: how long that answer was waited for.
    """

    ok: int
    duration_s: float
    workers: int
    latency_ms: float
    connections: int
    recovered_s: float | None
    recovery_timeout_s: float

    @property
    def serial_ceiling(self) -> float:
        """Requests/s if every worker served one request at a time."""
        return little_ceiling(self.workers, self.latency_ms)

    @property
    def drain_s(self) -> float:
        """Seconds a one-at-a-time server needs to finish the requests the load left queued."""
        return self.connections / self.serial_ceiling


def classify_run(run: LoadedRun) -> Behaviour:
    """Deadlocked: once the load stopped, the route did not answer within the recovery
    timeout although even one-at-a-time service would have worked off the queued requests
    by then (a stall ends, a deadlock does not); CPU-bound: a request that takes less
    than :data:`WAITING_MS` alone; serialised: throughput at most
    :data:`SERIALISED_FACTOR` x the one-at-a-time ceiling; concurrent otherwise.

    Raises ``ValueError`` when the recovery timeout is too short to tell the two apart."""
    if run.drain_s >= run.recovery_timeout_s:
        raise ValueError(
            f"{run.connections} queued requests of {run.latency_ms:.0f} ms take "
            f"{run.drain_s:.1f} s to drain one at a time; wait longer than "
            f"{run.recovery_timeout_s:.0f} s after the load to tell a deadlock from a stall"
        )
    if run.recovered_s is None:
        return Behaviour.DEADLOCKED
    if run.latency_ms < WAITING_MS:
        return Behaviour.CPU_BOUND
    if run.ok / run.duration_s <= SERIALISED_FACTOR * run.serial_ceiling:
        return Behaviour.SERIALISED
    return Behaviour.CONCURRENT


def deadlock_rule(claim: str, runs: Mapping[str, LoadedRun], mixing: Sequence[str]) -> Verdict:
    """Judge "mixing sync/async causes deadlocks" on the article's mistake itself.

    ``runs`` maps each setup to its run; ``mixing`` names the setups that are the
    article's mistake (a blocking call inside an ``async def`` route): only they decide
    the verdict. The other setups (the well-formed variants, a recipe built to deadlock)
    are reported as findings of their own: what does deadlock, and what it takes.
    """
    rule = (
        f"each run is deadlocked if, once the load stopped, the route did not answer within "
        f"the recovery timeout although one-at-a-time service would have drained the queued "
        f"requests by then; CPU-bound if a request alone takes < {WAITING_MS:.0f} ms (nothing "
        f"to overlap); serialised (a stall) if its throughput is <= {SERIALISED_FACTOR}x "
        f"workers / latency; concurrent otherwise. The claim is judged on the article's "
        f"mistake (a blocking call inside async def) only: supported if every such setup "
        f"deadlocks; contradicted if none does; depends on configuration otherwise. Other "
        f"setups are separate findings"
    )
    if not runs:
        raise ValueError("no configuration was measured, so there is nothing to judge")
    unknown = [name for name in mixing if name not in runs]
    if unknown:
        raise ValueError(f"mixing setups not measured: {', '.join(unknown)}")
    behaviours = {name: classify_run(run) for name, run in runs.items()}
    findings = []
    for name, behaviour in behaviours.items():
        run = runs[name]
        if run.recovered_s is not None:
            after = f"answered {run.recovered_s:.2f} s after the load"
        else:
            after = f"no answer {run.recovery_timeout_s:.0f} s after the load"
        after += f" (queue drains in {run.drain_s:.1f} s)"
        role = "the article's mistake" if name in mixing else "separate finding"
        findings.append(
            f"{name} ({role}): {run.ok / run.duration_s:,.1f} ok req/s, one-at-a-time "
            f"ceiling {_fmt(run.serial_ceiling)} req/s, {after}: {behaviour.value}"
        )
    holds = {name: behaviours[name] is Behaviour.DEADLOCKED for name in mixing}
    verdict = across(claim, rule, holds, findings)
    others = [name for name in runs if name not in mixing]
    deadlocked = [name for name in others if behaviours[name] is Behaviour.DEADLOCKED]
    seen = "; ".join(f"{name} {behaviours[name].value}" for name in mixing)
    elsewhere = (
        f"; a deadlock was measured only in {'; '.join(deadlocked)} (a separate finding)"
        if deadlocked
        else ""
    )
    return replace(verdict, condition=f"{verdict.condition}: {seen}{elsewhere}")


# --- 5. cold start ------------------------------------------------------------------------

#: One second: the limit for a user's flow of thought to stay uninterrupted (Jakob
#: Nielsen, "Response Times: The 3 Important Limits", 1993), the cold start a user of a
#: scaled-to-zero service notices.
NOTICEABLE_MS = 1000.0
#: "Kills" is read as: at least this many times slower than the alternative.
KILLS_FACTOR = 2.0


@dataclass(frozen=True)
class ColdStartInput:
    """A median cold start ``ms`` of configuration ``name`` and the alternative it is
    compared with (``reference_name``, ``reference_ms``): the fastest other framework on
    the same server, or on any server when none was measured on that one."""

    name: str
    ms: float
    reference_name: str
    reference_ms: float


def cold_start_rule(claim: str, points: Sequence[ColdStartInput]) -> Verdict:
    """Judge "cold start kills serverless": in each configuration, is the cold start both
    noticeable (>= :data:`NOTICEABLE_MS`) and >= :data:`KILLS_FACTOR` x the alternative?"""
    rule = (
        f"a cold start (spawn to first successful response, median) kills a serverless "
        f"deployment if it is >= {NOTICEABLE_MS:,.0f} ms (the 1 s limit of a user's flow of "
        f"thought, Nielsen 1993) and >= {KILLS_FACTOR:g}x the fastest other framework on the "
        f"same server (on any server if none was measured on it). Supported if that holds "
        f"in every configuration measured; contradicted if in none; depends on configuration "
        f"otherwise"
    )
    holds: dict[str, bool] = {}
    findings = []
    for point in points:
        factor = point.ms / point.reference_ms
        holds[point.name] = point.ms >= NOTICEABLE_MS and factor >= KILLS_FACTOR
        findings.append(
            f"{point.name}: {point.ms:,.0f} ms, {factor:.1f}x {point.reference_name} "
            f"({point.reference_ms:,.0f} ms): {'kills' if holds[point.name] else 'does not kill'}"
        )
    return across(claim, rule, holds, findings)


# --- 6. unbounded ORM reads ---------------------------------------------------------------

#: Bytes of peak-memory growth per table row from which a request held the whole table at
#: once: the 200-character payload every ``lab_row`` carries (holding every row means
#: holding at least every payload). Bounded buffers (a driver's batch, SQLite's page
#: cache of 2 MiB by default) also grow with small tables until they are full, so a
#: streaming request can show tens of bytes per row between small tables, never this.
WHOLE_TABLE_BYTES_PER_ROW = 200.0


def growth_per_row(peaks: Mapping[int, float]) -> float:
    """Least-squares slope, in bytes per row, of a request's peak memory growth (bytes,
    values) against the table size (rows, keys). Needs two table sizes or more."""
    if len(peaks) < 2:
        raise ValueError("a growth per row needs at least two table sizes")
    sizes = list(peaks)
    mean_x = sum(sizes) / len(sizes)
    mean_y = sum(peaks.values()) / len(peaks)
    covariance = sum((x - mean_x) * (peaks[x] - mean_y) for x in sizes)
    variance = sum((x - mean_x) ** 2 for x in sizes)
    return covariance / variance


def whole_table_rule(claim: str, growth: Mapping[str, float], judged: Sequence[str]) -> Verdict:
    """Judge "ORM loads entire table" on the article's own query (``judged``: the names
    of ``growth`` that run it) from each query style's memory growth per row (``growth``
    maps e.g. "django mode=all" to bytes per row); the other styles are reported as
    findings of their own (how a bounded query avoids the cost)."""
    rule = (
        f"a query style loads the entire table if the worker's peak memory grows by >= "
        f"{WHOLE_TABLE_BYTES_PER_ROW:.0f} bytes per table row (the 200-character payload of a "
        f"row; bounded buffers grow far less). The claim is judged on the article's query "
        f"(Django, the whole table in one list): supported if it does; contradicted if not. "
        f"Other query styles and frameworks are separate findings"
    )
    unknown = [name for name in judged if name not in growth]
    if unknown:
        raise ValueError(f"the article's query was not measured: {', '.join(unknown)}")
    holds = {name: growth[name] >= WHOLE_TABLE_BYTES_PER_ROW for name in judged}
    findings = [
        f"{name}{'' if name in judged else ' (separate finding)'}: {value:,.0f} bytes/row: "
        f"{'whole table in memory' if value >= WHOLE_TABLE_BYTES_PER_ROW else 'bounded memory'}"
        for name, value in growth.items()
    ]
    return across(claim, rule, holds, findings)


# --- 7. N+1 queries -----------------------------------------------------------------------

#: The eager listing must serve at least this multiple of the naive one's throughput for
#: the N+1 to be a cost worth catching.
N_PLUS_ONE_COST = 1.25


@dataclass(frozen=True)
class NPlusOneInput:
    """Query counts of the naive and eager listings at a small and a large ``limit``, and
    their throughputs (requests/s) at the large one."""

    name: str
    small_limit: int
    large_limit: int
    naive_small: int
    naive_large: int
    eager_small: int
    eager_large: int
    naive_rps: float
    eager_rps: float
    #: Statements the article's tip (``shell_plus --print-sql``) printed for the naive
    #: listing at each limit; None when it was not run.
    printed_small: int | None = None
    printed_large: int | None = None


def n_plus_one_rule(claim: str, points: Sequence[NPlusOneInput], judged: Sequence[str]) -> Verdict:
    """Judge the ``--print-sql`` tip where it applies (``judged``: Django's listings): is
    there an N+1 to catch (the naive listing's query count grows with the items listed
    while the eager one's does not), does it cost (eager >= :data:`N_PLUS_ONE_COST` x
    naive throughput), and does the tip catch it (the statements ``shell_plus
    --print-sql`` prints grow with the items listed as the counted ones do)? The other
    frameworks' listings are separate findings."""
    rule = (
        f"judged on Django (the tip is Django's): an N+1 is worth catching if the naive "
        f"listing's query count grows with the number of items listed while the eager "
        f"listing's stays constant, and the eager listing serves >= {N_PLUS_ONE_COST}x the "
        f"naive throughput; the tip catches it if `shell_plus --print-sql` prints as many "
        f"statements for the naive listing as were counted. Supported if both hold; "
        f"contradicted if either fails; inconclusive if the tip was not run. Other "
        f"frameworks are separate findings"
    )
    unknown = [name for name in judged if name not in {p.name for p in points}]
    if unknown or not judged:
        raise ValueError(f"the tip's framework was not measured: {', '.join(unknown)}")
    holds: dict[str, bool | None] = {}
    findings = []
    for p in points:
        grows = p.naive_large > p.naive_small and p.eager_large == p.eager_small
        gain = p.eager_rps / p.naive_rps
        worth = grows and gain >= N_PLUS_ONE_COST
        counted = (
            f"naive {p.naive_small} -> {p.naive_large} queries, eager {p.eager_small} -> "
            f"{p.eager_large} for {p.small_limit} -> {p.large_limit} items; eager {gain:.2f}x "
            f"naive throughput: {'N+1 worth catching' if worth else 'nothing worth catching'}"
        )
        if p.name not in judged:
            findings.append(f"{p.name} (separate finding): {counted}")
            continue
        if p.printed_small is None or p.printed_large is None:
            caught: bool | None = None
            tip = "the tip was not run"
        else:
            caught = (p.printed_small, p.printed_large) == (p.naive_small, p.naive_large)
            tip = (
                f"shell_plus --print-sql printed {p.printed_small} -> {p.printed_large} "
                f"statements: {'caught' if caught else 'missed'}"
            )
        holds[p.name] = False if not worth or caught is False else caught
        findings.append(f"{p.name}: {counted}; {tip}")
    return across(
        claim, rule, holds, findings, settle="run fwbench claims with django-extensions installed"
    )


# --- 8. plugin sprawl ---------------------------------------------------------------------


def sprawl_rule(claim: str, closures: Mapping[str, int], subject: str, claimed: int) -> Verdict:
    """Judge "maintaining ``claimed`` dependencies" for implementation ``subject``:
    ``closures`` maps each implementation to the size of its distribution closure."""
    rule = (
        f"supported if the {subject} implementation pulls in >= {claimed} distributions "
        f"(transitive closure) and more than every other implementation; contradicted if it "
        f"pulls in fewer than {claimed} and no more than another; depends on configuration "
        f"(what the other stacks pull in) otherwise"
    )
    if subject not in closures or len(closures) < 2:
        raise ValueError(f"{subject} and at least one other implementation must be measured")
    count = closures[subject]
    others = {name: value for name, value in closures.items() if name != subject}
    many = count >= claimed
    most = all(count > value for value in others.values())
    findings = tuple(f"{name}: {value} distributions" for name, value in closures.items())
    if many and most:
        outcome, condition = Outcome.SUPPORTED, f"{subject} pulls in {count}, the most"
    elif not many and not most:
        outcome = Outcome.CONTRADICTED
        condition = f"{subject} pulls in {count} (< {claimed}), not the most"
    else:
        outcome = Outcome.DEPENDS
        others_text = ", ".join(f"{name} {value}" for name, value in others.items())
        condition = (
            f"{subject} pulls in {count} ({'>=' if many else '<'} {claimed}) and is "
            f"{'' if most else 'not '}the largest ({others_text})"
        )
    return Verdict(claim, outcome, rule, condition, findings)


# --- 9. the article's table ---------------------------------------------------------------

#: The spread given to a figure measured once: pyperf's (and fwbench run's) limit of a
#: stable figure, a coefficient of variation of 10%.
SINGLE_VALUE_SPREAD = UNSTABLE_CV


#: Medians closer than this are a tie whatever the repeats say: on a shared machine the
#: drift between runs exceeds the spread within one (three quick runs in a row put Flask
#: and Django, both held to 3 slots at 10 ms, 2-4% apart in either order, and non-
#: overlapping ranges of 3 repeats each happen by chance 1 time in 10).
TIE_MARGIN = UNSTABLE_CV


def distinguishable(a: Sequence[float], b: Sequence[float], margin: float = TIE_MARGIN) -> bool:
    """Whether two figures' repeats differ, as ``fwbench compare`` decides: Mann-Whitney
    U when there are enough repeats for it to reach significance, else ranges that do
    not overlap; and their medians at least ``margin`` apart (default
    :data:`TIE_MARGIN`; 0 for a figure whose range already spans what it moves between
    runs). A single value has no range of its own: it is given
    :data:`SINGLE_VALUE_SPREAD` either way, so two lone figures 3% apart are a tie."""
    low, high = sorted((statistics.median(a), statistics.median(b)))
    if high < low * (1 + margin):
        return False

    def widened(values: Sequence[float]) -> tuple[float, ...]:
        if len(values) > 1:
            return tuple(values)
        return (values[0] / (1 + SINGLE_VALUE_SPREAD), values[0] * (1 + SINGLE_VALUE_SPREAD))

    if len(a) > 1 and len(b) > 1:
        return Metric("", "", "higher", tuple(a), tuple(b)).significant
    wide_a, wide_b = widened(a), widened(b)
    return max(wide_a) < min(wide_b) or max(wide_b) < min(wide_a)


def ranking(
    values: Mapping[str, Sequence[float]], higher_first: bool, margin: float = TIE_MARGIN
) -> list[list[str]]:
    """The frameworks in order of their medians (``higher_first`` or lowest first), with
    neighbours whose repeats are not :func:`distinguishable` (with ``margin``) grouped as
    a tie."""
    order = sorted(values, key=lambda name: statistics.median(values[name]))
    if higher_first:
        order.reverse()
    groups: list[list[str]] = []
    for name in order:
        if groups and not distinguishable(values[groups[-1][-1]], values[name], margin):
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


#: A column of the table as measured: configuration -> framework -> repeats.
Column = Mapping[str, Mapping[str, Sequence[float]]]
#: One configuration's test: its values -> (held, None when undecided; finding text).
ColumnTest = Callable[[Mapping[str, Sequence[float]]], tuple[bool | None, str]]


def _judge_column(
    claim: str, rule: str, measured: Column, article: Mapping[str, float], what: str,
    test: ColumnTest,
) -> Verdict:  # fmt: skip
    holds: dict[str, bool | None] = {}
    findings = []
    for config, values in measured.items():
        missing = [name for name in article if name not in values]
        if missing:
            raise ValueError(f"{config}: no {what} measured for {', '.join(missing)}")
        holds[config], finding = test(values)
        findings.append(f"{config}: {finding}")
    return across(claim, rule, holds, findings)


def _ranking_text(groups: Sequence[Sequence[str]], sign: str) -> str:
    return f" {sign} ".join(" = ".join(group) for group in groups)


def table_ranking_rule(
    claim: str,
    measured: Column,
    article: Mapping[str, float],
    what: str,
    higher_first: bool,
    margin: float = TIE_MARGIN,
) -> Verdict:
    """Judge the ranking of one column of the article's table.

    ``measured`` maps a configuration to each framework's repeats; ``article`` the
    article's figure per framework. In a configuration the ranking holds when every pair
    of frameworks the article orders is measured in that order and distinguishable (with
    medians ``margin`` apart, default :data:`TIE_MARGIN`); it does not hold when a pair is
    distinguishable the other way; a tie (repeats not distinguishable) leaves it
    undecided.
    """
    sign = ">" if higher_first else "<"
    expected = [[name] for name in sorted(article, key=article.__getitem__, reverse=higher_first)]
    close = f" or whose medians are within {margin:.0%} of each other" if margin else ""
    rule = (
        f"in each configuration, the frameworks' {what} ranks as the article's "
        f"({_ranking_text(expected, sign)}) if every pair comes in the article's order; two "
        f"figures whose repeats are not distinguishable (Mann-Whitney U at p < 0.05 as "
        f"fwbench compare decides, overlapping ranges with fewer repeats, a lone figure "
        f"taken as +-{SINGLE_VALUE_SPREAD:.0%}){close} are a tie, which leaves the ranking "
        f"undecided. Supported if it holds in every configuration measured; contradicted "
        f"if in none; depends on configuration otherwise; inconclusive if a tie decides it"
    )

    def test(values: Mapping[str, Sequence[float]]) -> tuple[bool | None, str]:
        names = list(article)
        pairs: list[bool | None] = []
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                if not distinguishable(values[first], values[second], margin):
                    pairs.append(None)
                    continue
                higher = statistics.median(values[first]) > statistics.median(values[second])
                pairs.append(higher == (article[first] > article[second]))
        held = _every(pairs)
        said = "as the article" if held else "unlike the article"
        said = said if held is not None else "a tie leaves the order undecided"
        return held, f"{_ranking_text(ranking(values, higher_first, margin), sign)} ({said})"

    return _judge_column(claim, rule, measured, article, what, test)


def table_ratio_rule(
    claim: str, measured: Column, article: Mapping[str, float], what: str
) -> Verdict:
    """Judge the ratios between frameworks of one column of the article's table: in a
    configuration they hold when each framework's ratio to the article's first framework
    matches the article's ratio (:data:`MATCH`). Absolute values are not compared: they
    depend on the machine."""
    reference = next(iter(article))
    rule = (
        f"{MATCH}. In each configuration, the {what} ratios hold if each framework's ratio "
        f"to {reference} matches the article's ratio (absolute values depend on the machine "
        f"and are not compared). Supported if they hold in every configuration measured; "
        f"contradicted if in none; depends on configuration otherwise; inconclusive where a "
        f"ratio's range straddles an edge of its band"
    )

    def test(values: Mapping[str, Sequence[float]]) -> tuple[bool | None, str]:
        base = Measured.of(values[reference])
        tests: list[bool | None] = []
        parts = []
        for name in article:
            if name == reference:
                continue
            ratio = Measured.of(values[name]).over(base)
            expected = article[name] / article[reference]
            tests.append(matches(ratio, expected))
            parts.append(
                f"{name}/{reference} {ratio.text()} vs article {expected:.2f} "
                f"({_word(tests[-1], 'matches', 'off')})"
            )
        return _every(tests), "; ".join(parts)

    return _judge_column(claim, rule, measured, article, what, test)


# --- 10. advice: "use X" ------------------------------------------------------------------

#: Advice to use a tool holds where the tool reaches at least this fraction of the best
#: alternative measured: the same 80% that places a plateau "at" a ceiling.
COMPETITIVE_FRACTION = AT_CEILING


def competitive_rule(
    claim: str, measured: Mapping[str, tuple[float, float]], tool: str, alternative: str
) -> Verdict:
    """Judge advice to use ``tool``: ``measured`` maps each configuration to the
    throughput of ``tool`` and of the ``alternative`` it could be replaced with."""
    rule = (
        f"the advice holds in a configuration if {tool} reaches >= "
        f"{COMPETITIVE_FRACTION:.0%} of the throughput of {alternative}. Supported if it holds "
        f"in every configuration measured; contradicted if in none; depends on configuration "
        f"otherwise"
    )
    holds = {
        name: advised >= COMPETITIVE_FRACTION * other for name, (advised, other) in measured.items()
    }
    findings = [
        f"{name}: {tool} {_fmt(advised)} req/s = {advised / other:.0%} of {alternative} "
        f"{_fmt(other)} req/s"
        for name, (advised, other) in measured.items()
    ]
    return across(claim, rule, holds, findings)
