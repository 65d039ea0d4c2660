"""The model as tables a reader can check, its validation, and one prediction."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from fwbench.model._document import SCENARIOS, Check, ModelDocument, PairModel
from fwbench.model._predict import Prediction, slot_count
from fwbench.model._validate import FLAG_ERROR, TARGET_ERROR, median_error

#: The laws every prediction combines, printed under the model.
LAWS: tuple[str, ...] = (
    "Throughput X = min(slots / T, cores / D): Little's law on the slots, the utilisation "
    "law on the cores (D = CPU per request).",
    "Closed loop (c connections): N = min(c, slots) requests hold a slot, each a delay of "
    "L + overhead (downstream latency and its call's round trip; 0 without a call) and D of "
    "CPU shared on the cores: exact mean value analysis; the other c - N wait for a slot.",
    "Open loop (a rate): T = L + overhead + D / (1 - U) in the slot (processor sharing at "
    "U = X D / cores), the slots an M/M/c queue (Erlang C).",
    "p50/p99 = unloaded + light + growth x Q, Q the mean queueing delay those laws give; "
    "memory = master + per worker x workers.",
)


def headline(document: ModelDocument) -> str:
    """The first line: whether the model met its validation target."""
    checks = document.checks
    error = median_error(checks)
    flagged = sum(1 for c in checks if c.flag)
    if error is None:
        return "NO VALIDATION: no point was kept out of the fit, so the model is unchecked."
    verdict = "meets its target" if error <= TARGET_ERROR else "MISSES ITS TARGET"
    return (
        f"The model {verdict}: median throughput error {error:.0%} on {len(checks)} points "
        f"it was not fitted on (target <= {TARGET_ERROR:.0%}); {flagged} beyond "
        f"{FLAG_ERROR:.0%}, flagged below with a reason."
    )


def _slots(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:g}"


def _setup(model: PairModel) -> str:
    setup = model.setup
    return f"{setup.workers}" + ("" if setup.threads is None else f" x {setup.threads}")


def _ms(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:,.1f}"


def model_tables(document: ModelDocument) -> list[Table]:
    """Slots, CPU cost, memory and latency of every fitted pair."""
    slots = Table(title="Slots: requests one worker serves at once", title_justify="left")
    for column in ("pair", "workers x threads", "configured", "measured", "agree", "note"):
        slots.add_column(column)
    cost = Table(
        title="CPU ms per request (psutil, service tree); CPU share: of its cores, what "
        "other processes left the service at saturation",
        title_justify="left",
    )
    cost.add_column("pair")
    for scenario in SCENARIOS:
        cost.add_column(scenario, justify="right")
    cost.add_column("json req/s per core", justify="right")
    cost.add_column("CPU share", justify="right")
    memory = Table(title="Memory MB (PSS): master + per worker", title_justify="left")
    for column in ("pair", "at rest", "under load", "workers measured"):
        memory.add_column(column)
    latency = Table(title="Latency and start-up", title_justify="left")
    for column in ("pair", "overhead ms", "p50 light + growth", "p99 light + growth"):
        latency.add_column(column)
    latency.add_column("cold start ms", justify="right")
    latency.add_column("import ms", justify="right")
    for model in document.pairs:
        pair = model.setup.pair
        measured = model.slots.measured
        slots.add_row(
            pair,
            _setup(model),
            _slots(model.slots.configured),
            f"{measured:.1f}" if measured is not None else f">= {model.slots.at_least:.1f}",
            "yes" if model.slots.agree else "NO",
            model.slots.note,
        )
        json_ms = model.cpu_ms.get("json")
        cost.add_row(
            pair,
            *(f"{model.cpu_ms[s]:.2f}" if s in model.cpu_ms else "-" for s in SCENARIOS),
            f"{1000 / json_ms:,.0f}" if json_ms else "-",
            f"{model.cpu_share:.0%}",
        )
        m = model.memory
        memory.add_row(
            pair,
            f"{m.master_idle_mb:.0f} + {m.per_worker_idle_mb:.0f} x w",
            f"{m.master_loaded_mb:.0f} + {m.per_worker_loaded_mb:.0f} x w",
            ", ".join(map(str, m.workers_measured)),
        )
        fit = model.latency
        latency.add_row(
            pair,
            f"{model.overhead_ms:.2f}",
            f"{fit.p50_light_ms:+.1f} ms + {fit.p50_growth:.2f} Q",
            f"{fit.p99_light_ms:+.1f} ms + {fit.p99_growth:.2f} Q",
            "-" if model.cold_start_ms is None else f"{model.cold_start_ms:,.0f}",
            "-" if model.import_ms is None else f"{model.import_ms:,.0f}",
        )
    return [slots, cost, memory, latency]


def validation_table(checks: Sequence[Check]) -> Table:
    """Predicted vs measured for every point kept out of the fit."""
    table = Table(title="Validation: points the model was not fitted on", title_justify="left")
    for column in ("setup", "point", "varies", "measured req/s", "predicted req/s", "error"):
        table.add_column(
            column, justify="right" if "req/s" in column or column == "error" else "left"
        )
    for column in ("p99 ms meas / pred", "bound", "flag"):
        table.add_column(column)
    for check in checks:
        point = check.point
        where = f"{point.scenario} c={point.connections}"
        if point.scenario == "io":
            where = f"io {point.latency_ms:g} ms c={point.connections}"
        table.add_row(
            point.setup.label,
            where,
            point.why,
            f"{point.rps:,.0f}",
            f"{check.predicted_rps:,.0f}",
            "-" if check.error is None else f"{check.error:+.0%}",
            f"{point.p99_ms:,.1f} / "
            + ("inf" if check.predicted_p99_ms is None else f"{check.predicted_p99_ms:,.1f}"),
            check.law,
            check.flag,
        )
    return table


def print_document(console: Console, document: ModelDocument) -> None:
    """The headline, the model's tables, the laws and the validation."""
    console.print(headline(document), style="bold")
    for note in document.notes:
        console.print(f"note: {note}")
    for table in model_tables(document):
        console.print(table)
    for line in LAWS:
        console.print(f"  {line}")
    console.print(validation_table(document.checks))
    for failure in document.failures:
        console.print(f"not modelled: {failure}", style="yellow")


def print_prediction(console: Console, prediction: Prediction, source: str) -> None:
    """One prediction, its arithmetic and its warnings, under ``source``: the sentence
    saying which model made it."""
    setup = prediction.setup
    threads = "" if setup.threads is None else f", {setup.threads} threads"
    slots = slot_count(prediction.slots)
    console.print(source)
    console.print(
        f"{setup.pair}: {setup.workers} workers{threads}, {setup.cores} cores, "
        f"{prediction.scenario}"
        + (f" at {prediction.latency_ms:g} ms downstream" if prediction.scenario == "io" else "")
    )
    bound = {
        "rate": "the offered rate",
        "cpu": "CPU",
        "slots": "slots",
        "connections": "connections",
    }[prediction.bound]
    state = "OVERLOADED, the rate exceeds the capacity; " if prediction.overloaded else ""
    console.print(
        f"  throughput   {prediction.throughput_rps:,.0f} req/s ({state}bound by {bound}; "
        f"capacity {prediction.capacity_rps:,.0f} req/s)"
    )
    console.print(
        f"  utilisation  CPU {prediction.cpu_utilisation:.0%}, slots "
        f"{prediction.slot_utilisation:.0%} of {slots}"
    )
    console.print(
        f"  latency      p50 {_ms(prediction.p50_ms)} ms, p99 {_ms(prediction.p99_ms)} ms"
    )
    console.print(
        f"  memory       {prediction.memory_idle_mb:,.0f} MB at rest, "
        f"{prediction.memory_loaded_mb:,.0f} MB under load"
    )
    if prediction.cold_start_ms is not None:
        console.print(f"  cold start   {prediction.cold_start_ms:,.0f} ms")
    console.print(f"  law          {prediction.law}")
    for warning in prediction.warnings:
        console.print(f"  extrapolates: {warning}", style="yellow")
