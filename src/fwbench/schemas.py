"""The committed JSON Schemas of fwbench's documents, generated from the record classes.

The classes are the single source of every field, its type, its constraints and its
description (their docstrings); the schemas are written for readers outside Python.
``tests/test_schemas.py`` fails when a committed schema differs from the code.

Usage::

    python -m fwbench.schemas           # rewrite the committed schemas
    python -m fwbench.schemas --check   # exit 1, naming them, when any is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from fwbench.advice.render import AdviceDocument
from fwbench.experiments.runner import ClaimsReport
from fwbench.harness.documents import adapter
from fwbench.harness.fairness import Fairness
from fwbench.harness.results import Results
from fwbench.model import ModelDocument

_PACKAGE: Final = Path(__file__).resolve().parent

#: Each committed schema: its path in the package, the type it describes, and its title.
SCHEMAS: Final[dict[str, tuple[Any, str]]] = {
    "harness/results.schema.json": (Results, "fwbench results file"),
    "experiments/claims.schema.json": (
        ClaimsReport,
        "fwbench claims section (sections.claims of a results file)",
    ),
    "advice/advice.schema.json": (AdviceDocument, "fwbench advise --format json"),
    "harness/fairness.schema.json": (Fairness, "fwbench fairness file"),
    "model/model.schema.json": (
        ModelDocument,
        "fwbench model section (sections.model of a results file)",
    ),
}


def generate(kind: Any, title: str) -> str:
    """The JSON Schema (2020-12) of what fwbench writes for ``kind``, as committed."""
    schema = adapter(kind).json_schema(mode="serialization", by_alias=True)
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    document["title"] = title
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stale() -> list[Path]:
    """The committed schemas that differ from the code."""
    return [
        _PACKAGE / name
        for name, (kind, title) in SCHEMAS.items()
        if not (_PACKAGE / name).is_file()
        or (_PACKAGE / name).read_text(encoding="utf-8") != generate(kind, title)
    ]


def main(argv: list[str]) -> int:
    """Rewrite the schemas, or with ``--check`` report those out of date."""
    if argv == ["--check"]:
        outdated = stale()
        for path in outdated:
            print(f"{path} differs from the code; run `python -m fwbench.schemas`")
        return 1 if outdated else 0
    if argv:
        print("usage: python -m fwbench.schemas [--check]", file=sys.stderr)
        return 2
    for name, (kind, title) in SCHEMAS.items():
        (_PACKAGE / name).write_text(generate(kind, title), encoding="utf-8")
        print(f"wrote {_PACKAGE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
