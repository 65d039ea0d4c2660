"""One JSON line per measured test, for the published reliability table
(docs/reliability.md): appended to the file an environment variable names, if set."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_line(variable: str, line: dict[str, Any]) -> None:
    """Append ``line`` to the file named by ``$variable``; nothing when it is unset."""
    path = os.environ.get(variable)
    if path:
        with Path(path).open("a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")
