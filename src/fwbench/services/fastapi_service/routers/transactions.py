"""``/transactions``: create (idempotently), list, read and fraud-check transactions."""

from __future__ import annotations

import hashlib
import json
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response, Security
from pydantic import WithJsonSchema
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fwbench.contract import DECLINE_THRESHOLD

from .. import models
from ..database import SessionDep
from ..downstream import DownstreamDep, fetch_score
from ..middleware import audit_in_transaction
from ..problems import problem_responses
from ..schemas import ACCOUNT_ID_PATTERN, Transaction, TransactionCreate, TransactionPage
from ..security import API_BEARER, AuthenticatedRoute

#: ``Security`` documents the scheme; AuthenticatedRoute checks the token.
router = APIRouter(
    prefix="/transactions",
    tags=["transactions"],
    dependencies=[Security(API_BEARER)],
    route_class=AuthenticatedRoute,
)

#: The id arrives as text and is parsed by :func:`load_transaction`, after authentication:
#: with an int convertor in the path, ``/transactions/abc`` would be a routing 404 that no
#: token check precedes, and the contract has 401 win. Documented as the integer it is.
TransactionId = Annotated[str, Path(), WithJsonSchema({"type": "integer", "minimum": 1})]

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]

_CREATED: dict[int | str, dict[str, Any]] = {
    HTTPStatus.CREATED.value: {
        "description": "Created (or the original transaction, for a repeated Idempotency-Key).",
        "headers": {"Location": {"schema": {"type": "string"}}},
    }
}


def request_fingerprint(payload: TransactionCreate) -> str:
    """SHA-256 of the canonical body: sorted keys, no whitespace, amount with 2 fraction
    digits (so ``"12.5"`` and ``"12.50"`` are the same request)."""
    canonical = json.dumps(
        {
            "account_id": payload.account_id,
            "amount": f"{payload.amount:.2f}",
            "currency": payload.currency,
            "merchant": payload.merchant,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def load_transaction(session: AsyncSession, transaction_id: str) -> models.Transaction:
    """The transaction, or 404 when there is none: also for an id that is not a positive
    integer or is beyond the column's range (such a transaction cannot exist)."""
    row_id = int(transaction_id) if transaction_id.isascii() and transaction_id.isdigit() else 0
    transaction = (
        await session.get(models.Transaction, row_id) if 0 < row_id <= models.MAX_ID else None
    )
    if transaction is None:
        raise HTTPException(HTTPStatus.NOT_FOUND, f"Transaction {transaction_id} does not exist.")
    return transaction


@router.post(
    "",
    status_code=HTTPStatus.CREATED,
    response_model=Transaction,
    operation_id="createTransaction",
    summary="Create a transaction (idempotent with Idempotency-Key).",
    responses=_CREATED | problem_responses(400, 401, 409, 413, 422, 503),
)
async def create_transaction(
    payload: TransactionCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> models.Transaction:
    fingerprint = request_fingerprint(payload) if idempotency_key is not None else None
    transaction = models.Transaction(
        account_id=payload.account_id,
        amount=payload.amount,
        currency=payload.currency,
        merchant=payload.merchant,
        status="pending",
        fraud_score=None,
        created_at=models.utc_now(),
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    session.add(transaction)
    # The row, its idempotency key and its audit row commit together or not at all.
    audit = audit_in_transaction(request, session, HTTPStatus.CREATED)
    try:
        await session.commit()
    except IntegrityError:
        if audit is not None:
            audit.in_transaction = False  # nothing was written: the middleware audits it
        if idempotency_key is None:
            raise
        # The unique key is taken: a repeat (possibly concurrent) of an earlier request.
        # The constraint, not a read-before-write, decides which request created the row.
        await session.rollback()
        transaction = (
            await session.scalars(
                select(models.Transaction).where(
                    models.Transaction.idempotency_key == idempotency_key
                )
            )
        ).one()
        if transaction.request_hash != fingerprint:
            raise HTTPException(
                HTTPStatus.CONFLICT,
                "This Idempotency-Key was already used with a different request body; "
                "use a new key for a new transaction.",
            ) from None
    response.headers["Location"] = f"/transactions/{transaction.id}"
    return transaction


@router.get(
    "",
    operation_id="listTransactions",
    summary="List transactions with keyset pagination, ordered by id.",
    responses=problem_responses(401, 422, 503),
)
async def list_transactions(
    session: SessionDep,
    account_id: Annotated[str | None, Query(pattern=ACCOUNT_ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    after: Annotated[int, Query(ge=0)] = 0,
) -> TransactionPage:
    statement = (
        select(models.Transaction)
        .where(models.Transaction.id > min(after, models.MAX_ID))
        .order_by(models.Transaction.id)
        .limit(limit + 1)
    )
    if account_id is not None:
        statement = statement.where(models.Transaction.account_id == account_id)
    rows = (await session.scalars(statement)).all()
    items = rows[:limit]
    return TransactionPage.model_validate(
        {"items": items, "next": items[-1].id if len(rows) > limit else None}
    )


@router.get(
    "/{id}",
    response_model=Transaction,
    operation_id="getTransaction",
    responses=problem_responses(401, 404, 422, 503),
)
async def get_transaction(session: SessionDep, id: TransactionId) -> models.Transaction:
    return await load_transaction(session, id)


@router.post(
    "/{id}/fraud-check",
    response_model=Transaction,
    operation_id="fraudCheck",
    summary="Score the transaction with the downstream service and approve or decline it.",
    responses=problem_responses(401, 404, 422, 502, 503, 504),
)
async def fraud_check(
    session: SessionDep, downstream: DownstreamDep, id: TransactionId
) -> models.Transaction:
    transaction = await load_transaction(session, id)
    # End the read transaction before the network call: the pooled connection must not
    # sit idle for up to DOWNSTREAM_TIMEOUT while other requests wait for it.
    await session.commit()
    score = await fetch_score(downstream, transaction)
    transaction.fraud_score = score
    transaction.status = "declined" if score >= DECLINE_THRESHOLD else "approved"
    await session.commit()
    return transaction
