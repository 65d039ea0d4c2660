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

from fwbench.advice.capacity import HEADROOM, CapacityPlan
from fwbench.advice.engine import Advice, Option, Status
from fwbench.advice.profile import Deployment, Profile
from fwbench.advice.risks import Risk
from fwbench.advice.rules import WEIGHTS, Criterion
from fwbench.harness.documents import RECORD, adapter
from fwbench.harness.servers import FRAMEWORK_NAMES, FRAMEWORKS

#: Version of the JSON document; bump it when a field changes meaning or disappears.
#: History: fwbench-advice/1 - fwbench 0.1.0: first format.
ADVICE_FORMAT: Final = "fwbench-advice/1"


def _signed(points: float) -> str:
    return f"{points:+g}" if points else "0"


def _count(n: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n} {noun if n == 1 else plural}"


def _yes_no(value: bool | None, yes: str, no: str) -> str:
    return "not measured" if value is None else (yes if value else no)


def _ranking(advice: Advice) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="Ranking", title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("Option")
    table.add_column("Score", justify="right")
    table.add_column("Instances", justify="right")
    for rank, option in enumerate(advice.options, start=1):
        plan = option.plan
        instances = "-" if plan is None or plan.instances is None else str(plan.instances)
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


def _plan_lines(plan: CapacityPlan, profile: Profile) -> list[str]:
    setup = plan.setup
    slots = "unbounded (event loop)" if math.isinf(plan.slots) else f"{plan.slots:,.0f}"
    if plan.slots_estimated:
        slots += " (estimated)"
    lines = [
        f"Instance = the measured setup: {_count(setup.cores, 'core')}, "
        f"{setup.describe(plan.workers)}; "
        f"concurrent slots {slots}.",
        f"Basis: {plan.basis}, plateau {plan.plateau_rps:,.0f} req/s.",
    ]
    if plan.instances is None:
        lines.append("Does not fit: " + "; ".join(plan.notes) + ".")
        return lines
    lines += [
        f"Per instance: {plan.instance_rps:,.0f} req/s at {profile.downstream_ms:g} ms "
        f"downstream, limited by {plan.limited_by}.",
        f"Peak {profile.peak_rps:,.0f} req/s at {HEADROOM:.0%} utilisation: "
        f"{_count(plan.instances, 'instance')}, {_count(plan.processes or 0, 'worker process')}.",
    ]
    if plan.instance_memory_mb is not None and plan.total_memory_mb is not None:
        fits = _yes_no(plan.fits_memory(profile), "fits", "exceeds")
        lines.append(
            f"Memory: {plan.instance_memory_mb:,.0f} MB per instance (PSS), "
            f"{plan.total_memory_mb:,.0f} MB in total; budget "
            f"{profile.memory_budget_mb:,.0f} MB per instance: {fits}."
        )
    else:
        lines.append("Memory: not measured.")
    if plan.expected_p99_ms is not None:
        meets = _yes_no(plan.meets_p99(profile), "meets", "misses")
        lines.append(
            f"Expected p99: {plan.expected_p99_ms:,.0f} ms (your downstream latency plus the "
            f"measured overhead); target {profile.p99_target_ms:,.0f} ms: {meets}."
        )
    if plan.cold_start_ms is None:
        lines.append("Cold start: not measured.")
    elif profile.deployment is Deployment.SERVERLESS:
        fits = _yes_no(plan.fits_cold_start(profile), "fits", "exceeds")
        lines.append(
            f"Cold start: {plan.cold_start_ms:,.0f} ms to the first domain response; "
            f"serverless budget {profile.cold_start_budget_ms:,.0f} ms: {fits}."
        )
    else:
        lines.append(f"Cold start: {plan.cold_start_ms:,.0f} ms to the first domain response.")
    lines += [f"Note: {note}." for note in plan.notes]
    return lines


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
        parts += [Text(line) for line in _plan_lines(option.plan, profile)]
    else:
        parts.append(Text("No capacity plan: this framework was not measured."))
    if option.risks:
        parts.append(Text(f"Risks to watch with {FRAMEWORK_NAMES[option.framework]}:"))
        parts += [Text(line) for line in _risk_lines(option.risks)]
    return parts


def renderable(advice: Advice, notice: str) -> Group:
    """Everything ``advise`` prints, as one rich renderable.

    Args:
        advice: the computed advice.
        notice: the sentence saying which measurements were used.
    """
    top, runner_up = advice.options[0], advice.options[1]
    parts: list[RenderableType] = [
        Text(notice),
        Text(""),
        Text.assemble(("Recommendation: ", "bold"), (top.title, "bold green")),
        Text(f"Score {top.score:g}, ahead of {runner_up.title} ({runner_up.score:g})."),
    ]
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
    return Group(*parts)


def render_text(advice: Advice, notice: str, width: int = 100, color: bool = False) -> str:
    """The text output as a string (what the terminal shows, without colour by default).

    Args:
        advice: the computed advice.
        notice: the sentence saying which measurements were used.
        width: line width in characters (default 100).
        color: keep ANSI styles (default False: plain text).
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
    console.print(renderable(advice, notice))
    return buffer.getvalue()


_FRAMEWORK: Final = Field(json_schema_extra={"enum": list(FRAMEWORKS)})


@with_config(RECORD)
class PlanDocument(TypedDict):
    """The capacity plan of one option (``fwbench.advice.capacity.CapacityPlan``)."""

    basis: str
    """Which measurement the plan reads, in words."""
    plateau_rps: NonNegativeFloat
    """Best measured throughput of that sweep, requests per second."""
    measured_latency_ms: NonNegativeFloat
    """Downstream latency during that sweep (0 for CPU-bound work)."""
    slots: float | None
    """Concurrent requests one instance serves; null for an event loop (no fixed bound)."""
    slots_estimated: bool
    """Whether ``slots`` was inferred from the plateau by Little's law (the server's
    thread count was its unrecorded default)."""
    instance_rps: NonNegativeFloat
    """What one instance serves at the user's downstream latency."""
    limited_by: str
    """Why ``instance_rps`` is what it is, with the arithmetic."""
    headroom: Annotated[float, Field(gt=0, le=1)]
    """The share of an instance's capacity planned for (``HEADROOM``)."""
    workers_per_instance: NonNegativeInt
    """Workers per instance (fewer than measured when memory forces it)."""
    instances: PositiveInt | None
    """Instances for the peak; null when one worker does not fit the memory budget."""
    processes: PositiveInt | None
    """Worker processes across all instances."""
    instance_memory_mb: float | None
    """Memory of one instance; null when not measured."""
    total_memory_mb: float | None
    """Memory across all instances."""
    fits_memory: bool | None
    """Whether an instance fits the memory budget; null when memory was not measured."""
    expected_p99_ms: float | None
    """The user's downstream latency plus the measured p99 overhead at a similar
    utilisation; null when not measured."""
    meets_p99: bool | None
    """Whether ``expected_p99_ms`` meets the p99 target."""
    cold_start_ms: float | None
    """Measured median cold start."""
    fits_cold_start: bool | None
    """Whether it fits the cold-start budget."""
    notes: list[str]
    """Caveats the reader must see."""


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

    format: Literal["fwbench-advice/1"]
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


def _plan_json(plan: CapacityPlan | None, profile: Profile) -> PlanDocument | None:
    if plan is None:
        return None
    return {
        "basis": plan.basis,
        "plateau_rps": plan.plateau_rps,
        "measured_latency_ms": plan.measured_latency_ms,
        "slots": None if math.isinf(plan.slots) else plan.slots,
        "slots_estimated": plan.slots_estimated,
        "instance_rps": plan.instance_rps,
        "limited_by": plan.limited_by,
        "headroom": HEADROOM,
        "workers_per_instance": plan.workers,
        "instances": plan.instances,
        "processes": plan.processes,
        "instance_memory_mb": plan.instance_memory_mb,
        "total_memory_mb": plan.total_memory_mb,
        "fits_memory": plan.fits_memory(profile),
        "expected_p99_ms": plan.expected_p99_ms,
        "meets_p99": plan.meets_p99(profile),
        "cold_start_ms": plan.cold_start_ms,
        "fits_cold_start": plan.fits_cold_start(profile),
        "notes": list(plan.notes),
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


def to_json(advice: Advice, notice: str) -> dict[str, Any]:
    """The advice as a JSON-ready document (:class:`AdviceDocument`, format
    :data:`ADVICE_FORMAT`), validated like every document fwbench writes.

    Args:
        advice: the computed advice.
        notice: the sentence saying which measurements were used.
    """
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
                "capacity_plan": _plan_json(option.plan, advice.profile),
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
    }
    adapter_ = adapter(AdviceDocument)
    data: dict[str, Any] = adapter_.dump_python(
        adapter_.validate_python(document), mode="json", by_alias=True
    )
    return data
