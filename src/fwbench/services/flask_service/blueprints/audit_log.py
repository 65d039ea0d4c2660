"""``/audit-log``: the audit trail, for the admin token only."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

from .. import openapi
from ..auth import admin_auth
from ..models import MAX_ID, AuditLog
from ..pagination import Page, keyset_page
from ..schemas import AuditPage, PageQuery, PageQueryData

bp = APIBlueprint("audit_log", __name__, tag="Audit")


@bp.get("/audit-log")
@bp.auth_required(admin_auth, roles=["admin"])
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(AuditPage, description="A page of audit entries ordered by id.")
@bp.doc(operation_id="auditLog", responses=openapi.errors(401, 403, 422, 503))
def audit_log(query: PageQueryData) -> Page[AuditLog]:
    """One row per request to /transactions* and /accounts*, whatever its outcome."""
    after = min(query.get("after", 0), MAX_ID)
    statement = select(AuditLog).where(AuditLog.id > after).order_by(AuditLog.id)
    return keyset_page(statement, query["limit"])
