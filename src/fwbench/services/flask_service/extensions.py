"""Flask extension objects, created unbound and attached by the application factory."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.orm import DeclarativeBase

# psycopg 3 under gunicorn's gevent worker needs no patch (psycogreen is for psycopg2 only):
# since psycopg 3.1.14, psycopg.waiting picks a cooperative wait function when it is first
# imported after gevent.monkey has patched `select`, which gunicorn's gevent worker does
# before it imports the application. https://github.com/psycopg/psycogreen#readme
# (It would block the hub only if the app were imported before patching, i.e. --preload.)


class Base(DeclarativeBase):
    """Declarative base of every model.

    Given to Flask-SQLAlchemy as ``model_class`` so ``db.Model`` shares its metadata; the
    models subclass ``Base`` itself because type checkers cannot see ``db.Model``.
    """


# expire_on_commit=False: views serialise the objects they just committed; expiring them
# would cost one SELECT per object to reload what is already in memory.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def init_database(app: Flask, database_url: str) -> None:
    """Bind ``db`` to ``app``.

    Args:
        app: The application to configure.
        database_url: SQLAlchemy URL from ``settings.database_url_from_env``.
    """
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options()
    db.init_app(app)
    if make_url(database_url).get_backend_name() == "sqlite":
        with app.app_context():
            event.listen(db.engine, "connect", _configure_sqlite)
            event.listen(db.engine, "handle_error", _discard_read_only_sqlite_connection)


def read_only() -> Connection:
    """Run the current request's statements on an AUTOCOMMIT connection, for views that
    only read, and return that connection (the session's own, ``Session.connection()``).

    Call it before the view's first statement. A read-only request in a transaction costs
    two more round trips (BEGIN, then the ROLLBACK Flask-SQLAlchemy's teardown sends), and
    on PostgreSQL psycopg 3's ``Connection.rollback()`` also deallocates the statements it
    prepared automatically (https://www.psycopg.org/psycopg3/docs/advanced/prepare.html),
    so a repeated query would be prepared again on every request. SQLAlchemy restores the
    default isolation level when the connection goes back to the pool
    (https://docs.sqlalchemy.org/en/20/orm/session_transaction.html#setting-isolation-for-individual-transactions).

    A view whose statements are Core selects runs them on the returned connection:
    ``Connection.execute`` skips the steps ``Session.execute`` adds to every statement (the
    scoped-session lookup, the ORM execution context), which /queries pays once per row.
    """
    return db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _engine_options() -> dict[str, Any]:
    # A fixed pool of 10 per worker process, no overflow
    # (https://docs.sqlalchemy.org/en/20/core/pooling.html#sqlalchemy.pool.QueuePool):
    # SQLAlchemy closes overflow connections when they are returned, so under sustained load
    # an overflow means a new PostgreSQL backend per request; threads or greenlets beyond ten
    # wait for a connection instead. Ten per worker keeps a several-worker server well under
    # PostgreSQL's default max_connections=100. pool_pre_ping stays off: it costs a round
    # trip per checkout and the database lives on the same host.
    return {"pool_size": 10, "max_overflow": 0}


def _configure_sqlite(dbapi_connection: Any, _connection_record: Any) -> None:
    # WAL lets readers run while one worker process writes
    # (https://www.sqlite.org/wal.html); the busy timeout makes a writer wait for the
    # file's write lock instead of failing at once with "database is locked" when several
    # worker processes insert together (https://www.sqlite.org/c3ref/busy_timeout.html).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _discard_read_only_sqlite_connection(context: ExceptionContext) -> None:
    # SQLite opens a file it cannot write (read-only, immutable) read-only, without an
    # error, and such a connection answers SQLITE_READONLY to every write for its whole
    # life, even once the file is writable again: pooled, it would fail the requests that
    # get it until the worker restarts. Marking the error a disconnect makes the pool
    # discard that connection, and only it (the others work again with the file), so the
    # next checkout opens a fresh one (docs.sqlalchemy.org/en/20/core/events.html,
    # DialectEvents.handle_error).
    code = getattr(context.original_exception, "sqlite_errorcode", None)
    if code is not None and code & 0xFF == sqlite3.SQLITE_READONLY:
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False
