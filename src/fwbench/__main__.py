from __future__ import annotations

from fwbench.cli import main

main()
