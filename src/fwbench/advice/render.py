"""``advise`` output: rich text for a terminal, and a JSON document for tools
(:class:`AdviceDocument`; ``advice.schema.json`` next to this module is generated from
it by ``python -m fwbench.schemas``)."""

from __future__ import annotations

import io
import math
from typing import Annotated, Any, Final, Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt, with_config
from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from typing_extensions import TypedDict

from fwbench.advice.engine import Advice, Option, Status
from fwbench.advice.profile import Profile
from fwbench.advice.risks import Risk
from fwbench.advice.rules import WEIGHTS, Criterion
from fwbench.advice.search import HEADROOM, Plan, Search
from fwbench.advice.verify import Verification
from fwbench.harness.display import count
from fwbench.harness.documents import RECORD, adapter
from fwbench.harness.servers import FRAMEWORK_NAMES, FRAMEWORKS

#: Version of the JSON document; bump it when a field changes meaning or disappears.
#: History: fwbench-advice/1 - fwbench 0.1.0: first format; fwbench-advice/2: plans from
#: the performance model's configuration search (``capacity_plan`` rewritten), model,
#: nothing_fits, closest, async_alternative and verification added.
ADVICE_FORMAT: Final = "fwbench-advice/2"


def _signed(points: float) -> str:
    return f"{points:+g}" if points else "0"


def _ranking(advice: Advice) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="Ranking", title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("Option")
    table.add_column("Score", justify="right")
    table.add_column("Instances", justify="right")
    for rank, option in enumerate(advice.options, start=1):
        plan = option.plan
        instances = "-" if plan is None else str(plan.instances)
        table.add_row(str(rank), option.title, f"{option.score:g}", instances)
    return table


def _scores(advice: Advice) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        title="Score per criterion (points; score = sum of points x weight)",
        title_justify="left",
    )
    table.add_column("Criterion")
    table.add_column("Weight", justify="right")
    options = sorted(advice.options, key=lambda o: FRAMEWORKS.index(o.framework))
    for option in options:
        table.add_column(FRAMEWORK_NAMES[option.framework], justify="right")
    for criterion in Criterion:
        cells = [_signed(option.points[criterion]) for option in options]
        if any(cell != "0" for cell in cells):
            table.add_row(criterion.value, f"{WEIGHTS[criterion]:g}", *cells)
    table.add_row(
        Text("Score", style="bold"), "", *(Text(f"{o.score:g}", style="bold") for o in options)
    )
    return table


def _rules(advice: Advice) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="The article's rules that fired", title_justify="left")
    table.add_column("For")
    table.add_column("Pts", justify="right")
    table.add_column("The article says", ratio=3)
    table.add_column("Because", ratio=2)
    for item in advice.fired:
        rule = item.rule
        because = rule.when
        if item.status is not Status.APPLIED:
            because += f"\n{item.status.value}: {item.detail}"
        points = _signed(rule.points)
        if item.counted_points != rule.points:
            points = f"({points})"
        table.add_row(
            FRAMEWORK_NAMES[rule.framework], points, f"\u201c{rule.quote}\u201d ({rule.section})",
            because,
        )  # fmt: skip
    return table


def _cores(n: int) -> str:
    return count(n, "core")


def _slots_text(plan: Plan) -> str:
    setup = plan.setup
    if plan.serverless:
        return f"{plan.slots:g} (the platform's concurrency per function instance)"
    if math.isinf(plan.slots):
        return "unbounded (an event loop awaits the downstream)"
    per_worker = plan.slots / setup.workers
    return f"{setup.workers} x {per_worker:g} = {plan.slots:,.0f}"


def plan_lines(plan: Plan, profile: Profile) -> list[str]:
    """The arithmetic of ``plan``, one line per quantity, as the text output shows it."""
    setup = plan.setup
    band = plan.band
    if band.points:
        error = (
            f"the model's validation error for {setup.pair}: "
            f"throughput {_percent(band.throughput)}, p99 {_percent(band.p99)} "
            f"(median over {count(band.points, 'point')} it was not fitted on)"
        )
    else:
        error = f"the model has no validation point for {setup.pair}: no error band"
    capacity = plan.capacity
    if plan.scenario == "io":
        work = (
            f"{plan.latency_ms:g} ms downstream + {plan.overhead_ms:.1f} ms round trip + "
            f"{plan.cpu_ms:.2f} ms CPU"
        )
    else:
        work = f"{plan.overhead_ms:.1f} ms round trip + {plan.cpu_ms:.2f} ms CPU (json)"
    cpu = plan.planned.cpu_utilisation
    lines = [
        f"Model pair {setup.pair}; {error}.",
        f"Requests in flight at the peak: {plan.peak_rps:,.0f} req/s x {plan.unloaded_ms:.1f} "
        f"ms ({work}) = {plan.in_flight:,.1f}.",
        f"Slots per instance: {_slots_text(plan)}; cores per instance {setup.cores}, of which "
        f"{plan.usable_cores} busy at most (one Python process runs on one core at a time).",
        f"Capacity per instance: {plan.capacity_rps:,.0f} req/s{band.text(0.0)}, bound by "
        f"{capacity.bound} ({capacity.law}).",
        f"Instances: ceil({plan.peak_rps:,.0f} / ({plan.capacity_rps:,.0f} x {HEADROOM:.0%})) "
        f"= {plan.instances}, each at {plan.instance_rps:,.0f} req/s; "
        f"{count(plan.processes, 'worker process')}, {_cores(plan.total_cores)} in total.",
        f"Memory under load: {plan.master_mb:,.0f} + {setup.workers} x {plan.worker_mb:,.0f} "
        f"= {plan.instance_memory_mb:,.0f} MB per instance, {plan.total_memory_mb:,.0f} MB in "
        f"total; budget {profile.memory_budget_mb:,.0f} MB per instance: "
        f"{_verdict(plan, 'memory', 'fits', 'exceeds')}.",
        f"CPU utilisation per instance: {plan.instance_rps:,.0f} x {plan.cpu_ms:.2f} ms / "
        f"{_cores(plan.usable_cores)} = {cpu:.0%}.",
        f"At that load: p50 {_ms(plan.planned.p50_ms)}, p99 {_ms(plan.planned.p99_ms)}"
        f"{band.text(None)}; target {profile.p99_target_ms:,.0f} ms: "
        f"{_verdict(plan, 'p99', 'meets', 'misses')}.",
    ]
    cold = plan.planned.cold_start_ms
    if cold is None:
        lines.append("Cold start: not measured.")
    elif plan.serverless:
        lines.append(
            f"Cold start: {cold:,.0f} ms to the first domain response; serverless budget "
            f"{profile.cold_start_budget_ms:,.0f} ms: "
            f"{_verdict(plan, 'cold start', 'fits', 'exceeds')}."
        )
    else:
        lines.append(f"Cold start: {cold:,.0f} ms to the first domain response.")
    lines += [f"Extrapolates: {warning}." for warning in plan.warnings]
    return lines


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if math.isfinite(value) else "unbounded (the slots never catch up)"


def _percent(error: float | None) -> str:
    return "unknown" if error is None else f"±{error:.0%}"


def _verdict(plan: Plan, what: str, yes: str, no: str) -> str:
    miss = next((m for m in plan.misses if m.what == what), None)
    return yes if miss is None else f"{no} by {miss.ratio:.0%}"


def _async_cost(search: Search, profile: Profile) -> list[str]:
    """What writing no async code costs against FastAPI's async routes, in numbers."""
    alternative = search.async_alternative
    if alternative is None:
        return []
    chosen = search.best.get("fastapi")
    head = "Your team cannot debug async/await, so FastAPI is planned without async code"
    if chosen is None:
        return [
            f"{head}, and the model holds no such configuration for this workload; the async "
            f"option would be {alternative.describe()} "
            f"({count(alternative.instances, 'instance')})."
        ]
    cores = chosen.total_cores - alternative.total_cores
    memory = chosen.total_memory_mb - alternative.total_memory_mb
    p99 = chosen.planned.p99_ms - alternative.planned.p99_ms
    return [
        f"{head}: {chosen.describe()}. Against the async option ({alternative.describe()}: "
        f"{count(alternative.instances, 'instance')}, {alternative.total_memory_mb:,.0f} MB, "
        f"p99 {_ms(alternative.planned.p99_ms)}) it costs {cores:+d} "
        f"core{'' if abs(cores) == 1 else 's'}, "
        f"{memory:+,.0f} MB in total and "
        + (f"{p99:+,.1f} ms of p99." if math.isfinite(p99) else "an unbounded p99.")
    ]


def _risk_lines(risks: tuple[Risk, ...]) -> list[str]:
    lines = []
    for risk in risks:
        spec = risk.spec
        lines.append(f"- {spec.title}: {spec.watch}")
        if risk.evidence is None:
            lines.append(
                f"  Claim \u201c{spec.claim}\u201d not measured in these results: "
                "run `fwbench claims` to measure it."
            )
        else:
            found = risk.evidence
            lines.append(
                f"  Measured ({found.experiment}): \u201c{spec.claim}\u201d is "
                f"{found.outcome}: {found.condition}."
            )
            lines += [f"    {finding}" for finding in found.findings[:3]]
    return lines


def _option_block(option: Option, profile: Profile, heading: str) -> list[RenderableType]:
    parts: list[RenderableType] = [Text(heading, style="bold")]
    if option.plan is not None:
        parts += [Text(f"- {line}") for line in plan_lines(option.plan, profile)]
    else:
        parts.append(
            Text(
                "No capacity plan: the model holds no configuration of it for this "
                "profile (or there is no model)."
            )
        )
    if option.risks:
        parts.append(Text(f"Risks to watch with {FRAMEWORK_NAMES[option.framework]}:"))
        parts += [Text(line) for line in _risk_lines(option.risks)]
    return parts


def renderable(advice: Advice, notice: str, verification: Verification | None = None) -> Group:
    """Everything ``advise`` prints, as one rich renderable.

    Args:
        advice: the computed advice.
        notice: the sentences saying which measurements and model were used.
        verification: what ``--verify`` measured (default None: not verified).
    """
    top, runner_up = advice.options[0], advice.options[1]
    parts: list[RenderableType] = [Text(notice), Text("")]
    found = advice.search
    closest = found.closest if found else None
    if closest is not None:
        misses = "; ".join(miss.text() for miss in closest.misses)
        parts.append(
            Text(
                f"Nothing fits your budgets. The closest option, "
                f"{FRAMEWORK_NAMES[closest.framework]} on {closest.describe()}, misses: "
                f"{misses}.",
                style="bold red",
            )
        )
    parts += [
        Text.assemble(("Recommendation: ", "bold"), (top.title, "bold green")),
        Text(f"Score {top.score:g}, ahead of {runner_up.title} ({runner_up.score:g})."),
    ]
    if found is not None:
        parts += [Text(line) for line in _async_cost(found, advice.profile)]
    if advice.changed_by_measurements:
        article = FRAMEWORK_NAMES[advice.article_choice]
        parts.append(
            Text(
                f"Measurements changed the answer: the article's rules alone would pick "
                f"{article}. What the measurements changed:",
                style="bold yellow",
            )
        )
        parts += [
            Text(f"- overruled: \u201c{item.rule.quote}\u201d: {item.detail}")
            for item in advice.overruled
        ]
        parts += [Text(f"- measured: {finding.text}") for finding in advice.findings]
    elif advice.overruled:
        parts.append(Text("Measurements overrule the article here, without changing the answer:"))
        parts += [
            Text(f"- \u201c{item.rule.quote}\u201d: {item.detail}") for item in advice.overruled
        ]
    parts += [Text(""), _ranking(advice), _scores(advice), _rules(advice)]
    if advice.findings:
        parts.append(Text("Measured points", style="bold"))
        parts += [
            Text(f"- {_signed(f.points)} {f.criterion.value}: {f.text}") for f in advice.findings
        ]
        parts.append(Text(""))
    parts += _option_block(top, advice.profile, f"Capacity plan: {top.title}")
    if verification is not None:
        parts.append(Text(""))
        parts.append(Text("Verification (--verify)", style="bold"))
        parts += [Text(line) for line in verification.lines()]
    return Group(*parts)


def render_text(
    advice: Advice,
    notice: str,
    width: int = 100,
    color: bool = False,
    verification: Verification | None = None,
) -> str:
    """The text output as a string (what the terminal shows, without colour by default).

    Args:
        advice: the computed advice.
        notice: the sentences saying which measurements and model were used.
        width: line width in characters (default 100).
        color: keep ANSI styles (default False: plain text).
        verification: what ``--verify`` measured (default None: not verified).
    """
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        legacy_windows=False,
        highlight=False,
    )
    console.print(renderable(advice, notice, verification))
    return buffer.getvalue()


_FRAMEWORK: Final = Field(json_schema_extra={"enum": list(FRAMEWORKS)})


@with_config(RECORD)
class ErrorBand(TypedDict):
    """The model's validation error for the plan's pair (points it was not fitted on)."""

    throughput: NonNegativeFloat | None
    """Median absolute relative error of throughput; null without validation points."""
    p99: NonNegativeFloat | None
    """Median absolute relative error of p99; null without validation points."""
    points: NonNegativeInt
    """Validation points of the pair."""


@with_config(RECORD)
class MissDocument(TypedDict):
    """A budget the plan misses."""

    what: Literal["memory", "p99", "cold start"]
    value: float | None
    budget: float
    unit: str


@with_config(RECORD)
class PlanDocument(TypedDict):
    """The capacity plan of one configuration (``fwbench.advice.search.Plan``): the
    model's predictions, and the arithmetic the text output shows."""

    pair: str
    """The model's pair, e.g. ``fastapi/uvicorn+def`` (FastAPI's def routes)."""
    configuration: str
    """The configuration in words."""
    async_code: bool
    """Whether it needs ``async def`` routes."""
    serverless: bool
    """Planned per serverless function instance."""
    concurrency: PositiveInt | None
    """Requests one function instance serves at once (serverless), else null."""
    scenario: str
    """The model's scenario: io, or json for CPU-bound work."""
    workers: PositiveInt
    threads: PositiveInt | None
    """Threads per worker (anyio limiter tokens for def routes); null: the server's own."""
    cores_per_instance: PositiveInt
    usable_cores: PositiveInt
    """Cores the instance can keep busy: at most one per worker (the GIL)."""
    downstream_ms: NonNegativeFloat
    overhead_ms: NonNegativeFloat
    """The model's round trip beyond downstream and CPU."""
    cpu_ms: NonNegativeFloat
    """The model's CPU cost per request of the scenario."""
    in_flight: NonNegativeFloat
    """Requests in flight at the peak: peak x (downstream + round trip + CPU)."""
    slots: float | None
    """Requests one instance serves at once; null when unbounded (event loop)."""
    capacity_rps: NonNegativeFloat
    """Most one instance serves (the model)."""
    capacity_bound: str
    """What bounds it: cpu or slots."""
    law: str
    """The law of the capacity, with the numbers."""
    headroom: Annotated[float, Field(gt=0, le=1)]
    """The share of an instance's capacity planned for (``HEADROOM``)."""
    instances: PositiveInt
    instance_rps: NonNegativeFloat
    """Rate planned per instance: peak / instances."""
    processes: PositiveInt
    """Worker processes across all instances."""
    instance_memory_mb: NonNegativeFloat
    """Memory of one instance under load: master + workers x per worker (the model)."""
    total_memory_mb: NonNegativeFloat
    cpu_utilisation: NonNegativeFloat
    """CPU utilisation of an instance at the planned rate."""
    p50_ms: NonNegativeFloat | None
    p99_ms: NonNegativeFloat | None
    """p50 and p99 at the planned rate (the model); null when they grow without bound
    (the model's slots never catch up with the rate)."""
    cold_start_ms: NonNegativeFloat | None
    error_band: ErrorBand
    extrapolations: list[str]
    """One sentence per dimension the predictions extrapolate along."""
    misses: list[MissDocument]
    """The budgets it misses; empty when it fits (a value that grows without bound is
    null)."""


@with_config(RECORD)
class VerificationDocument(TypedDict):
    """``advise --verify``: one instance of the plan, measured here at its planned rate
    with open-loop (constant-rate) load."""

    configuration: str
    cores: PositiveInt
    """Cores the instance ran on here."""
    target_rps: NonNegativeFloat
    """The rate it was driven at: the planned rate per instance, scaled to the cores
    here when they differ from the plan's."""
    achieved_rps: NonNegativeFloat
    duration_s: NonNegativeFloat
    connections: PositiveInt
    late_sends: NonNegativeInt
    """Requests sent more than 1 ms after their scheduled time (every connection busy)."""
    max_late_ms: NonNegativeFloat
    p50_ms: NonNegativeFloat
    p99_ms: NonNegativeFloat
    predicted_p50_ms: NonNegativeFloat | None
    predicted_p99_ms: NonNegativeFloat | None
    """The model's p50 and p99 for the load here; null when unbounded."""
    p99_target_ms: NonNegativeFloat
    errors: NonNegativeInt
    """Failed requests (socket errors, timeouts, unexpected statuses)."""
    held: bool
    """Whether the plan held: the rate was achieved, nothing failed and p99 met the target."""
    verdict: str
    """The outcome in one sentence."""
    load_average: NonNegativeFloat
    """1-minute load average when the load started."""


@with_config(RECORD)
class MeasuredRisk(TypedDict):
    """The claims verdict that measured a risk."""

    experiment: str
    outcome: str
    condition: str
    findings: list[str]


@with_config(RECORD)
class RiskDocument(TypedDict):
    """A risk to watch with an option, and what measured it (null when nothing did)."""

    title: str
    watch: str
    claim: str
    measured: MeasuredRisk | None


@with_config(RECORD)
class RankedOption(TypedDict):
    """One framework of the ranking, best first."""

    rank: PositiveInt
    framework: Annotated[str, _FRAMEWORK]
    configuration: str
    measured: bool
    score: float
    points: dict[str, int]
    capacity_plan: PlanDocument | None
    risks: list[RiskDocument]


@with_config(RECORD)
class RuleDocument(TypedDict):
    """A rule of the article that fired, and what the measurements did to it."""

    id: str
    framework: Annotated[str, _FRAMEWORK]
    criterion: Criterion
    points: int
    counted_points: int
    quote: Annotated[str, Field(min_length=1)]
    section: str
    when: str
    status: Status
    detail: str


@with_config(RECORD)
class FindingDocument(TypedDict):
    """Points a measurement gave or took."""

    framework: str
    criterion: Criterion
    points: int
    text: str


@with_config(RECORD)
class Measurements(TypedDict):
    """The results file the advice used."""

    source: str
    machine: str


@with_config(RECORD)
class AdviceDocument(TypedDict):
    """``fwbench advise --format json``."""

    format: Literal["fwbench-advice/2"]
    """The document's version (``ADVICE_FORMAT``)."""
    notice: Annotated[str, Field(min_length=1)]
    """The sentence saying which measurements were used."""
    measurements: Measurements | None
    """The results file read; null when the advice rests on the article alone."""
    profile: Profile
    """The answers the advice was computed from."""
    recommendation: Annotated[str, Field(min_length=1)]
    """The recommended framework and server configuration."""
    article_choice: Annotated[str, _FRAMEWORK]
    """The framework the article's rules alone choose."""
    changed_by_measurements: bool
    """Whether the measurements changed the choice."""
    weights: dict[str, NonNegativeFloat]
    """The weight of each criterion in the score."""
    ranking: Annotated[list[RankedOption], Field(min_length=3, max_length=3)]
    """The three frameworks, best first."""
    rules: list[RuleDocument]
    """The article's rules that fired."""
    measured_findings: list[FindingDocument]
    """Points the measurements gave or took."""
    model: Annotated[str, Field(min_length=1)]
    """The sentence saying which performance model the plans come from (or that none
    was found)."""
    nothing_fits: bool
    """Whether no framework's best configuration meets every budget."""
    closest: str | None
    """When nothing fits: the option that misses by the least."""
    async_alternative: PlanDocument | None
    """When the team cannot debug async code: FastAPI's best async configuration, to
    compare the no-async plan with."""
    verification: VerificationDocument | None
    """``--verify``: the recommended plan measured here; null without --verify."""


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _plan_json(plan: Plan | None) -> PlanDocument | None:
    if plan is None:
        return None
    setup = plan.setup
    return {
        "pair": setup.pair,
        "configuration": plan.describe(),
        "async_code": plan.async_code,
        "serverless": plan.serverless,
        "concurrency": plan.concurrency,
        "scenario": plan.scenario,
        "workers": setup.workers,
        "threads": setup.threads,
        "cores_per_instance": setup.cores,
        "usable_cores": plan.usable_cores,
        "downstream_ms": plan.latency_ms,
        "overhead_ms": plan.overhead_ms,
        "cpu_ms": plan.cpu_ms,
        "in_flight": plan.in_flight,
        "slots": _finite(plan.slots),
        "capacity_rps": plan.capacity_rps,
        "capacity_bound": plan.capacity.bound,
        "law": plan.capacity.law,
        "headroom": HEADROOM,
        "instances": plan.instances,
        "instance_rps": plan.instance_rps,
        "processes": plan.processes,
        "instance_memory_mb": plan.instance_memory_mb,
        "total_memory_mb": plan.total_memory_mb,
        "cpu_utilisation": plan.planned.cpu_utilisation,
        "p50_ms": _finite(plan.planned.p50_ms),
        "p99_ms": _finite(plan.planned.p99_ms),
        "cold_start_ms": plan.planned.cold_start_ms,
        "error_band": {
            "throughput": plan.band.throughput,
            "p99": plan.band.p99,
            "points": plan.band.points,
        },
        "extrapolations": list(plan.warnings),
        "misses": [
            {"what": m.what, "value": _finite(m.value), "budget": m.budget, "unit": m.unit}
            for m in plan.misses
        ],
    }


def _risk_json(risk: Risk) -> RiskDocument:
    found = risk.evidence
    return {
        "title": risk.spec.title,
        "watch": risk.spec.watch,
        "claim": risk.spec.claim,
        "measured": None
        if found is None
        else {
            "experiment": found.experiment,
            "outcome": found.outcome,
            "condition": found.condition,
            "findings": list(found.findings),
        },
    }


def _verification_json(found: Verification | None) -> VerificationDocument | None:
    if found is None:
        return None
    return {
        "configuration": found.configuration,
        "cores": found.cores,
        "target_rps": found.target_rps,
        "achieved_rps": found.achieved_rps,
        "duration_s": found.duration_s,
        "connections": found.connections,
        "late_sends": found.late_sends,
        "max_late_ms": found.max_late_ms,
        "p50_ms": found.p50_ms,
        "p99_ms": found.p99_ms,
        "predicted_p50_ms": _finite(found.predicted_p50_ms),
        "predicted_p99_ms": _finite(found.predicted_p99_ms),
        "p99_target_ms": found.p99_target_ms,
        "errors": found.errors,
        "held": found.held,
        "verdict": found.verdict,
        "load_average": found.load_average,
    }


def to_json(
    advice: Advice,
    notice: str,
    model_notice: str,
    verification: Verification | None = None,
) -> dict[str, Any]:
    """The advice as a JSON-ready document (:class:`AdviceDocument`, format
    :data:`ADVICE_FORMAT`), validated like every document fwbench writes.

    Args:
        advice: the computed advice.
        notice: the sentence saying which measurements were used.
        model_notice: the sentence saying which performance model was used.
        verification: what ``--verify`` measured (default None: not verified).
    """
    found = advice.search
    closest = found.closest if found else None
    evidence = advice.evidence
    document: AdviceDocument = {
        "format": ADVICE_FORMAT,
        "notice": notice,
        "measurements": None
        if evidence is None
        else {"source": evidence.source, "machine": evidence.machine},
        "profile": advice.profile,
        "recommendation": advice.recommendation.title,
        "article_choice": advice.article_choice,
        "changed_by_measurements": advice.changed_by_measurements,
        "weights": {criterion.value: weight for criterion, weight in WEIGHTS.items()},
        "ranking": [
            {
                "rank": rank,
                "framework": option.framework,
                "configuration": option.configuration,
                "measured": option.measured,
                "score": option.score,
                "points": {c.value: p for c, p in option.points.items()},
                "capacity_plan": _plan_json(option.plan),
                "risks": [_risk_json(risk) for risk in option.risks],
            }
            for rank, option in enumerate(advice.options, start=1)
        ],
        "rules": [
            {
                "id": item.rule.id,
                "framework": item.rule.framework,
                "criterion": item.rule.criterion,
                "points": item.rule.points,
                "counted_points": item.counted_points,
                "quote": item.rule.quote,
                "section": item.rule.section,
                "when": item.rule.when,
                "status": item.status,
                "detail": item.detail,
            }
            for item in advice.fired
        ],
        "measured_findings": [
            {
                "framework": f.framework,
                "criterion": f.criterion,
                "points": f.points,
                "text": f.text,
            }
            for f in advice.findings
        ],
        "model": model_notice,
        "nothing_fits": found.nothing_fits if found else False,
        "closest": None
        if closest is None
        else f"{FRAMEWORK_NAMES[closest.framework]} on {closest.describe()}",
        "async_alternative": _plan_json(found.async_alternative if found else None),
        "verification": _verification_json(verification),
    }
    adapter_ = adapter(AdviceDocument)
    data: dict[str, Any] = adapter_.dump_python(
        adapter_.validate_python(document), mode="json", by_alias=True
    )
    return data
