"""Which database each service uses, and making sure it exists.

Every service gets its own database, so the three schemas (owned by three different
tools: SQLAlchemy, Flask-SQLAlchemy, Django migrations) never collide:

* no URL given: a SQLite file per service in the state directory (the embedded default);
* ``sqlite:///path/NAME.sqlite3``: ``NAME_<service>.sqlite3`` next to it;
* ``postgresql://user@host:port/NAME``: database ``NAME_<service>`` on that server,
  created when missing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql

from fwbench.harness.errors import DatabaseUnreachable, InvalidOption

#: Seconds to wait for a PostgreSQL server before calling it unreachable.
CONNECT_TIMEOUT = 5

_POSTGRES_SCHEMES = ("postgresql", "postgres")


def default_state_dir() -> Path:
    """Where fwbench keeps its files: ``$XDG_CACHE_HOME/fwbench``, else ``~/.cache/fwbench``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "fwbench"


def database_url_for(service: str, base_url: str | None, state_dir: Path | None = None) -> str:
    """The ``DATABASE_URL`` of ``service``, creating its PostgreSQL database when missing.

    Args:
        service: the service the database belongs to, e.g. ``"flask"``.
        base_url: None for the embedded default (SQLite), a ``sqlite:///`` URL, or a
            ``postgresql://`` URL whose database name becomes ``NAME_<service>``
            (``fwbench`` when the URL names none).
        state_dir: directory of the default SQLite files; None means
            :func:`default_state_dir`. Created when missing.

    Raises:
        DatabaseUnreachable: the PostgreSQL server cannot be reached or refuses us.
        InvalidOption: a URL scheme other than sqlite or postgresql.
    """
    if base_url is None:
        directory = state_dir if state_dir is not None else default_state_dir()
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory.resolve() / f'{service}.sqlite3'}"
    parts = urlsplit(base_url)
    if parts.scheme == "sqlite":
        path = Path(parts.path.removeprefix("/"))
        if not path.name:
            raise InvalidOption(
                f"the SQLite URL {base_url!r} names no file",
                "pass a URL like sqlite:///path/to/fwbench.sqlite3",
            )
        return f"sqlite:///{path.with_name(f'{path.stem}_{service}{path.suffix}')}"
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise InvalidOption(
            f"unsupported database URL scheme {parts.scheme!r}",
            "pass a postgresql://user@host:port/name URL, or leave --database out for SQLite",
        )
    name = f"{parts.path.strip('/') or 'fwbench'}_{service}"
    _create_database(base_url, name)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _create_database(base_url: str, name: str) -> None:
    """Create database ``name`` on the server of ``base_url`` unless it exists."""
    parts = urlsplit(base_url)
    # Connect to the maintenance database: the one the URL names may not exist yet.
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                # Another fwbench process may create it between the check and here.
                with contextlib.suppress(errors.DuplicateDatabase):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        raise DatabaseUnreachable(
            f"cannot reach PostgreSQL at {where}: {_reason(error)}",
            "start it or pass a reachable --database URL",
        ) from None


def _reason(error: psycopg.OperationalError) -> str:
    """The useful part of a libpq error: its first line, after the last "failed: "
    (e.g. ``Connection refused``, ``FATAL: role "x" does not exist``)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return " ".join(first.split("failed: ")[-1].split())


def redacted(url: str) -> str:
    """``url`` without its password, as results files and
    messages show database URLs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    credentials, _, location = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{location}"
