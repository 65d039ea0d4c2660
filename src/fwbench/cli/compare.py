"""``fwbench compare A.json B.json``: ratios of two runs with a significance verdict."""

from __future__ import annotations

from pathlib import Path

import click

from fwbench.harness.compare import compare as compare_results
from fwbench.harness.display import make_console, print_comparison
from fwbench.harness.errors import FwbenchError
from fwbench.harness.results import Results


@click.command()
@click.argument("baseline", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("candidate", type=click.Path(dir_okay=False, path_type=Path))
def compare(baseline: Path, candidate: Path) -> None:
    """Compare CANDIDATE with BASELINE (two `fwbench run` results files): B/A ratio of
    every figure both measured, with a Mann-Whitney U verdict on the raw repeats.
    Runs measured under different conditions (machine, CPUs, duration, connections ...)
    are refused."""
    console = make_console()
    try:
        comparison = compare_results(Results.read(baseline), Results.read(candidate))
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    print_comparison(console, comparison, baseline.name, candidate.name)
