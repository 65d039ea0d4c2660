"""Print experiments for a terminal with rich: the claim, the plan, the evidence tables,
and the verdict with the rule that produced it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from fwbench.experiments.model import Outcome, Plan, Table, Verdict
from fwbench.experiments.runner import ClaimsReport, ExperimentRecord

_STYLE = {
    Outcome.SUPPORTED: "bold green",
    Outcome.CONTRADICTED: "bold red",
    Outcome.DEPENDS: "bold yellow",
    Outcome.INCONCLUSIVE: "bold magenta",
}


def print_start(
    console: Console, title: str, claims: Sequence[str], setup: str, plan: Plan
) -> None:
    """Print what an experiment tests and what it is about to measure."""
    console.rule(f"[bold]{escape(title)}")
    for claim in claims:
        console.print(f'[italic]"{escape(claim)}"[/]')
    console.print(escape(setup))
    for step in plan.steps:
        console.print(f"  - {escape(step)}", style="dim")
    console.print(f"  budget {plan.budget_s:.0f} s", style="dim")


def print_record(console: Console, record: ExperimentRecord) -> None:
    """Print an experiment's evidence and verdicts (or why it failed)."""
    for table in record.tables:
        console.print(_rich_table(table))
    if record.error is not None:
        console.print(f"[bold red]failed:[/] {escape(record.error)}")
    for verdict in record.verdicts:
        print_verdict(console, verdict)
    over = " (over budget)" if round(record.duration_s) > round(record.plan.budget_s) else ""
    where = f", run whole on {record.ran_on}" if record.ran_on is not None else ""
    console.print(
        f"took {record.duration_s:.0f} s of a {record.plan.budget_s:.0f} s budget{over}{where}",
        style="dim",
    )


def print_verdict(console: Console, verdict: Verdict) -> None:
    """Print one verdict: the claim, the outcome and condition, the rule, the findings."""
    console.print(
        f'[bold]Verdict[/] on "{escape(verdict.claim)}": '
        f"[{_STYLE[verdict.outcome]}]{verdict.outcome.value}[/] - {escape(verdict.condition)}"
    )
    console.print(f"  rule: {escape(verdict.rule)}", style="dim")
    for finding in verdict.findings:
        console.print(f"  - {escape(finding)}")


def print_summary(console: Console, report: ClaimsReport) -> None:
    """Print one line per claim with its outcome, and the total time."""
    table = RichTable(title="Claims and verdicts", show_lines=False)
    table.add_column("experiment")
    table.add_column("claim")
    table.add_column("verdict")
    for record in report.experiments:
        if record.error is not None:
            table.add_row(record.name, escape(" / ".join(record.claims)), "[red]failed[/]")
        for verdict in record.verdicts:
            style = _STYLE[verdict.outcome]
            table.add_row(
                record.name, escape(verdict.claim), f"[{style}]{verdict.outcome.value}[/]"
            )
    console.print(table)
    console.print(f"total {report.duration_s:.0f} s", style="dim")


def _rich_table(table: Table) -> RichTable:
    rich_table = RichTable(title=escape(table.title), caption=escape(table.note) or None)
    for i, column in enumerate(table.columns):
        rich_table.add_column(escape(column), justify="left" if i == 0 else "right")
    for row in table.rows:
        rich_table.add_row(*(escape(cell) for cell in row))
    return rich_table
