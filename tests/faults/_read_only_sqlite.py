"""Open a connection through a service's SQLAlchemy engine while its SQLite file is
immutable, try to write with it, make the file writable again, and print whether the
engine's next connection writes (``written``) or not (``refused``).

Run as ``python -m tests.faults._read_only_sqlite FRAMEWORK DATABASE`` (FRAMEWORK: flask or
fastapi): a process of its own, because the two services register their Prometheus metrics
under the same names in prometheus_client's default registry, so one process may import
only one of them. Exit status 3 when the file cannot be made immutable here (``chattr``).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

CREATE = text("CREATE TABLE t (x INTEGER)")
INSERT = text("INSERT INTO t VALUES (1)")


def _chattr(flag: str, database: Path) -> None:
    # Closing the engine's last connection removed the WAL, so the file is all there is.
    done = subprocess.run(["chattr", flag, str(database)], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"cannot make a file immutable here: {done.stderr.strip()}", file=sys.stderr)
        sys.exit(3)


def flask(database: Path) -> bool:
    from flask import Flask

    from fwbench.services.flask_service import extensions

    app = Flask(__name__)
    extensions.init_database(app, f"sqlite:///{database}")
    with app.app_context():
        engine = extensions.db.engine
        with engine.begin() as connection:
            connection.execute(CREATE)
        engine.dispose()  # the next connection is opened while the file is immutable
        _chattr("+i", database)
        try:
            with engine.begin() as connection:
                connection.execute(INSERT)
            raise AssertionError("an immutable SQLite file took a write")
        except OperationalError:
            pass
        finally:
            _chattr("-i", database)
        try:
            with engine.begin() as connection:
                connection.execute(INSERT)
        except OperationalError:
            return False
        return True


async def fastapi(database: Path) -> bool:
    from fwbench.services.fastapi_service import database as service_database

    engine = service_database.create_engine(f"sqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.execute(CREATE)
        await engine.dispose()
        _chattr("+i", database)
        try:
            async with engine.begin() as connection:
                await connection.execute(INSERT)
            raise AssertionError("an immutable SQLite file took a write")
        except OperationalError:
            pass
        finally:
            _chattr("-i", database)
        try:
            async with engine.begin() as connection:
                await connection.execute(INSERT)
        except OperationalError:
            return False
        return True
    finally:
        await engine.dispose()


if __name__ == "__main__":
    framework, path = sys.argv[1], Path(sys.argv[2])
    written = flask(path) if framework == "flask" else asyncio.run(fastapi(path))
    print("written" if written else "refused")
