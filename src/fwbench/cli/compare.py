"""``fwbench compare``: placeholder until its issue lands (its owner replaces this module)."""

from __future__ import annotations

import click


@click.command()
def compare() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
