"""``/accounts/{account_id}/summary``: counts and totals of an account, computed in SQL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Security
from sqlalchemy import case, func, select

from .. import models
from ..database import SessionDep
from ..problems import problem_responses
from ..schemas import ACCOUNT_ID_PATTERN, AccountSummary
from ..security import API_BEARER, AuthenticatedRoute

#: ``Security`` documents the scheme; AuthenticatedRoute checks the token.
router = APIRouter(
    prefix="/accounts",
    tags=["accounts"],
    dependencies=[Security(API_BEARER)],
    route_class=AuthenticatedRoute,
)


@router.get(
    "/{account_id}/summary",
    operation_id="accountSummary",
    summary="Counts and per-currency totals of an account, computed in SQL.",
    responses=problem_responses(401, 422, 503),
)
async def account_summary(
    session: SessionDep,
    account_id: Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN)],
) -> AccountSummary:
    transaction = models.Transaction
    # One grouped query: per currency, the count, the declined count and the exact sum.
    statement = (
        select(
            transaction.currency,
            func.count(),
            func.sum(case((transaction.status == "declined", 1), else_=0)),
            func.sum(transaction.amount),
        )
        .where(transaction.account_id == account_id)
        .group_by(transaction.currency)
    )
    rows = (await session.execute(statement)).all()
    return AccountSummary(
        account_id=account_id,
        transactions=sum(count for _, count, _, _ in rows),
        declined=sum(declined for _, _, declined, _ in rows),
        totals={currency: total for currency, _, _, total in rows},
    )
