"""Create the schema and seed the TechEmpower tables when they are empty (idempotent).

Usage: ``python -m fwbench.services.flask_service.bootstrap`` with ``DATABASE_URL`` set
(default: ``sqlite:///./fwbench-flask.sqlite3``). Exits 1 with one line on stderr when the
database is unreachable or ``DATABASE_URL`` is malformed.
"""

from __future__ import annotations

import random
import sys

from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from fwbench.contract import FORTUNES, MAX_RANDOM_NUMBER, WORLD_ROWS

from . import models
from .extensions import db, init_database
from .settings import ConfigError, database_url_from_env


def bootstrap(database_url: str) -> None:
    """Create missing tables and seed ``world`` and ``fortune`` if they are empty.

    Args:
        database_url: SQLAlchemy URL, as returned by ``settings.database_url_from_env``.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database is unreachable or refuses the DDL.
    """
    app = Flask(__name__)
    init_database(app, database_url)
    with app.app_context():
        db.create_all()
        if not db.session.scalar(select(func.count()).select_from(models.World)):
            db.session.execute(
                insert(models.World),
                [
                    {"id": i, "randomnumber": random.randint(1, MAX_RANDOM_NUMBER)}
                    for i in range(1, WORLD_ROWS + 1)
                ],
            )
        if not db.session.scalar(select(func.count()).select_from(models.Fortune)):
            db.session.execute(
                insert(models.Fortune), [{"id": i, "message": m} for i, m in FORTUNES]
            )
        db.session.commit()
        db.engine.dispose()


def main() -> int:
    """Run the bootstrap from the environment; the process exit status."""
    try:
        database_url = database_url_from_env()
    except ConfigError as exc:
        print(f"fwbench flask bootstrap: {exc}", file=sys.stderr)
        return 1
    try:
        bootstrap(database_url)
    except SQLAlchemyError as exc:
        where = make_url(database_url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(
            f"fwbench flask bootstrap: cannot prepare the database {where}: {reason}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
