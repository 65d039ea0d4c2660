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
from fwbench.advice.engine import Advice
from fwbench.advice.engine import advise as compute_advice
from fwbench.advice.profile import parse_answer
from fwbench.advice.sources import find_model
from fwbench.advice.verify import SECONDS, Verification, verify
from fwbench.advice.verify_hosts import verify_on_hosts
from fwbench.cli._options import hosts_option
from fwbench.harness.errors import FwbenchError
from fwbench.harness.hosts import read_hosts
from fwbench.harness.process import exit_on_sigterm
from fwbench.model import ModelDocument


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
        # "auto" is how the optional answer's default is offered: not given.
        raw: Any = None if question.default is None and text.strip() == "auto" else text
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
    "--model",
    "model_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The performance model file (`fwbench model`) the configurations are searched "
    "with [default: the newest results/fwbench-model-*.json, else the reference model "
    "shipped with fwbench].",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Start one instance of the recommended configuration here, drive it at the "
    "planned rate per instance with open-loop (constant-rate) load and say whether the "
    "plan held.",
)
@click.option(
    "--verify-seconds",
    type=click.IntRange(min=SECONDS),
    default=SECONDS,
    show_default=True,
    help="Seconds of load for --verify.",
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
@hosts_option(
    "with --verify, the instance runs on the first service host and the paced load comes "
    "from every load host at once, over SSH."
)
@_with_questions
def advise(
    profile_path: Path | None,
    results_path: Path | None,
    model_path: Path | None,
    verify: bool,
    verify_seconds: int,
    output_format: str,
    interactive: bool | None,
    hosts_file: Path | None,
    **answers: Any,
) -> None:
    """Recommend a framework and server configuration for your situation.

    Applies the article's decision tree, checklist and case study to your answers,
    searches every configuration the performance model knows (servers, workers, threads,
    FastAPI's async or def routes) for the one that carries your peak on the fewest
    cores within your budgets, shows the arithmetic (instances, memory, p50/p99, cold
    start, with the model's error) and checks the article's numeric claims at your own
    latency; --verify measures the plan here (or on the hosts of --hosts).
    """
    if hosts_file is not None and not verify:
        raise click.ClickException(
            "--hosts says where --verify measures, and --verify is not given; add --verify "
            "or leave --hosts out"
        )
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
        model = find_model(model_path)
    except (ProfileError, FwbenchError) as error:
        raise click.ClickException(str(error)) from None
    advice = compute_advice(profile, source.evidence, model.document)
    checked = _verify(advice, model.document, verify_seconds, hosts_file) if verify else None
    if output_format == "json":
        document = to_json(advice, source.notice, model.notice, checked)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        notice = f"{source.notice} {model.notice}"
        Console(highlight=False).print(renderable(advice, notice, checked))


def _verify(
    advice: Advice, model: ModelDocument | None, seconds: int, hosts_file: Path | None
) -> Verification:
    """Measure the recommendation's plan here, or on the hosts of ``hosts_file`` (progress
    on stderr)."""
    plan = advice.recommendation.plan
    if plan is None or model is None:
        raise click.ClickException(
            "--verify needs a capacity plan, and this advice has none (no performance "
            "model); run `fwbench model` or pass --model FILE"
        )
    pair = model.pair(plan.setup.pair)
    assert pair is not None  # the plan was searched on this model
    exit_on_sigterm()

    def say(line: str) -> None:
        click.secho(f"  {line}", fg="bright_black", err=True)

    try:
        if hosts_file is not None:
            hosts = read_hosts(hosts_file)
            return verify_on_hosts(plan, pair, advice.profile, hosts, seconds=seconds, say=say)
        return verify(plan, pair, advice.profile, seconds=seconds, say=say)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
