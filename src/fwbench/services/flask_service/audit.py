"""The audit trail: one ``audit_log`` row per request to ``/transactions*`` or
``/accounts*``, whatever its outcome (201, 401, 404, 422, 502, 500, ...)."""

from __future__ import annotations

from typing import Final

from flask import Flask, current_app, request
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from . import lifecycle
from .auth import request_actor
from .extensions import db
from .models import AuditLog, utc_now

AUDITED_PREFIXES: Final = ("/transactions", "/accounts")


def init_app(app: Flask) -> None:
    """Audit the requests of ``app``.

    The row is written in ``teardown_request``, which Flask runs exactly once per request
    even when an exception escaped every handler (``after_request`` functions are skipped
    when an earlier one fails), and after the response status is known.
    """
    app.teardown_request(_write_entry)


def _write_entry(_exc: BaseException | None) -> None:
    if not request.path.startswith(AUDITED_PREFIXES):
        return
    entry = {
        "request_id": lifecycle.request_id(),
        "method": request.method,
        "path": request.path,
        "status": lifecycle.response_status(),
        "duration_ms": lifecycle.elapsed_seconds() * 1000,
        "actor": request_actor(),
        "created_at": utc_now(),
    }
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
