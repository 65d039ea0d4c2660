"""marshmallow schemas: request validation and the response shapes of the OpenAPI document.

Class names are the contract's component names, so the generated document reads like
``src/fwbench/contract/openapi.yaml``. Each input schema has a ``TypedDict`` describing
what it loads, which is what the views receive.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, NotRequired, TypedDict

from apiflask import Schema, fields, validators
from marshmallow import RAISE, ValidationError

from fwbench.contract import MAX_AMOUNT

ACCOUNT_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
AMOUNT_PATTERN: Final = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
TRANSACTION_STATUSES: Final = ("pending", "approved", "declined")

_AMOUNT_RE: Final = re.compile(AMOUNT_PATTERN)
_MAX_AMOUNT: Final = Decimal(MAX_AMOUNT)


class FullMatch(validators.Regexp):
    """``Regexp`` that must match the whole value: ``re.match`` with a ``$``-anchored
    pattern also accepts a trailing newline. apispec still documents ``pattern``."""

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self._pattern = re.compile(pattern)

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or self._pattern.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Amount(fields.Field[Decimal]):
    """Money as a decimal string: loads ``"12.5"`` as ``Decimal("12.5")`` and dumps
    ``Decimal("12.5")`` as ``"12.50"``. A JSON number is refused: money is never a float."""

    default_error_messages = {
        "invalid": 'Not a valid amount: use a decimal string such as "12.50".',
        "range": f"Must be greater than 0 and at most {MAX_AMOUNT}.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or _AMOUNT_RE.fullmatch(value) is None:
            raise self.make_error("invalid")
        amount = Decimal(value)
        if not 0 < amount <= _MAX_AMOUNT:
            raise self.make_error("range")
        return amount

    def _serialize(self, value: Decimal | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else f"{value:.2f}"


class Timestamp(fields.DateTime):
    """RFC 3339 in UTC with a ``Z`` and whole seconds, e.g. ``2026-11-25T01:02:03Z``."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _account_id(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[validators.Length(1, 64), FullMatch(ACCOUNT_ID_PATTERN)], **kwargs
    )


# Requests


class TransactionCreate(Schema):
    """Body of ``POST /transactions``; unknown fields are refused."""

    class Meta:
        unknown = RAISE

    account_id = _account_id(required=True)
    amount = Amount(
        required=True,
        metadata={
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "description": f"Decimal string > 0 and <= {MAX_AMOUNT}, at most 2 fraction digits.",
        },
    )
    currency = fields.String(required=True, validate=FullMatch(CURRENCY_PATTERN))
    # No NUL: PostgreSQL's text cannot store it (a 500 instead of a 422).
    merchant = fields.String(
        required=True, validate=[validators.Length(1, 128), FullMatch(r"[^\x00]*")]
    )


class TransactionCreateData(TypedDict):
    account_id: str
    amount: Decimal
    currency: str
    merchant: str


class IdempotencyHeaders(Schema):
    """The optional ``Idempotency-Key`` header of ``POST /transactions``."""

    idempotency_key = fields.String(data_key="Idempotency-Key", validate=validators.Length(1, 255))


class IdempotencyHeadersData(TypedDict):
    idempotency_key: NotRequired[str]


class PageQuery(Schema):
    """Keyset pagination: up to ``limit`` rows with ``id > after``."""

    limit = fields.Integer(load_default=50, validate=validators.Range(1, 100))
    after = fields.Integer(validate=validators.Range(min=0))


class PageQueryData(TypedDict):
    limit: int
    after: NotRequired[int]


class TransactionListQuery(PageQuery):
    """``GET /transactions`` filters."""

    account_id = _account_id()


class TransactionListQueryData(PageQueryData):
    account_id: NotRequired[str]


class TransactionPath(Schema):
    """``{id}`` of ``/transactions/{id}``."""

    id = fields.Integer(required=True, validate=validators.Range(min=1))


class TransactionPathData(TypedDict):
    id: int


class AccountPath(Schema):
    """``{account_id}`` of ``/accounts/{account_id}/summary``."""

    account_id = _account_id(required=True)


class AccountPathData(TypedDict):
    account_id: str


class QueriesQuery(Schema):
    """The TechEmpower ``queries`` parameter, parsed leniently by the view."""

    queries = fields.String(
        metadata={"description": "Clamped to 1..500; missing or not an integer counts as 1."}
    )


class QueriesQueryData(TypedDict):
    queries: NotRequired[str]


class IoQuery(Schema):
    """``GET /io`` parameters."""

    ms = fields.Integer(load_default=0, validate=validators.Range(0, 10_000))


class IoQueryData(TypedDict):
    ms: int


# Responses (every field listed in the contract's required list is required here too)


class Transaction(Schema):
    id = fields.Integer(required=True)
    account_id = fields.String(required=True)
    amount = Amount(
        required=True,
        metadata={
            "type": "string",
            "description": "Decimal string with exactly 2 fraction digits.",
        },
    )
    currency = fields.String(required=True)
    merchant = fields.String(required=True)
    status = fields.String(required=True, validate=validators.OneOf(TRANSACTION_STATUSES))
    fraud_score = fields.Float(required=True, allow_none=True)
    created_at = Timestamp(required=True)


class TransactionPage(Schema):
    items = fields.List(fields.Nested(Transaction), required=True)
    next = fields.Integer(required=True, allow_none=True)


class LocationHeader(Schema):
    Location = fields.String()


class AccountSummary(Schema):
    account_id = fields.String(required=True)
    transactions = fields.Integer(required=True)
    declined = fields.Integer(required=True)
    totals = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Currency code to decimal-string total."},
    )


class AuditEntry(Schema):
    id = fields.Integer(required=True)
    request_id = fields.String(required=True)
    method = fields.String(required=True)
    path = fields.String(required=True)
    status = fields.Integer(required=True)
    duration_ms = fields.Float(required=True)
    actor = fields.String(required=True, allow_none=True)
    created_at = Timestamp(required=True)


class AuditPage(Schema):
    items = fields.List(fields.Nested(AuditEntry), required=True)
    next = fields.Integer(required=True, allow_none=True)


class Health(Schema):
    status = fields.String(required=True)


class HelloMessage(Schema):
    message = fields.String(required=True)


class World(Schema):
    id = fields.Integer(required=True)
    randomNumber = fields.Integer(required=True)


class IoResult(Schema):
    downstream_ms = fields.Integer(required=True)


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)


class FieldError(Schema):
    field = fields.String(required=True)
    message = fields.String(required=True)


class ValidationProblem(Problem):
    """RFC 9457 problem details with the invalid fields."""

    errors = fields.List(fields.Nested(FieldError), required=True)
