"""The async engine, the session factory and the per-request session dependency."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: How long a SQLite writer waits for another process's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5_000

#: Async drivers for the schemes ``DATABASE_URL`` accepts.
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class UnsupportedDatabaseError(ValueError):
    """``DATABASE_URL`` names a scheme this service has no driver for."""


def async_url(database_url: str) -> URL:
    """Map ``sqlite:///path`` to aiosqlite and ``postgresql://...`` to asyncpg.

    A URL that already names a driver (``postgresql+asyncpg://``) is kept as it is."""
    url = make_url(database_url)
    if url.drivername in _ASYNC_DRIVERS.values():
        return url
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise UnsupportedDatabaseError(
            f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url.drivername}://"
        )
    return url.set(drivername=driver)


def create_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    """An engine for ``database_url`` with a fixed pool of ``pool_size`` connections.

    ``max_overflow=0``: SQLAlchemy closes overflow connections as soon as they are returned
    (docs.sqlalchemy.org/en/20/core/pooling.html, "pool_size" / "max_overflow"), so under a
    sustained benchmark load they would be reconnected over and over; a fixed pool is opened
    once and reused. 10 per worker keeps a 2-worker service far below PostgreSQL's default
    ``max_connections`` of 100, which three services and the harness share."""
    url = async_url(database_url)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "handle_error", _discard_read_only_sqlite_connection)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer from several worker processes share the file, and
    a busy timeout makes a writer wait for the lock instead of failing at once
    (sqlite.org/wal.html; synchronous=NORMAL is the setting recommended there for WAL)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _discard_read_only_sqlite_connection(context: ExceptionContext) -> None:
    """Make the pool discard a connection SQLite opened read-only.

    SQLite opens a file it cannot write (read-only, immutable) read-only, without an error,
    and such a connection answers SQLITE_READONLY to every write for its whole life, even
    once the file is writable again: pooled, it would fail requests until the worker
    restarts. Marking the error a disconnect makes the pool discard that connection, and
    only it (docs.sqlalchemy.org/en/20/core/events.html, ``DialectEvents.handle_error``)."""
    code = getattr(context.original_exception, "sqlite_errorcode", None)
    if code is not None and code & 0xFF == sqlite3.SQLITE_READONLY:
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit: with asyncio an expired attribute
    cannot be lazily refreshed, so SQLAlchemy's asyncio guide recommends
    ``expire_on_commit=False``."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, from the factory the lifespan put in the request state."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    async with sessionmaker() as session:
        yield session


#: The request's database session. It is closed, and its connection back in the pool, as
#: soon as the route returns, before the response is sent: the audit middleware then writes
#: its row with a connection of its own, and holding both at once would let concurrent
#: requests exhaust the pool waiting for each other.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

#: A session that stays open until a streaming response has been sent.
StreamingSessionDep = Annotated[AsyncSession, Depends(get_session, scope="request")]
