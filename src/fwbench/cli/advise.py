"""``fwbench advise``: a ranked recommendation with a capacity plan, from the user's
answers (prompts, flags or a profile file) and the newest measurements."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from fwbench.advice import (
    QUESTIONS,
    Profile,
    ProfileError,
    Question,
    find_source,
    load_profile,
    profile_from_mapping,
    renderable,
    to_json,
)
from fwbench.advice.engine import advise as compute_advice
from fwbench.advice.profile import parse_answer
from fwbench.harness.errors import FwbenchError


def _flag(question: Question) -> str:
    return "--" + question.name.replace("_", "-")


def _question_option(question: Question) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option per question; every default is None so that "not given" is visible
    and the profile file or the Profile default applies."""
    help_text = f"{question.prompt} {question.help} [default: {question.default_text()}]"
    flag = _flag(question)
    if question.kind == "bool":
        return click.option(f"{flag}/--no-{flag[2:]}", question.name, default=None, help=help_text)
    kinds: dict[str, Any] = {
        "choice": click.Choice(question.choices),
        "set": str,
        "int": click.IntRange(min=1),
        "float": click.FloatRange(min=0),
    }
    return click.option(flag, question.name, type=kinds[question.kind], help=help_text)


def _ask(question: Question) -> Any:
    """Prompt for one answer on stderr (stdout stays clean for ``--format json``),
    re-asking until it parses."""

    def parse(text: str) -> Any:
        raw: Any = "" if question.kind == "set" and text.strip() == "none" else text
        try:
            return parse_answer(question.name, raw)
        except ProfileError as error:
            raise click.UsageError(str(error)) from None

    click.secho(question.help, fg="bright_black", err=True)
    choices = f" ({'/'.join(question.choices)})" if question.choices else ""
    return click.prompt(
        f"{question.prompt}{choices}",
        default=question.default_text(),
        value_proc=parse,
        err=True,
    )


def _with_questions(command: Callable[..., Any]) -> Callable[..., Any]:
    for question in reversed(QUESTIONS):
        command = _question_option(question)(command)
    return command


@click.command()
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A profile file (.toml, .yaml or .yml) of answers; flags override it.",
)
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The results file to use [default: the newest in results/, else the reference "
    "results shipped with fwbench].",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for a terminal, json for tools.",
)
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="Ask every question not given by a flag [default: when stdin is a terminal and "
    "neither --profile nor an answer flag is given].",
)
@_with_questions
def advise(
    profile_path: Path | None,
    results_path: Path | None,
    output_format: str,
    interactive: bool | None,
    **answers: Any,
) -> None:
    """Recommend a framework and server configuration for your situation.

    Applies the article's decision tree, checklist and case study to your answers, checks
    its numeric claims against measurements, and plans capacity (instances, memory, p99,
    cold start) from the measured throughput plateau by Little's law.
    """
    given = {name: value for name, value in answers.items() if value is not None}
    if interactive is None:
        interactive = sys.stdin.isatty() and profile_path is None and not given
    try:
        base = load_profile(profile_path) if profile_path else Profile()
        if interactive:
            for question in QUESTIONS:
                if question.name not in given:
                    given[question.name] = _ask(question)
        profile = profile_from_mapping(given, base)
        source = find_source(results_path)
    except (ProfileError, FwbenchError) as error:
        raise click.ClickException(str(error)) from None
    advice = compute_advice(profile, source.evidence)
    if output_format == "json":
        click.echo(json.dumps(to_json(advice, source.notice), indent=2, ensure_ascii=False))
    else:
        Console(highlight=False).print(renderable(advice, source.notice))
