"""The ``fwbench`` command line: a thin layer that parses options and forwards them to
the library (``fwbench.harness``, ``fwbench.experiments``, ``fwbench.advice``,
``fwbench.report``). One module per command."""

from __future__ import annotations

import click

from fwbench import __version__
from fwbench.cli.advise import advise
from fwbench.cli.calibrate import calibrate
from fwbench.cli.claims import claims
from fwbench.cli.compare import compare
from fwbench.cli.fairness import fairness
from fwbench.cli.model import model
from fwbench.cli.prepare import prepare
from fwbench.cli.report import report
from fwbench.cli.run import run
from fwbench.cli.serve import serve
from fwbench.harness.hostprobe import probe


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="fwbench")
def cli() -> None:
    """Flask vs FastAPI vs Django for microservices, measured on your own machine."""


for command in (
    run,
    fairness,
    serve,
    calibrate,
    prepare,
    compare,
    claims,
    model,
    advise,
    report,
    probe,
):
    cli.add_command(command)


def main() -> None:
    """Console entry point."""
    cli()
