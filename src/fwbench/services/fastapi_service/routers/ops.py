"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import metrics
from ..database import SessionDep
from ..problems import problem_responses
from ..schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz", summary="Liveness.")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness; 503 when the database does not answer.",
    responses=problem_responses(503),
)
async def readyz(session: SessionDep) -> Health:
    try:
        await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        raise HTTPException(
            HTTPStatus.SERVICE_UNAVAILABLE,
            f"The database does not answer ({type(exc).__name__}); check DATABASE_URL.",
        ) from None
    return Health(status="ready")


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    operation_id="metrics",
    summary="Prometheus text exposition, aggregated over all worker processes.",
)
async def prometheus_metrics() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
