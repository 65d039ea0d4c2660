"""Render a results file through the Jinja2 templates in ``templates/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from fwbench import __version__
from fwbench.experiments.model import Table
from fwbench.harness.documents import read_json
from fwbench.harness.fairness import Fairness
from fwbench.harness.results import Results, ResultsFormatError
from fwbench.report.model import FairnessReport, Report, build_fairness_report, build_report

_SYMBOLS = {"supported": "\u2713", "contradicted": "\u2717", "depends on configuration": "\u25d0"}
_CLASSES = {"supported": "supported", "contradicted": "contradicted"}


def _num(value: float | None) -> str:
    """Thousands separators, no decimals; an en dash for a figure not measured."""
    return "\u2013" if value is None else f"{value:,.0f}"


def _ratio(measured: float | None, article: float) -> str:
    return "\u2013" if measured is None else f"{measured / article:.2f}x"


def _md(text: str) -> str:
    """Escape what would break a Markdown table cell or start markup."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _md_table(table: Table) -> str:
    """A Markdown table: bold title, header, right-aligned number columns."""
    lines = [
        f"**{_md(table.title)}**",
        "",
        "| " + " | ".join(_md(c) for c in table.columns) + " |",
        "| --- |" + " ---: |" * (len(table.columns) - 1),
    ]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in table.rows]
    if table.note:
        lines += ["", _md(table.note)]
    return "\n".join(lines)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("fwbench.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["ratio"] = _ratio
    env.filters["md"] = _md
    env.filters["md_table"] = _md_table
    env.filters["outcome_symbol"] = lambda outcome: _SYMBOLS.get(outcome, "")
    env.filters["outcome_class"] = lambda outcome: _CLASSES.get(outcome, "depends")
    return env


def _machine_line(report: Report | FairnessReport) -> str:
    facts = dict(report.machine)
    return f"{facts['CPU']}, {facts['CPUs']} CPUs, {facts['Memory']}, {facts['Python']}"


def _render(template: str, report: Report | FairnessReport) -> str:
    return (
        _environment()
        .get_template(template)
        .render(report=report, version=__version__, machine_line=_machine_line(report))
    )


def render_html(results: Results, source: Path) -> str:
    """The self-contained HTML report.

    Args:
        results: the parsed results file.
        source: the file it was read from (named in the page and its commands).
    """
    return _render("report.html.j2", build_report(results, source))


def render_markdown(results: Results, source: Path) -> str:
    """The Markdown report (tables, no charts), for pull requests and wikis.

    Args:
        results: the parsed results file.
        source: the file it was read from.
    """
    return _render("report.md.j2", build_report(results, source))


def render_fairness_html(document: Fairness, source: Path) -> str:
    """The self-contained HTML report of a ``fwbench fairness`` document.

    Args:
        document: the parsed fairness document.
        source: the file it was read from (named in the page).
    """
    return _render("fairness.html.j2", build_fairness_report(document, source))


def render_fairness_markdown(document: Fairness, source: Path) -> str:
    """The Markdown report of a ``fwbench fairness`` document.

    Args:
        document: the parsed fairness document.
        source: the file it was read from.
    """
    return _render("fairness.md.j2", build_fairness_report(document, source))


def _renderers(path: Path) -> tuple[Callable[[], str], Callable[[], str]]:
    """The HTML and Markdown renderings of the document in ``path``: a results file or a
    fairness document, told apart by their fields."""
    data = read_json(path, ResultsFormatError, "a file written by `fwbench run` or `fairness`")
    if Fairness.describes(data):
        document = Fairness.parse(data, path.name)
        return (
            lambda: render_fairness_html(document, path),
            lambda: render_fairness_markdown(document, path),
        )
    results = Results.parse(data, path.name)
    return lambda: render_html(results, path), lambda: render_markdown(results, path)


def write_report(
    results_path: Path, html: Path | None = None, markdown: Path | None = None
) -> list[Path]:
    """Write the report of a results file or of a ``fwbench fairness`` document; what
    ``fwbench report`` and the ``--report`` flags of ``run``, ``claims`` and ``fairness``
    call.

    Args:
        results_path: the results file (or fairness document) to report on.
        html: where to write the HTML page (default None: no HTML).
        markdown: where to write the Markdown report (default None: no Markdown).

    Returns:
        The files written, HTML first.

    Raises:
        ResultsFormatError: ``results_path`` is neither a readable results file nor a
            fairness document.
    """
    html_of, markdown_of = _renderers(results_path)
    written = []
    for target, render in ((html, html_of), (markdown, markdown_of)):
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(), encoding="utf-8")
            written.append(target)
    return written
