"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import metrics, openapi
from ..extensions import db
from ..problems import problem
from ..schemas import Health

bp = APIBlueprint("ops", __name__, tag="Operations")


@bp.get("/healthz")
@bp.output(Health, description="The process is up.")
@bp.doc(operation_id="healthz")
def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.output(Health, description="The database answers.")
@bp.doc(operation_id="readyz", responses=openapi.errors(503))
def readyz() -> dict[str, str] | Response:
    """Readiness; 503 when the database does not answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        current_app.logger.warning("readiness check failed: %s", exc)
        return problem(503, "The database does not answer.")
    return {"status": "ready"}


@bp.get("/metrics")
@bp.doc(
    operation_id="metrics",
    responses=openapi.ok("Metrics.", {"type": "string"}, "text/plain"),
)
def prometheus_metrics() -> Response:
    """Prometheus text exposition, aggregated over all worker processes."""
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
