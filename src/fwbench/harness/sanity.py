"""Sanity checks recorded with every point: does the measurement mean what it claims?

Each rule returns a :class:`~.results.SanityCheck`; a failed one carries the action to
take, and the final table prints its short label next to the figure.

* ``littles_law``: wrk is a closed loop, so by Little's law the requests in flight,
  throughput x mean latency, equal the connections. The mean is of the latencies wrk
  measured: wrk 4 adds synthetic samples to its histogram after the run
  (``stats_correct``, for coordinated omission: every response slower than twice a
  connection's mean interval adds the latencies the requests it could not send
  meanwhile would have seen), which would put more requests in flight than there are
  connections whenever the tail is heavy, stall or not; ``lua/fwbench_report.lua``
  undoes it, and wrk's corrected mean is reported beside, as a tail indicator. Below
  the connections, connections sat idle (the generator could not keep up, errors broke
  connections) or requests were still pending when wrk stopped (see ``stalls``); above
  them, the figures contradict each other.
* ``stalls``: a connection got fewer than 10 responses in a repeat, so requests waited a
  tenth of the run or more: something held them (a blocking call on an event loop, an
  exhausted pool, far more connections than workers), and the figures describe that
  wait, not the service's steady state.
* ``io_ceiling`` (``io``): a request waits at least the downstream latency, so
  throughput cannot exceed ``connections / latency``; above it the delay did not
  happen. The message reports the efficiency against that ceiling either way.
* ``generator_bound``: throughput close to what wrk reaches against a trivial server
  on the same CPUs (``fwbench calibrate``) measures wrk, not the service.
  With several load generators (``fwbench.harness.generators``), each wrk's own
  throughput is compared with its own ceiling, and the check names the closest.
* ``downstream_bound`` (scenarios that call the downstream): throughput close to what
  the load CPUs reach serving the downstream while running wrk measures them.
* ``unstable``: repeats whose coefficient of variation exceeds 10% (pyperf's rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from fwbench.harness.results import CalibrationLevel, LoadSample, SanityCheck
from fwbench.harness.scenarios import Scenario
from fwbench.harness.stats import UNSTABLE_CV, summarize

#: Little's law must hold within 15%: wrk's own gaps between a response and the next
#: request keep measured concurrency a little under the connection count.
LITTLE_TOLERANCE: Final = 0.15

#: Fewer responses per connection in a repeat than this is a stall: requests waited a
#: tenth of the run or more, so the figures describe the wait (and the requests still
#: pending when wrk stopped weigh), not a steady state. Counted, not read from the
#: slowest response, so one pause of a shared machine does not trip it.
STALL_RESPONSES: Final = 10

#: Throughput may exceed the io ceiling by this much before it is impossible: wrk's
#: duration and the service's timers are not perfectly aligned.
IO_TOLERANCE: Final = 0.05

#: A throughput at or above this fraction of a calibrated ceiling is bound by it.
BOUND_FRACTION: Final = 0.8

#: Short labels the final table prints next to a figure whose check failed.
_LABELS: Final[dict[str, str]] = {
    "io_ceiling": "above io ceiling",
    "generator_bound": "generator-bound",
    "downstream_bound": "downstream-bound",
    "unstable": "unstable",
}


def label(check: SanityCheck) -> str:
    """The short label printed next to a figure whose ``check`` failed."""
    if check.name == "littles_law":
        below = check.value is not None and check.value < 1
        return "idle connections" if below else "inconsistent"
    return _LABELS.get(check.name, check.name)


def littles_law(samples: Sequence[LoadSample], connections: int) -> SanityCheck:
    """Check that throughput x mean measured latency ~= connections in every sample.

    Args:
        samples: the measured repeats of a point.
        connections: wrk's connections.
    """
    unknown = [s for s in samples if s.latency_us.uncorrected_mean is None]
    if unknown:
        timed_out = sum(s.errors.timeout for s in unknown)
        return SanityCheck(
            "littles_law",
            False,
            None,
            LITTLE_TOLERANCE,
            f"{timed_out} requests got no response within wrk's timeout, so the mean latency "
            "of the requests, and the requests in flight, are unknown",
            "the service held requests longer than wrk's --timeout: look for a blocking call "
            "or an exhausted pool, or measure at fewer connections",
        )
    ratios = [s.throughput * _measured_mean_us(s) / 1e6 / connections for s in samples]
    worst_at = max(range(len(samples)), key=lambda i: abs(ratios[i] - 1))
    worst = ratios[worst_at]
    corrected = samples[worst_at].latency_us.mean / _measured_mean_us(samples[worst_at])
    passed = abs(worst - 1) <= LITTLE_TOLERANCE
    message = (
        f"throughput x mean measured latency = {worst * connections:.1f} requests in flight "
        f"for {connections} connections ({worst:.0%}, allowed {1 - LITTLE_TOLERANCE:.0%}"
        f"-{1 + LITTLE_TOLERANCE:.0%}); wrk's mean corrected for coordinated omission is "
        f"{corrected:.2f}x the measured one (a tail indicator)"
    )
    if passed:
        action = None
    elif worst < 1:
        action = (
            "connections sat idle or requests were still pending when wrk stopped: look for "
            "socket errors or timeouts, check whether the point is generator-bound or the "
            "service stalls, and rerun on a quieter machine"
        )
    else:
        action = (
            "more requests in flight than connections cannot happen in wrk's closed loop: "
            "check that wrk is version 4 (fwbench undoes its latency correction) and rerun"
        )
    return SanityCheck("littles_law", passed, worst, LITTLE_TOLERANCE, message, action)


def _measured_mean_us(sample: LoadSample) -> float:
    mean = sample.latency_us.uncorrected_mean
    assert mean is not None, "littles_law checks for unknown means first"
    return mean


def stalls(samples: Sequence[LoadSample], connections: int) -> SanityCheck:
    """Flag a point where a connection got fewer than 10 responses in a repeat.

    Args:
        samples: the measured repeats of the point.
        connections: wrk's connections.
    """
    per_connection = [s.requests / connections for s in samples]
    worst_at = min(range(len(samples)), key=lambda i: per_connection[i])
    worst = samples[worst_at]
    passed = per_connection[worst_at] >= STALL_RESPONSES
    message = (
        f"a connection got {per_connection[worst_at]:.1f} responses in the "
        f"{worst.duration_us / 1e6:.1f} s run, so each waited "
        f"{worst.duration_us / 1e3 / max(per_connection[worst_at], 1e-9):,.0f} ms on average "
        f"(a stall below {STALL_RESPONSES})"
    )
    action = (
        None
        if passed
        else "something held requests for a large part of the run: look for a blocking call "
        "inside async def, an exhausted thread or connection pool (py-spy dump the workers "
        "during a run), too many connections for the workers, or rerun on a quiet machine"
    )
    return SanityCheck("stalls", passed, per_connection[worst_at], STALL_RESPONSES, message, action)


def io_ceiling(
    samples: Sequence[LoadSample], connections: int, downstream_latency_ms: int
) -> SanityCheck:
    """Compare ``io`` throughput with its ceiling ``connections / downstream latency``.

    Args:
        samples: the measured repeats of the point.
        connections: wrk's connections.
        downstream_latency_ms: the downstream's delay per request (> 0).
    """
    ceiling = connections / (downstream_latency_ms / 1000)
    median = summarize([s.throughput for s in samples]).median
    efficiency = median / ceiling
    passed = efficiency <= 1 + IO_TOLERANCE
    message = (
        f"{median:,.0f} req/s is {efficiency:.0%} of the workload's ceiling {ceiling:,.0f} "
        f"req/s ({connections} connections / {downstream_latency_ms} ms)"
    )
    action = (
        None
        if passed
        else "requests did not wait for the downstream: check the service's DOWNSTREAM_URL "
        "and the downstream's latency"
    )
    return SanityCheck("io_ceiling", passed, efficiency, 1 + IO_TOLERANCE, message, action)


def _bound(
    name: str,
    samples: Sequence[LoadSample],
    ceiling: LoadSample,
    what: str,
    action: str,
) -> SanityCheck:
    median = summarize([s.throughput for s in samples]).median
    fraction = median / ceiling.throughput
    passed = fraction < BOUND_FRACTION
    message = (
        f"{median:,.0f} req/s is {fraction:.0%} of {what} ({ceiling.throughput:,.0f} req/s; "
        f"bound from {BOUND_FRACTION:.0%})"
    )
    return SanityCheck(name, passed, fraction, BOUND_FRACTION, message, None if passed else action)


def generator_bound(samples: Sequence[LoadSample], level: CalibrationLevel) -> SanityCheck:
    """Compare throughput with wrk's ceiling against a trivial server (calibration).

    Args:
        samples: the measured repeats of the point.
        level: the calibration at the point's connections.
    """
    return _bound(
        "generator_bound",
        samples,
        level.generator,
        "the load generator's ceiling",
        "the figure is a lower bound of the service's capacity: measure on a machine with "
        "more cores, so wrk gets more of them",
    )


def generators_bound(
    samples: Sequence[LoadSample], levels: Sequence[CalibrationLevel | None]
) -> SanityCheck | None:
    """Compare each load generator's own throughput with its own calibrated ceiling.

    Args:
        samples: the measured repeats of a point, each merged from the same generators.
        levels: per generator, in order, the calibration of its host and CPUs at its
            connections; None where unknown. None is returned when all are unknown.
    """
    fractions = []
    for g, level in enumerate(levels):
        if level is not None:
            median = summarize([s.generators[g].sample.throughput for s in samples]).median
            fractions.append((median / level.generator.throughput, g, median, level))
    if not fractions:
        return None
    fraction, g, median, level = max(fractions)
    where = samples[0].generators[g].host or "this machine"
    passed = fraction < BOUND_FRACTION
    message = (
        f"load generator {g + 1} of {len(levels)} ({where}): {median:,.0f} req/s is "
        f"{fraction:.0%} of its own ceiling ({level.generator.throughput:,.0f} req/s; bound "
        f"from {BOUND_FRACTION:.0%}); {len(fractions)} of {len(levels)} generators calibrated"
    )
    action = (
        None
        if passed
        else "the figure is a lower bound of the service's capacity: add load hosts or give "
        "each generator more cores"
    )
    return SanityCheck("generator_bound", passed, fraction, BOUND_FRACTION, message, action)


def downstream_bound(samples: Sequence[LoadSample], level: CalibrationLevel) -> SanityCheck:
    """Compare throughput with what the load CPUs reach running wrk and the downstream.

    Args:
        samples: the measured repeats of the point.
        level: the calibration at the point's connections.
    """
    return _bound(
        "downstream_bound",
        samples,
        level.downstream,
        "the downstream's ceiling on the load CPUs",
        "the figure is a lower bound of the service's capacity: measure on a machine with "
        "more cores, so wrk and the downstream get more of them",
    )


def unstable(samples: Sequence[LoadSample]) -> SanityCheck | None:
    """Flag repeats whose throughput varies by more than 10% (None for one repeat).

    Args:
        samples: the measured repeats of the point.
    """
    summary = summarize([s.throughput for s in samples])
    if summary.cv is None:
        return None
    passed = not summary.unstable
    message = (
        f"throughput varies by {summary.cv:.1%} (coefficient of variation of {summary.n} "
        f"repeats, {summary.min:,.0f}-{summary.max:,.0f} req/s; unstable above "
        f"{UNSTABLE_CV:.0%})"
    )
    action = (
        None
        if passed
        else "close other programs using the CPU, then rerun with more --repeats and a longer "
        "--duration"
    )
    return SanityCheck("unstable", passed, summary.cv, UNSTABLE_CV, message, action)


def check_point(
    scenario: Scenario,
    samples: Sequence[LoadSample],
    connections: int,
    downstream_latency_ms: int,
    level: CalibrationLevel | None,
    generator_levels: Sequence[CalibrationLevel | None] = (),
) -> tuple[SanityCheck, ...]:
    """Every check that applies to a point.

    Args:
        scenario: the point's scenario.
        samples: its measured repeats (at least one).
        connections: wrk's connections.
        downstream_latency_ms: the downstream latency of the run.
        level: the calibration at ``connections``; None skips the ceiling checks.
        generator_levels: for samples of generators placed elsewhere (load hosts),
            each generator's own calibration at its connections (:func:`generators_bound`
            for several, :func:`generator_bound` for one), which replaces ``level`` for
            the generator's ceiling; default none.
    """
    checks = [littles_law(samples, connections), stalls(samples, connections)]
    if scenario.name == "io" and downstream_latency_ms > 0:
        checks.append(io_ceiling(samples, connections, downstream_latency_ms))
    if samples[0].generators:
        per_generator = generators_bound(samples, generator_levels)
        if per_generator is not None:
            checks.append(per_generator)
    elif len(generator_levels) == 1 and generator_levels[0] is not None:
        # One generator elsewhere (a single load host): its sample is its own.
        checks.append(generator_bound(samples, generator_levels[0]))
    elif level is not None:
        checks.append(generator_bound(samples, level))
    if level is not None and scenario.needs_downstream:
        checks.append(downstream_bound(samples, level))
    stability = unstable(samples)
    if stability is not None:
        checks.append(stability)
    return tuple(checks)
