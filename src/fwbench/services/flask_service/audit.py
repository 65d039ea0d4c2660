"""The audit trail: one ``audit_log`` row per request to ``/transactions*`` or
``/accounts*``, whatever its outcome (201, 401, 404, 422, 502, 500, ...)."""

from __future__ import annotations

from typing import Final

from flask import Flask, current_app, g, request
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from . import lifecycle
from .auth import request_actor
from .extensions import db
from .models import AuditLog, utc_now

AUDITED_PREFIXES: Final = ("/transactions", "/accounts")

#: The key in ``app.extensions`` that says the audit log is on.
_EXTENSION: Final = "fwbench-audit"


def init_app(app: Flask) -> None:
    """Audit the requests of ``app``.

    The row is written in ``teardown_request``, which Flask runs exactly once per request
    even when an exception escaped every handler (``after_request`` functions are skipped
    when an earlier one fails), and after the response status is known.
    """
    app.extensions[_EXTENSION] = True
    app.teardown_request(_write_entry)


def add_to_session(status: int) -> None:
    """Add the current request's audit row, answered ``status``, to the session's open
    transaction, so that it commits or fails with the request's own writes; the teardown
    then writes none. A write that commits without its audit row (the database dying
    between two commits) is then impossible. Nothing happens when the audit log is off.

    If the commit then fails in a way that certainly wrote nothing (an integrity error,
    answered as something else), call :func:`release` so that the teardown audits the
    request after all.
    """
    if _EXTENSION in current_app.extensions:
        db.session.execute(insert(AuditLog), [_entry(status)])
        g.audit_in_transaction = True


def release() -> None:
    """What :func:`add_to_session` added was rolled back (or never added): the teardown
    writes the row."""
    g.audit_in_transaction = False


def _entry(status: int) -> dict[str, object]:
    return {
        "request_id": lifecycle.request_id(),
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": lifecycle.elapsed_seconds() * 1000,
        "actor": request_actor(),
        "created_at": utc_now(),
    }


def _write_entry(_exc: BaseException | None) -> None:
    if not request.path.startswith(AUDITED_PREFIXES) or g.get("audit_in_transaction"):
        return
    entry = _entry(lifecycle.response_status())
    try:
        # Its own short transaction: whatever the request left uncommitted (a failed
        # request) is abandoned first, so the row is written even then, and on SQLite an
        # uncommitted write cannot hold the file's lock against it.
        db.session.rollback()
        db.session.execute(insert(AuditLog), [entry])
        db.session.commit()
    except SQLAlchemyError:
        # The response is already decided; a failed audit write must not change it.
        db.session.rollback()
        current_app.logger.exception("could not write the audit row of %s", entry["request_id"])
