"""The payments API: ``/transactions*`` and ``/accounts*`` (API token or admin token)."""

from __future__ import annotations

import hashlib
import json

from apiflask import APIBlueprint
from flask import abort
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from fwbench.contract import DECLINE_THRESHOLD

from .. import audit, downstream, models, openapi
from ..auth import api_auth
from ..extensions import db
from ..pagination import Page, keyset_page
from ..schemas import (
    AccountPath,
    AccountPathData,
    AccountSummary,
    IdempotencyHeaders,
    IdempotencyHeadersData,
    LocationHeader,
    Transaction,
    TransactionCreate,
    TransactionCreateData,
    TransactionListQuery,
    TransactionListQueryData,
    TransactionPage,
    TransactionPath,
    TransactionPathData,
)

bp = APIBlueprint("transactions", __name__, tag="Transactions")

# The views returning models carry "type: ignore[type-var]" on their route: APIFlask's
# route typing knows Flask-SQLAlchemy's db.Model but not plain SQLAlchemy 2 models, which
# @bp.output serialises all the same.
#
# Decorator order matters: auth_required sits above input, so authentication is checked
# before any validation (a request without a valid token gets 401, never 422 or 404).
# The transaction id is validated as a path input (integer >= 1) rather than by an <int:>
# converter, which would answer 404 before authentication; an invalid id names no
# transaction, hence error_status_code=404.


@bp.post("/transactions")  # type: ignore[type-var]
@bp.auth_required(api_auth)
@bp.input(IdempotencyHeaders, location="headers", arg_name="headers")
@bp.input(TransactionCreate, arg_name="payload")
@bp.output(
    Transaction,
    status_code=201,
    description="Created (or the original transaction, for a repeated Idempotency-Key).",
    headers=LocationHeader,
)
@bp.doc(operation_id="createTransaction", responses=openapi.errors(400, 401, 409, 413, 422, 503))
def create_transaction(
    headers: IdempotencyHeadersData, payload: TransactionCreateData
) -> tuple[models.Transaction, dict[str, str]]:
    """Create a transaction (idempotent with Idempotency-Key)."""
    key = headers.get("idempotency_key")
    fingerprint = _fingerprint(payload)
    transaction = models.Transaction(**payload, idempotency_key=key, request_hash=fingerprint)
    db.session.add(transaction)
    try:
        # The row, its idempotency key and its audit row commit together or not at all
        # (adding the audit row flushes the transaction's INSERT, so it may fail here too).
        audit.add_to_session(201)
        db.session.commit()
    except IntegrityError:
        # The unique idempotency_key decides between concurrent repeats: one insert wins,
        # the others land here and answer with the winner's row.
        db.session.rollback()
        audit.release()  # nothing was written: the teardown audits this request
        original = _by_idempotency_key(key) if key is not None else None
        if original is None:
            raise
        if original.request_hash != fingerprint:
            abort(409, description="This Idempotency-Key was already used with another body.")
        transaction = original
    return transaction, {"Location": f"/transactions/{transaction.id}"}


@bp.get("/transactions")
@bp.auth_required(api_auth)
@bp.input(TransactionListQuery, location="query", arg_name="query")
@bp.output(
    TransactionPage,
    description="A page of transactions; `next` is the cursor for the following page.",
)
@bp.doc(operation_id="listTransactions", responses=openapi.errors(401, 422, 503))
def list_transactions(query: TransactionListQueryData) -> Page[models.Transaction]:
    """List transactions with keyset pagination, ordered by id."""
    statement = select(models.Transaction).where(
        models.Transaction.id > min(query.get("after", 0), models.MAX_ID)
    )
    if "account_id" in query:
        statement = statement.where(models.Transaction.account_id == query["account_id"])
    return keyset_page(statement.order_by(models.Transaction.id), query["limit"])


@bp.get("/transactions/<id>")  # type: ignore[type-var]
@bp.auth_required(api_auth)
@bp.input(TransactionPath, location="path", arg_name="path", error_status_code=404)
@bp.output(Transaction, description="The transaction.")
@bp.doc(operation_id="getTransaction", responses=openapi.errors(401, 404, 422, 503))
def get_transaction(id: str, path: TransactionPathData) -> models.Transaction:
    """Get one transaction."""
    return _get_or_404(path["id"])


@bp.post("/transactions/<id>/fraud-check")  # type: ignore[type-var]
@bp.auth_required(api_auth)
@bp.input(TransactionPath, location="path", arg_name="path", error_status_code=404)
@bp.output(Transaction, description="The scored transaction.")
@bp.doc(operation_id="fraudCheck", responses=openapi.errors(401, 404, 422, 502, 503, 504))
def fraud_check(id: str, path: TransactionPathData) -> models.Transaction:
    """Score the transaction with the downstream service and approve or decline it.

    Calls POST {DOWNSTREAM_URL}/score; score >= 0.8 declines, otherwise approves.
    A downstream timeout answers 504 and a downstream error or refusal 502; in both
    cases the transaction is left unchanged.
    """
    transaction = _get_or_404(path["id"])
    # End the read transaction before waiting on the network, so a slow scorer does not
    # pin a pooled connection (and, on PostgreSQL, an open transaction) meanwhile.
    db.session.commit()
    score = downstream.current().score(
        {
            "id": transaction.id,
            "account_id": transaction.account_id,
            "amount": f"{transaction.amount:.2f}",
            "currency": transaction.currency,
            "merchant": transaction.merchant,
        }
    )
    transaction.fraud_score = score
    transaction.status = "declined" if score >= DECLINE_THRESHOLD else "approved"
    db.session.commit()
    return transaction


@bp.get("/accounts/<account_id>/summary")
@bp.auth_required(api_auth)
@bp.input(AccountPath, location="path", arg_name="path")
@bp.output(
    AccountSummary,
    description="The summary (zero counts and empty totals for an unknown account).",
)
@bp.doc(operation_id="accountSummary", responses=openapi.errors(401, 422, 503))
def account_summary(account_id: str, path: AccountPathData) -> dict[str, object]:
    """Counts and per-currency totals of an account, computed in SQL."""
    txn = models.Transaction
    per_currency = db.session.execute(
        select(
            txn.currency,
            func.count(),
            func.sum(case((txn.status == "declined", 1), else_=0)),
            func.sum(txn.amount),
        )
        .where(txn.account_id == path["account_id"])
        .group_by(txn.currency)
    ).all()
    return {
        "account_id": path["account_id"],
        "transactions": sum(count for _, count, _, _ in per_currency),
        "declined": sum(declined for _, _, declined, _ in per_currency),
        "totals": {currency: f"{total:.2f}" for currency, _, _, total in per_currency},
    }


def _fingerprint(payload: TransactionCreateData) -> str:
    """SHA-256 of the canonical request body (sorted keys, amount with 2 decimals), so
    ``"12.5"`` and ``"12.50"`` are the same request."""
    canonical = json.dumps(
        {**payload, "amount": f"{payload['amount']:.2f}"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_idempotency_key(key: str) -> models.Transaction | None:
    return db.session.scalars(
        select(models.Transaction).where(models.Transaction.idempotency_key == key)
    ).one_or_none()


def _get_or_404(transaction_id: int) -> models.Transaction:
    description = f"No transaction with id {transaction_id}."
    if transaction_id > models.MAX_ID:
        abort(404, description=description)
    return db.get_or_404(models.Transaction, transaction_id, description=description)
