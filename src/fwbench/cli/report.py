"""``fwbench report``: placeholder until its issue lands (its owner replaces this module)."""

from __future__ import annotations

import click


@click.command()
def report() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
