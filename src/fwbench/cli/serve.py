"""``fwbench serve``: placeholder until the serving issue lands."""

from __future__ import annotations

import click


@click.command()
def serve() -> None:
    """Run a service in the foreground under a production server."""
    raise click.ClickException("not implemented yet")
