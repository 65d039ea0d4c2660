"""The verdict rules: pure functions from recorded numbers to a :class:`Verdict`.

Every rule is written down twice, in the code below and in the ``rule`` text the verdict
carries (and ``fwbench claims`` prints), with its thresholds. Most rules share one shape:
a per-configuration test ("does the claim hold on this server, at this latency, in this
framework?"), then :func:`across`: supported when it holds in every configuration
measured, contradicted when it holds in none, depends on configuration otherwise, naming
both sides.

How an article's round figures are read (one convention for every rule):
``ROUND_FIGURE_FACTOR``: a figure such as "~50 RPS/core" or "300MB" is matched by a
measurement within a factor 1.5 of it; a ratio such as "3x" by a measured ratio that
rounds to it or more (>= 2.5).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fwbench.experiments.model import Outcome, Verdict

#: A round figure of the article is matched by a measurement within this factor of it.
ROUND_FIGURE_FACTOR = 1.5


def across(claim: str, rule: str, holds: Mapping[str, bool], findings: Sequence[str]) -> Verdict:
    """Judge a claim from a per-configuration test.

    ``holds`` maps each configuration measured (a readable name) to whether the claim held
    there; ``findings`` are the lines explaining each test with its numbers. Raises
    ``ValueError`` when nothing was measured: no evidence, no verdict.
    """
    if not holds:
        raise ValueError("no configuration was measured, so there is nothing to judge")
    yes = [name for name, held in holds.items() if held]
    no = [name for name, held in holds.items() if not held]
    if not no:
        outcome, condition = (
            Outcome.SUPPORTED,
            f"holds in every configuration measured ({len(yes)})",
        )
    elif not yes:
        outcome, condition = (
            Outcome.CONTRADICTED,
            f"holds in none of the {len(no)} configurations measured",
        )
    else:
        outcome = Outcome.DEPENDS
        condition = f"holds for {'; '.join(yes)}. Does not hold for {'; '.join(no)}"
    return Verdict(claim, outcome, rule, condition, tuple(findings))


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")


# --- 1. ratios such as "3x faster than Flask for I/O bound tasks" -------------------------


#: A claimed ratio "Nx" is matched by a measured ratio that rounds to N or more.
def ratio_threshold(claimed: float) -> float:
    """The smallest measured ratio that supports a claimed "``claimed``x": ``claimed - 0.5``."""
    return claimed - 0.5


def ratio_rule(claim: str, ratios: Mapping[str, float], claimed: float, what: str) -> Verdict:
    """Judge "``claimed``x faster" from measured ratios, one per configuration.

    ``ratios`` maps a configuration (e.g. "uvicorn vs gunicorn sync") to the measured
    ratio; ``what`` names the ratio for the rule text (e.g. "FastAPI/Flask io throughput").
    """
    threshold = ratio_threshold(claimed)
    rule = (
        f"supported if the {what} ratio is >= {_fmt(threshold)} (the claimed {_fmt(claimed)}x, "
        f"rounded) in every configuration measured; contradicted if it is below "
        f"{_fmt(threshold)} in all; depends on configuration otherwise"
    )
    holds = {name: ratio >= threshold for name, ratio in ratios.items()}
    findings = [
        f"{name}: {ratio:.2f}x {'>=' if holds[name] else '<'} {_fmt(threshold)}"
        for name, ratio in ratios.items()
    ]
    return across(claim, rule, holds, findings)


# --- 2. round figures such as "~50 RPS/core" or "300MB" ----------------------------------


def near_figure_rule(
    claim: str, measured: Mapping[str, float], claimed: float, what: str, unit: str
) -> Verdict:
    """Judge an "about ``claimed``" figure: holds where the measurement is within a factor
    :data:`ROUND_FIGURE_FACTOR` of it, in either direction."""
    low, high = claimed / ROUND_FIGURE_FACTOR, claimed * ROUND_FIGURE_FACTOR
    rule = (
        f"supported if the {what} is within a factor {ROUND_FIGURE_FACTOR} of the claimed "
        f"{_fmt(claimed)} {unit} ({_fmt(low)} to {_fmt(high)}) in every configuration "
        f"measured; contradicted if outside in all; depends on configuration otherwise"
    )
    holds = {name: low <= value <= high for name, value in measured.items()}
    findings = [
        f"{name}: {_fmt(value)} {unit} {'within' if holds[name] else 'outside'} "
        f"{_fmt(low)}..{_fmt(high)}"
        for name, value in measured.items()
    ]
    return across(claim, rule, holds, findings)


def at_least_figure_rule(
    claim: str, measured: Mapping[str, float], claimed: float, what: str, unit: str
) -> Verdict:
    """Judge a cost figure ("300MB overhead"): holds where the measured cost is at least
    the claimed one, less the :data:`ROUND_FIGURE_FACTOR` tolerance (a larger cost still
    bears the warning out)."""
    low = claimed / ROUND_FIGURE_FACTOR
    rule = (
        f"supported if the {what} is at least the claimed {_fmt(claimed)} {unit} within a "
        f"factor {ROUND_FIGURE_FACTOR} (>= {_fmt(low)} {unit}) in every configuration "
        f"measured; contradicted if below in all; depends on configuration otherwise"
    )
    holds = {name: value >= low for name, value in measured.items()}
    findings = [
        f"{name}: {_fmt(value)} {unit} {'>=' if holds[name] else '<'} {_fmt(low)}"
        for name, value in measured.items()
    ]
    return across(claim, rule, holds, findings)


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
    and the downstream latency in milliseconds."""

    name: str
    plateau: float
    slots: float
    connections: int
    latency_ms: float


def exhaustion_rule(claim: str, plateaus: Sequence[PlateauInput]) -> Verdict:
    """Judge "threadpool exhaustion at scale": in each configuration, does the throughput
    plateau at the ceiling its thread/worker slots impose, below the offered load?"""
    rule = (
        f"each plateau is compared with Little's law ceilings: slots / latency (slots = "
        f"workers x threads) and connections / latency. Exhaustion = the slot ceiling is the "
        f"lower one and the plateau reaches >= {AT_CEILING:.0%} of it. Supported if every "
        f"configuration measured exhausts its slots; contradicted if none does; depends on "
        f"configuration otherwise"
    )
    holds: dict[str, bool] = {}
    findings = []
    for point in plateaus:
        kind = classify_plateau(point.plateau, point.slots, point.connections, point.latency_ms)
        holds[point.name] = kind is PlateauKind.SLOTS
        slots = "unbounded" if math.isinf(point.slots) else _fmt(point.slots)
        ceiling = little_ceiling(min(point.slots, point.connections), point.latency_ms)
        findings.append(
            f"{point.name}: {_fmt(point.plateau)} req/s vs ceiling {_fmt(ceiling)} req/s "
            f"(slots {slots}, {point.connections} connections, {_fmt(point.latency_ms)} ms): "
            f"{kind.value}"
        )
    return across(claim, rule, holds, findings)


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
    """Judge "mixing sync/async causes deadlocks".

    ``runs`` maps each setup to its run; ``mixing`` names the setups that are the
    article's mistake itself (a blocking call inside an ``async def`` route). The other
    setups are the well-formed variants and the known deadlock recipes.
    """
    rule = (
        f"each run is deadlocked if, once the load stopped, the route did not answer within "
        f"the recovery timeout although one-at-a-time service would have drained the queued "
        f"requests by then; CPU-bound if a request alone takes < {WAITING_MS:.0f} ms (nothing "
        f"to overlap); serialised (a stall) if its throughput is <= {SERIALISED_FACTOR}x "
        f"workers / latency; concurrent otherwise. "
        f"Supported if every mixing setup deadlocks; contradicted if no setup deadlocks; "
        f"depends on configuration if only some setups deadlock"
    )
    behaviours = {name: classify_run(run) for name, run in runs.items()}
    findings = []
    for name, behaviour in behaviours.items():
        run = runs[name]
        if run.recovered_s is not None:
            after = f"answered {run.recovered_s:.2f} s after the load"
        else:
            after = f"no answer {run.recovery_timeout_s:.0f} s after the load"
        after += f" (queue drains in {run.drain_s:.1f} s)"
        findings.append(
            f"{name}: {run.ok / run.duration_s:,.1f} ok req/s, one-at-a-time ceiling "
            f"{_fmt(run.serial_ceiling)} req/s, {after}: {behaviour.value}"
        )
    if not runs:
        raise ValueError("no configuration was measured, so there is nothing to judge")
    unknown = [name for name in mixing if name not in runs]
    if unknown:
        raise ValueError(f"mixing setups not measured: {', '.join(unknown)}")
    deadlocked = [name for name, b in behaviours.items() if b is Behaviour.DEADLOCKED]
    if all(behaviours[name] is Behaviour.DEADLOCKED for name in mixing):
        outcome, condition = Outcome.SUPPORTED, f"deadlocked: {'; '.join(deadlocked)}"
    elif not deadlocked:
        summary = "; ".join(f"{name} {behaviours[name].value}" for name in mixing)
        outcome, condition = Outcome.CONTRADICTED, f"no setup deadlocked ({summary})"
    else:
        others = [name for name in runs if name not in deadlocked]
        outcome = Outcome.DEPENDS
        condition = (
            f"deadlocked only in {'; '.join(deadlocked)}. No deadlock in {'; '.join(others)}"
        )
    return Verdict(claim, outcome, rule, condition, tuple(findings))


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


def whole_table_rule(claim: str, growth: Mapping[str, float]) -> Verdict:
    """Judge "ORM loads entire table" from each query style's memory growth per row
    (``growth`` maps e.g. "Django, list(all())" to bytes per row)."""
    rule = (
        f"a query style loads the entire table if the worker's peak memory grows by >= "
        f"{WHOLE_TABLE_BYTES_PER_ROW:.0f} bytes per table row (the 200-character payload of a "
        f"row; bounded buffers grow far less). Supported if every query style measured "
        f"does; contradicted if none does; depends on configuration (how the query is "
        f"written) otherwise"
    )
    holds = {name: value >= WHOLE_TABLE_BYTES_PER_ROW for name, value in growth.items()}
    findings = [
        f"{name}: {value:,.0f} bytes/row: "
        f"{'whole table in memory' if holds[name] else 'bounded memory'}"
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


def n_plus_one_rule(claim: str, points: Sequence[NPlusOneInput]) -> Verdict:
    """Judge the ``--print-sql`` tip: is there an N+1 to catch (the naive listing's query
    count grows with the items listed while the eager one's does not) and does it cost
    (eager >= :data:`N_PLUS_ONE_COST` x naive throughput)?"""
    rule = (
        f"an N+1 is worth catching if the naive listing's query count grows with the number "
        f"of items listed while the eager listing's stays constant, and the eager listing "
        f"serves >= {N_PLUS_ONE_COST}x the naive throughput. Supported if so in every "
        f"framework measured; contradicted if in none; depends on configuration otherwise"
    )
    holds: dict[str, bool] = {}
    findings = []
    for p in points:
        grows = p.naive_large > p.naive_small and p.eager_large == p.eager_small
        gain = p.eager_rps / p.naive_rps
        holds[p.name] = grows and gain >= N_PLUS_ONE_COST
        findings.append(
            f"{p.name}: naive {p.naive_small} -> {p.naive_large} queries, eager "
            f"{p.eager_small} -> {p.eager_large} for {p.small_limit} -> {p.large_limit} items; "
            f"eager {gain:.2f}x naive throughput: "
            f"{'N+1 worth catching' if holds[p.name] else 'nothing worth catching'}"
        )
    return across(claim, rule, holds, findings)


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


def table_column_rule(
    claim: str,
    measured: Mapping[str, Mapping[str, float]],
    article: Mapping[str, float],
    what: str,
) -> Verdict:
    """Judge one column of the article's table.

    ``measured`` maps a configuration (e.g. "canonical servers") to a value per framework;
    ``article`` gives the article's figure per framework. In a configuration the column
    holds when the frameworks come in the article's order and each framework's ratio to
    the first framework of ``article`` is within :data:`ROUND_FIGURE_FACTOR` of the
    article's ratio. Absolute values are not compared: they depend on the machine.
    """
    reference = next(iter(article))
    rule = (
        f"in each configuration, the {what} column holds if the frameworks rank in the "
        f"article's order and each framework's ratio to {reference} is within a factor "
        f"{ROUND_FIGURE_FACTOR} of the article's ratio (absolute values depend on the "
        f"machine and are not compared). Supported if it holds in every configuration "
        f"measured; contradicted if in none; depends on configuration otherwise"
    )
    article_order = sorted(article, key=lambda name: -article[name])
    holds: dict[str, bool] = {}
    findings = []
    for config, values in measured.items():
        missing = [name for name in article if name not in values]
        if missing:
            raise ValueError(f"{config}: no {what} measured for {', '.join(missing)}")
        order = sorted(article, key=lambda name: -values[name])
        ratios_ok = []
        parts = []
        for name in article:
            ratio = values[name] / values[reference]
            expected = article[name] / article[reference]
            ok = 1 / ROUND_FIGURE_FACTOR <= ratio / expected <= ROUND_FIGURE_FACTOR
            ratios_ok.append(ok)
            if name != reference:
                parts.append(
                    f"{name}/{reference} {ratio:.2f} vs article {expected:.2f} "
                    f"({'ok' if ok else 'off'})"
                )
        holds[config] = order == article_order and all(ratios_ok)
        findings.append(
            f"{config}: order {' > '.join(order)} "
            f"({'as' if order == article_order else 'unlike'} the article); {'; '.join(parts)}"
        )
    return across(claim, rule, holds, findings)


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
