"""Create the schema and seed ``world`` and ``fortune`` when they are empty (idempotent).

Run as ``python -m fwbench.services.fastapi_service.bootstrap`` with ``DATABASE_URL`` set;
exits 1 with one line on stderr when the database cannot be reached."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from random import randint

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from fwbench.contract import FORTUNES, MAX_RANDOM_NUMBER, WORLD_ROWS

from .database import UnsupportedDatabaseError, create_engine, create_sessionmaker
from .models import Base, Fortune, World
from .settings import DatabaseSettings


async def bootstrap(database_url: str) -> None:
    """Create every table of :mod:`.models` that is missing, then seed the TechEmpower
    tables if they are empty."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with create_sessionmaker(engine)() as session:
            if not await session.scalar(select(func.count()).select_from(World)):
                await session.execute(
                    insert(World),
                    [
                        {"id": i, "randomnumber": randint(1, MAX_RANDOM_NUMBER)}
                        for i in range(1, WORLD_ROWS + 1)
                    ],
                )
            if not await session.scalar(select(func.count()).select_from(Fortune)):
                await session.execute(
                    insert(Fortune), [{"id": i, "message": m} for i, m in FORTUNES]
                )
            await session.commit()
    finally:
        await engine.dispose()


def main() -> int:
    """Bootstrap the database named by ``DATABASE_URL``; the process exit status."""
    database_url = DatabaseSettings().database_url
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or ".").parent.is_dir():
        print(
            f"fastapi_service bootstrap: the directory of the SQLite file {url.database} "
            "does not exist; create it or fix DATABASE_URL.",
            file=sys.stderr,
        )
        return 1
    try:
        asyncio.run(bootstrap(database_url))
    except UnsupportedDatabaseError as exc:
        print(f"fastapi_service bootstrap: {exc}.", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        shown = url.render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(
            f"fastapi_service bootstrap: cannot reach the database {shown} ({reason}); "
            "start it or fix DATABASE_URL.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
