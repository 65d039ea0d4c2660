"""``/audit-log``: the audit rows, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Security
from sqlalchemy import select

from .. import models
from ..database import SessionDep
from ..problems import problem_responses
from ..schemas import AuditPage
from ..security import ADMIN_BEARER, AuthenticatedRoute, require_admin

#: ``Security`` documents the scheme; AuthenticatedRoute checks the token.
router = APIRouter(
    tags=["audit"],
    dependencies=[Security(ADMIN_BEARER), Depends(require_admin)],
    route_class=AuthenticatedRoute,
)


@router.get(
    "/audit-log",
    operation_id="auditLog",
    summary="One row per request to /transactions* and /accounts*, whatever its outcome.",
    responses=problem_responses(401, 403, 422, 503),
)
async def audit_log(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    after: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    statement = (
        select(models.AuditLog)
        .where(models.AuditLog.id > min(after, models.MAX_ID))
        .order_by(models.AuditLog.id)
        .limit(limit + 1)
    )
    rows = (await session.scalars(statement)).all()
    items = rows[:limit]
    return AuditPage.model_validate(
        {"items": items, "next": items[-1].id if len(rows) > limit else None}
    )
