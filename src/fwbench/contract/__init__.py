"""The contract every implementation serves: the OpenAPI document and its seed data.

This module is the single source of truth shared by the three implementations, the
contract tests and the harness. Implementations may import it (it imports no framework);
they import nothing from each other.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

#: Rows in the TechEmpower ``world`` table, ids 1..WORLD_ROWS.
WORLD_ROWS: Final = 10_000

#: ``randomnumber`` values are drawn from 1..MAX_RANDOM_NUMBER.
MAX_RANDOM_NUMBER: Final = 10_000

#: ``/queries`` and ``/updates`` clamp their ``queries`` parameter to this range.
MIN_QUERIES: Final = 1
MAX_QUERIES: Final = 500

#: The TechEmpower fortune set, as ``(id, message)``; the ``<script>`` row checks
#: escaping and the Japanese row checks UTF-8 handling.
FORTUNES: Final[tuple[tuple[int, str], ...]] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. — Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "フレームワークのベンチマーク"),
)

#: Added inside every ``/fortunes`` request (id 0) before sorting by message.
EXTRA_FORTUNE: Final = "Additional fortune added at request time."

#: A fraud score at or above this declines the transaction; below it approves.
DECLINE_THRESHOLD: Final = 0.8

#: Request bodies larger than this answer 413.
MAX_BODY_BYTES: Final = 64 * 1024

#: The ``detail`` of the 503 problem a request answers when the database cannot serve it
#: (unreachable, the connection lost, or its file read-only or full).
DATABASE_UNAVAILABLE: Final = "The database is unavailable; retry the request later."

#: Largest accepted ``amount``.
MAX_AMOUNT: Final = "1000000.00"

#: Environment variable that enables the ``/_lab/*`` experiment endpoints.
LAB_FLAG: Final = "FWBENCH_LAB"

#: Environment variable naming the cross-cutting extras a service leaves out, as a
#: comma-separated list of ``EXTRAS`` (or ``all``). Unset or empty: every extra is on, as
#: the contract requires. Only the fairness benchmark sets it, to measure what each extra
#: costs per framework on the TechEmpower endpoints; the contract suite never does.
EXTRAS_OFF_FLAG: Final = "FWBENCH_EXTRAS_OFF"

#: The contract's cross-cutting extras, each of which a service can leave out for the
#: fairness benchmark: the ``X-Request-ID`` header, Prometheus metrics, the audit log,
#: and the request-body size check.
EXTRAS: Final[tuple[str, ...]] = ("request-id", "metrics", "audit", "body-limit")


def extras_off(raw: str | None) -> frozenset[str]:
    """The extras named by ``$FWBENCH_EXTRAS_OFF`` (``raw``; None or empty: none).

    ``all`` names every extra. An unknown name raises ValueError naming the known ones, so a
    typo never silently measures the service with the extra still on.
    """
    names = {name.strip() for name in (raw or "").split(",") if name.strip()}
    if "all" in names:
        return frozenset(EXTRAS)
    unknown = sorted(names - set(EXTRAS))
    if unknown:
        raise ValueError(
            f"{EXTRAS_OFF_FLAG} names unknown extras {', '.join(unknown)}: "
            f"use any of {', '.join(EXTRAS)} or all"
        )
    return frozenset(names)


def clamp_queries(raw: str | None) -> int:
    """Parse the TechEmpower ``queries`` parameter: missing or not an integer counts as
    1, and the value is clamped to 1..500 (the published test rules)."""
    try:
        value = int(raw) if raw is not None else MIN_QUERIES
    except ValueError:
        value = MIN_QUERIES
    return max(MIN_QUERIES, min(MAX_QUERIES, value))


@cache
def openapi_document() -> dict[str, Any]:
    """The contract as a parsed OpenAPI 3.1 document."""
    text = resources.files(__package__).joinpath("openapi.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document
