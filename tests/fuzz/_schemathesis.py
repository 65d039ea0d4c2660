"""Run schemathesis's command line against one running service and read its JSON report.

The command line rather than the pytest plugin, because it runs every phase (the
contract's examples, boundary and negative coverage, random fuzzing, and stateful
sequences through the links it infers from the responses) with one time or example
budget, and reports how many cases it generated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import fwbench.contract
from tests.fuzz.hooks import SECRETS_ENV

#: The contract, the schema every case is generated from.
CONTRACT: Final = Path(fwbench.contract.__file__).with_name("openapi.yaml")

#: The repository, from which ``tests.fuzz.hooks`` imports.
ROOT: Final = Path(__file__).resolve().parents[2]

#: Seconds one request may take: /io waits up to 10 s by design when a case reaches it
#: outside the generated phases (see hooks.IO_MS_CAP).
REQUEST_TIMEOUT_S: Final = 15


@dataclass(frozen=True)
class FuzzRun:
    """What one run found.

    Attributes:
        generated: test cases schemathesis generated and sent.
        failures: one line per distinct failure (code, title, operations).
        errors: one line per error (network errors, schema problems).
        output: the command's output, for the failure message.
    """

    generated: int
    failures: tuple[str, ...]
    errors: tuple[str, ...]
    output: str

    @property
    def clean(self) -> bool:
        """No failure and no error."""
        return not self.failures and not self.errors


def run_fuzz(
    base_url: str,
    *,
    api_token: str,
    admin_token: str,
    workdir: Path,
    max_examples: int | None = None,
    max_time_s: int | None = None,
    seed: int | None = None,
) -> FuzzRun:
    """Fuzz every operation of the contract against ``base_url``.

    Args:
        base_url: the service, e.g. ``http://127.0.0.1:18002``.
        api_token: its API_TOKEN (bearer of the ``apiToken`` scheme).
        admin_token: its ADMIN_TOKEN (bearer of the ``adminToken`` scheme).
        workdir: an existing directory for the configuration and the report.
        max_examples: cases per operation and phase; None: schemathesis's default.
        max_time_s: time budget of the whole run (fuzzing and stateful phases repeat
            until it is spent); None: no budget.
        seed: random seed, for a reproducible run.
    """
    config = workdir / "schemathesis.toml"
    # The tokens go in a file of our own, never on a command line others can read.
    config.write_text(
        f"request-timeout = {REQUEST_TIMEOUT_S}\n"
        f'[auth.openapi.apiToken]\nbearer = "{api_token}"\n'
        f'[auth.openapi.adminToken]\nbearer = "{admin_token}"\n'
        # /io's delay is capped by a hook in the generated phases; the coverage phase
        # would still try the 10,000 ms boundary, which proves nothing in 10 s.
        '[[operations]]\ninclude-path = "/io"\nphases.coverage.enabled = false\n',
        encoding="utf-8",
    )
    report = workdir / "report.json"
    argv = [
        str(Path(sys.executable).with_name("st")),
        "--config-file", str(config),
        "run", str(CONTRACT),
        "--url", base_url,
        # Every built-in check (the response-time limit is not among them: a loaded
        # shared machine is slow, not wrong) and the contract's own from hooks.py.
        "--checks", "all",
        "--workers", "1",
        "--report", "json",
        "--report-json-path", str(report),
        "--no-color",
    ]  # fmt: skip
    if max_examples is not None:
        argv += ["--max-examples", str(max_examples)]
    if max_time_s is not None:
        argv += ["--max-time", str(max_time_s)]
    if seed is not None:
        argv += ["--seed", str(seed)]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        # The hooks import from the repository; the run's own files stay in workdir.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        SECRETS_ENV: f"{api_token}\n{admin_token}",
    }
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=workdir)
    output = result.stdout + result.stderr
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {result.returncode}):\n{output}")
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    failures = tuple(
        f"{failure['code']} {failure['title']} x{failure['count']} in "
        f"{', '.join(failure['operations'])}"
        for failure in data["failures"]
    )
    errors = tuple(f"{error['title']} x{error['count']}" for error in data["errors"])
    return FuzzRun(data["test_cases"]["generated"], failures, errors, output)
