"""``fwbench report``: a results file (or a ``fwbench fairness`` document) as one
self-contained HTML page (inline SVG charts, no script, no network) or as Markdown for a
pull request or a wiki.

Public API: :func:`write_report` (what ``fwbench report`` and the ``--report`` flags of
other commands call), :func:`render_html`, :func:`render_markdown`,
:func:`render_fairness_html`, :func:`render_fairness_markdown`.
"""

from __future__ import annotations

from fwbench.report.render import (
    render_fairness_html,
    render_fairness_markdown,
    render_html,
    render_markdown,
    write_report,
)

__all__ = [
    "render_fairness_html",
    "render_fairness_markdown",
    "render_html",
    "render_markdown",
    "write_report",
]
