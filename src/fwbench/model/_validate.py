"""Validation: predict every point the model was not fitted on, compare, and explain
each miss beyond :data:`FLAG_ERROR` from the numbers recorded at that point."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Final

from fwbench.model._document import Check, PairModel, Point
from fwbench.model._fit import busy_slots
from fwbench.model._predict import Prediction, Query, predict, slot_count

#: Target of the median absolute throughput error over the validation points.
TARGET_ERROR: Final = 0.15

#: A validation point whose throughput error exceeds this is flagged with a reason.
FLAG_ERROR: Final = 0.25

#: Rise of other processes' use of the service's cores, against the fitted points'
#: median, that explains a miss.
_OTHERS_RISE: Final = 0.2

#: Share of failed requests at which a point is itself suspect.
_FAILED_SHARE: Final = 0.01


def query_for(model: PairModel, point: Point) -> Query:
    """The query that predicts ``point``: its setup, latency and connections, on the
    share of the cores the service got when fitted (the machine the points ran on)."""
    setup = point.setup
    return Query(
        pair=setup.pair,
        scenario=point.scenario,
        workers=setup.workers,
        threads=setup.threads,
        cores=setup.cores,
        latency_ms=point.latency_ms if point.scenario == "io" else None,
        connections=point.connections,
        cpu_share=model.cpu_share,
    )


def _reason(
    model: PairModel, point: Point, prediction: Prediction, fitted_points: Sequence[Point]
) -> str:
    answered = point.ok + point.failed
    if not point.ok:
        return f"no expected response arrived in the point's {point.duration_s:.0f} s"
    if answered and point.failed / answered >= _FAILED_SHARE:
        return f"{point.failed} of {answered} requests failed at this point"
    others = statistics.median(p.others_utilisation for p in fitted_points or [point])
    if point.others_utilisation > others + _OTHERS_RISE:
        return (
            f"other processes kept {point.others_utilisation:.0%} of the service's cores "
            f"busy here against {others:.0%} (median) during the fitted points"
        )
    measured_cpu = point.cpu_ms_per_request
    fitted_cpu = model.cpu_ms[point.scenario]
    if measured_cpu is not None and abs(measured_cpu / fitted_cpu - 1) > FLAG_ERROR:
        return (
            f"CPU per request was {measured_cpu:.2f} ms here against {fitted_cpu:.2f} ms fitted "
            "(the cost changes with this configuration, or another process shared the core)"
        )
    if prediction.bound == "slots":
        busy = busy_slots(point, model.overhead_ms, model.cpu_ms["io"], model.cpu_share)
        capped = "" if model.slots.agree else " (capped by the limit the fit measured)"
        return (
            f"slot-bound: {busy:.1f} slots were busy here, the model has "
            f"{slot_count(prediction.slots)}{capped}"
        )
    if prediction.warnings:
        return f"extrapolated: {prediction.warnings[0]}"
    return (
        f"bound by {prediction.bound}, CPU {point.cpu_utilisation:.0%} busy against "
        f"{prediction.cpu_utilisation:.0%} predicted; no recorded cause"
    )


def check(model: PairModel, point: Point, fitted_points: Sequence[Point]) -> Check:
    """Predict ``point`` with ``model`` and compare; ``fitted_points`` are the points
    the model was fitted on (to explain a miss)."""
    prediction = predict(model, query_for(model, point))
    error = (prediction.throughput_rps - point.rps) / point.rps if point.rps else None
    missed = error is None or abs(error) > FLAG_ERROR
    return Check(
        point=point,
        predicted_rps=prediction.throughput_rps,
        predicted_p50_ms=_finite(prediction.p50_ms),
        predicted_p99_ms=_finite(prediction.p99_ms),
        law=prediction.bound,
        error=error,
        flag=_reason(model, point, prediction, fitted_points) if missed else "",
    )


def validate(models: Iterable[PairModel], points: Sequence[Point]) -> tuple[Check, ...]:
    """A :class:`Check` for every validation point of a fitted pair."""
    by_pair = {model.setup.pair: model for model in models}
    fitted = [p for p in points if p.role == "fit"]
    return tuple(
        check(
            by_pair[point.setup.pair],
            point,
            [p for p in fitted if p.setup.pair == point.setup.pair],
        )
        for point in points
        if point.role == "validate" and point.setup.pair in by_pair
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def absolute_error(check: Check) -> float:
    """``check``'s absolute throughput error; infinite when the point measured nothing."""
    return math.inf if check.error is None else abs(check.error)


def median_error(checks: Sequence[Check]) -> float | None:
    """Median absolute throughput error (a point that measured nothing counts as an
    infinite miss); None without checks."""
    return statistics.median(absolute_error(c) for c in checks) if checks else None
