"""The ``/_lab/*`` experiment endpoints (issue 4's claims), mounted only when FWBENCH_LAB=1.
Plain Django views: no auth, no audit, not in /openapi.json."""
