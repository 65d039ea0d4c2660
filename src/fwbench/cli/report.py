"""``fwbench report``: write a results file as a self-contained HTML page and/or
Markdown."""

from __future__ import annotations

from pathlib import Path

import click

from fwbench.advice.sources import RESULTS_DIR
from fwbench.harness.errors import FwbenchError
from fwbench.report import write_report


def _newest_results() -> Path:
    candidates = sorted(RESULTS_DIR.glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise click.ClickException(
            f"no results file given and none in {RESULTS_DIR}/: run `fwbench run` first, or "
            "pass the results file to report on."
        )
    return candidates[-1]


@click.command()
@click.argument(
    "results", required=False, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the HTML report here [default: report.html when --markdown is not given].",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a Markdown report here (tables, no charts), for a pull request or a wiki.",
)
def report(results: Path | None, html_path: Path | None, markdown_path: Path | None) -> None:
    """Write the report of RESULTS (default: the newest file in results/).

    The HTML page is a single self-contained file that works offline: the article's table
    beside the measured one, throughput vs concurrency, latency percentiles, memory, cold
    start, the claims with their verdicts, the machine and the commands to reproduce. Given
    a `fwbench fairness` document instead, it shows what each of the contract's extras
    costs each framework.
    """
    source = results or _newest_results()
    if html_path is None and markdown_path is None:
        html_path = Path("report.html")
    try:
        written = write_report(source, html=html_path, markdown=markdown_path)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(
            f"cannot write the report: {error.strerror} ({error.filename}); choose another path."
        ) from None
    for path in written:
        click.echo(f"Report written to {path}")
