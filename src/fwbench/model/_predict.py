"""Predictions for any configuration of a fitted pair, with the law each one uses and a
warning for every dimension it extrapolates along (and how far)."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, replace
from typing import Final

from fwbench.harness.errors import FwbenchError, InvalidOption
from fwbench.harness.scenarios import SCENARIOS
from fwbench.harness.servers import configure
from fwbench.model._document import PairModel, Setup
from fwbench.model._fit import configured_per_worker
from fwbench.model._laws import (
    CPU_BOUND,
    closed_loop_throughput,
    erlang_mean_wait,
    in_slot_time,
    round_trip,
    unloaded_time,
    utilisation,
)

#: Downstream latency of an io prediction that names none: ``fwbench run``'s default.
DEFAULT_LATENCY_MS: Final = 10.0

#: Share of the capacity from which an offered rate counts as overload (the queues
#: grow without bound at the capacity itself).
_SATURATED: Final = 0.999

#: Relative distance outside a measured span beyond which a warning is given.
_TOLERANCE: Final = 0.05


@dataclass(frozen=True)
class Query:
    """What to predict: a pair (``framework/server``, ``+def`` for FastAPI ``def``
    routes) in a configuration (None: the server's documented rule for ``cores``),
    loaded either closed-loop (``connections``) or open-loop (``rps``), with
    ``cpu_share`` of the cores left to the service by other processes (1: its own)."""

    pair: str
    scenario: str = "io"
    workers: int | None = None
    threads: int | None = None
    cores: int | None = None
    latency_ms: float | None = None
    connections: int | None = None
    rps: float | None = None
    cpu_share: float = 1.0


@dataclass(frozen=True)
class Prediction:
    """What the model predicts for a :class:`Query`.

    ``throughput_rps`` is what the service serves (the offered rate, or its capacity when
    overloaded); ``capacity_rps`` the most it can serve; ``bound`` the limit in force
    (``cpu``, ``slots``, ``connections`` or ``rate``); ``law`` the arithmetic, in words;
    ``warnings`` one sentence per extrapolation."""

    setup: Setup
    scenario: str
    latency_ms: float
    slots: float
    capacity_rps: float
    throughput_rps: float
    cpu_utilisation: float
    slot_utilisation: float
    p50_ms: float
    p99_ms: float
    memory_idle_mb: float
    memory_loaded_mb: float
    cold_start_ms: float | None
    overloaded: bool
    bound: str
    law: str
    warnings: tuple[str, ...]


class BadQuery(InvalidOption):
    """A prediction query that cannot be read or answered."""


def _setup(model: PairModel, query: Query) -> Setup:
    base = model.setup
    cores = query.cores if query.cores is not None else base.cores
    try:
        config = configure(
            base.framework, base.server, cores, workers=query.workers, threads=query.threads
        )
    except FwbenchError as error:
        raise BadQuery(error.problem, error.action) from None
    return Setup(
        framework=base.framework,
        server=base.server,
        routes=base.routes,
        workers=config.workers,
        threads=config.threads,
        cores=cores,
    )


def slot_count(slots: float) -> str:
    """Slots as printed: ``unbounded``, a whole number, or one decimal."""
    if math.isinf(slots):
        return "unbounded"
    return f"{slots:.0f}" if slots.is_integer() else f"{slots:.1f}"


def effective_slots(model: PairModel, setup: Setup) -> float:
    """Slots of ``setup``: what its settings configure, times its workers. When the fit
    measured fewer than configured, as if only some workers took requests, ``setup``
    gets that many workers' slots (at most its own workers); a limit where the settings
    set none caps each worker."""
    configured = configured_per_worker(setup)
    per_worker = math.inf if configured is None else configured
    measured = model.slots.measured
    if model.slots.agree or measured is None:
        return per_worker * setup.workers
    fitted = model.slots.configured
    if fitted is None or math.isinf(per_worker):
        return min(per_worker, measured) * setup.workers
    active = measured * model.setup.workers / fitted
    return per_worker * min(setup.workers, active)


def _outside(name: str, value: float, model: PairModel, unit: str, what: str) -> str | None:
    span = model.measured[name]
    if span.low * (1 - _TOLERANCE) <= value <= span.high * (1 + _TOLERANCE):
        return None
    measured = (
        f"{span.low:g}{unit}" if span.low == span.high else f"{span.low:g}-{span.high:g}{unit}"
    )
    edge = span.high if value > span.high else span.low
    factor = value / edge if value > edge else edge / value if value else math.inf
    side = "above" if value > span.high else "below"
    return f"{what} {value:g}{unit} is {factor:.1f}x {side} the measured {measured}"


def _warnings(model: PairModel, query: Query, prediction: Prediction) -> tuple[str, ...]:
    setup = prediction.setup
    found = [_outside("workers", setup.workers, model, "", "workers")]
    if setup.threads is not None:
        found.append(_outside("threads", setup.threads, model, "", "threads per worker"))
    if prediction.scenario == "io":
        found.append(_outside("latency_ms", prediction.latency_ms, model, " ms", "latency"))
    if query.connections is not None:
        found.append(_outside("connections", query.connections, model, "", "connections"))
    util = _outside("utilisation", prediction.cpu_utilisation, model, "", "CPU utilisation")
    if util is not None and prediction.cpu_utilisation > model.measured["utilisation"].high:
        found.append(util)
    cores = _outside("cores", setup.cores, model, "", "cores")
    if cores is not None:
        found.append(
            f"{cores}: CPU capacity scaled linearly, which assumes the work spreads over every core"
        )
    return tuple(w for w in found if w)


def predict(model: PairModel, query: Query) -> Prediction:
    """Predict ``query`` with ``model`` (see :mod:`._laws` for the arithmetic).

    Raises:
        BadQuery: the scenario was not measured for the pair, a setting the server does
            not have, or neither (or both of) ``connections`` and ``rps``.
    """
    if query.scenario not in model.cpu_ms:
        raise BadQuery(
            f"{model.setup.pair} has no measured {query.scenario} scenario",
            f"use one of: {', '.join(model.cpu_ms)}",
        )
    if (query.connections is None) == (query.rps is None):
        raise BadQuery(
            "give either connections=N (closed loop) or rps=N (open loop), not both or neither",
            'e.g. "flask/gunicorn-sync latency=80ms rps=40"',
        )
    if query.latency_ms is not None and query.scenario != "io":
        raise BadQuery(
            f"latency applies to the io scenario only, not {query.scenario}",
            "leave latency= out or use scenario=io",
        )
    setup = _setup(model, query)
    latency = 0.0
    if query.scenario == "io":
        latency = query.latency_ms if query.latency_ms is not None else DEFAULT_LATENCY_MS
    overhead = round_trip(SCENARIOS[query.scenario].needs_downstream, model.overhead_ms)
    cpu_ms = model.cpu_ms[query.scenario]
    cpu_s = cpu_ms / 1000
    slots = effective_slots(model, setup)
    cores = setup.cores * query.cpu_share
    laws = {
        "latency_s": latency / 1000,
        "overhead_s": overhead / 1000,
        "cpu_s": cpu_s,
        "cores": cores,
    }
    capacity = closed_loop_throughput(connections=math.inf, slots=slots, **laws)
    slot_text = slot_count(slots)
    share = "" if query.cpu_share == 1 else f" x {query.cpu_share:.2f} share"
    cpu_law = f"U = X x {cpu_ms:.2f} ms / ({setup.cores} cores{share})"
    if query.connections is not None:
        rate = closed_loop_throughput(connections=query.connections, slots=slots, **laws)
        overloaded = False
        # Every connection always has a request at the server: min(c, slots) hold a
        # slot (Little's law gives how long), the others wait for one.
        holding = min(query.connections, slots)
        held_ms = holding / rate * 1000
        wait_ms = max(0.0, query.connections / rate * 1000 - held_ms)
        law = (
            f"closed loop: MVA over N = min(c={query.connections}, slots={slot_text}) requests "
            f"in the slots, each a delay of {latency:g} + {overhead:.1f} ms and "
            f"{cpu_ms:.2f} ms of CPU shared on the cores; {cpu_law}"
        )
    else:
        assert query.rps is not None
        overloaded = query.rps >= capacity * _SATURATED
        rate = min(query.rps, capacity)
        held_ms = in_slot_time(latency, overhead, cpu_ms, min(rate * cpu_s / cores, _SATURATED))
        offered = rate * held_ms / 1000
        wait_ms = math.inf if overloaded else erlang_mean_wait(slots, offered, held_ms)
        law = (
            f"open loop: slots busy = X x T (Little), T = {latency:g} + {overhead:.1f} + "
            f"{cpu_ms:.2f}/(1-U) ms, {cpu_law}, wait for one of {slot_text} slots: Erlang C"
        )
    cpu_u = utilisation(rate, cpu_s, cores)
    busy = rate * held_ms / 1000
    base = unloaded_time(latency, overhead, cpu_ms)
    queueing = held_ms - base + wait_ms
    fit = model.latency
    if overloaded:
        bound = "cpu" if capacity * cpu_s / cores >= CPU_BOUND else "slots"
    elif cpu_u >= CPU_BOUND:
        bound = "cpu"
    elif query.connections is None:
        bound = "rate"
    else:
        bound = "slots" if slots < query.connections else "connections"
    memory = model.memory
    # The fitted lines can dip below what a request takes unloaded (a negative
    # intercept); no percentile is faster than that, and p99 is never below p50.
    p50_ms = max(base, base + fit.p50_light_ms + fit.p50_growth * queueing)
    prediction = Prediction(
        setup=setup,
        scenario=query.scenario,
        latency_ms=latency,
        slots=slots,
        capacity_rps=capacity,
        throughput_rps=rate,
        cpu_utilisation=cpu_u,
        slot_utilisation=0.0 if math.isinf(slots) else busy / slots,
        p50_ms=p50_ms,
        p99_ms=max(p50_ms, base + fit.p99_light_ms + fit.p99_growth * queueing),
        memory_idle_mb=memory.master_idle_mb + memory.per_worker_idle_mb * setup.workers,
        memory_loaded_mb=memory.master_loaded_mb + memory.per_worker_loaded_mb * setup.workers,
        cold_start_ms=model.cold_start_ms,
        overloaded=overloaded,
        bound=bound,
        law=law,
        warnings=(),
    )
    return replace(prediction, warnings=_warnings(model, query, prediction))


_KEYS: Final = (
    "scenario",
    "workers",
    "threads",
    "cores",
    "latency",
    "connections",
    "rps",
    "share",
)
_DURATION: Final = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")


def parse_query(text: str) -> Query:
    """Read ``"flask/gunicorn-gthread workers=5 threads=16 cores=2 latency=80ms rps=400"``.

    Raises:
        BadQuery: anything that is not ``PAIR key=value ...`` with known keys and numbers.
    """
    words = text.split()
    example = 'e.g. "flask/gunicorn-gthread workers=5 threads=16 cores=2 latency=80ms rps=400"'
    if not words or "/" not in words[0] or "=" in words[0]:
        raise BadQuery("a prediction starts with FRAMEWORK/SERVER", example)
    values: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not value:
            raise BadQuery(f"{word!r} is not key=value", example)
        if key not in _KEYS:
            close = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f"did you mean {close[0]}?" if close else f"use: {', '.join(_KEYS)}"
            raise BadQuery(f"unknown key {key!r}", hint)
        values[key] = value

    def number(key: str, integer: bool) -> float | None:
        if key not in values:
            return None
        try:
            found = float(values[key])
        except ValueError:
            raise BadQuery(f"{key}={values[key]} is not a number", example) from None
        if not math.isfinite(found) or found <= 0 or (integer and not found.is_integer()):
            kind = "a whole number" if integer else "a number"
            raise BadQuery(f"{key} must be {kind} above 0, not {values[key]}", example)
        return found

    latency = None
    if "latency" in values:
        match = _DURATION.match(values["latency"])
        if match is None:
            raise BadQuery(f"latency={values['latency']} is not a duration like 80ms", example)
        latency = float(match[1]) * (1000 if match[2] == "s" else 1)

    def whole(key: str) -> int | None:
        found = number(key, integer=True)
        return None if found is None else int(found)

    return Query(
        pair=words[0],
        scenario=values.get("scenario", "io"),
        workers=whole("workers"),
        threads=whole("threads"),
        cores=whole("cores"),
        latency_ms=latency,
        connections=whole("connections"),
        rps=number("rps", integer=False),
        cpu_share=_share(values.get("share"), example),
    )


def _share(text: str | None, example: str) -> float:
    if text is None:
        return 1.0
    try:
        share = float(text)
    except ValueError:
        share = math.nan
    if not 0 < share <= 1:
        raise BadQuery(f"share must be a fraction in (0, 1], not {text}", example)
    return share
