"""Pydantic v2 models of the contract's request and response bodies.

Class names match the contract's schema names, so ``/openapi.json`` reads the same."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from fwbench.contract import MAX_AMOUNT

ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
AMOUNT_PATTERN = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
_MAX_AMOUNT = Decimal(MAX_AMOUNT)


def _parse_amount(value: Any) -> Decimal:
    """Accept only a decimal string: a JSON number would already have gone through a
    binary float, which money must never do."""
    if not isinstance(value, str):
        raise PydanticCustomError("amount_type", 'amount must be a decimal string, e.g. "12.50"')
    if not _AMOUNT_RE.fullmatch(value):
        raise PydanticCustomError(
            "amount_format", 'amount must be digits with at most 2 fraction digits, e.g. "12.50"'
        )
    amount = Decimal(value)  # exact: the pattern admits only plain decimal digits
    if not 0 < amount <= _MAX_AMOUNT:
        raise PydanticCustomError("amount_range", f"amount must be > 0 and <= {MAX_AMOUNT}")
    return amount


#: Request amount: a decimal string parsed straight to ``Decimal``.
AmountIn = Annotated[
    Decimal,
    PlainValidator(_parse_amount),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "description": f"Decimal string > 0 and <= {MAX_AMOUNT}, at most 2 fraction digits.",
        }
    ),
]

#: Response amount: always rendered with exactly 2 fraction digits.
AmountOut = Annotated[
    Decimal,
    PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str),
    WithJsonSchema(
        {"type": "string", "description": "Decimal string with exactly 2 fraction digits."}
    ),
]

AccountId = Annotated[
    str, StringConstraints(pattern=ACCOUNT_ID_PATTERN, min_length=1, max_length=64)
]


class TransactionCreate(BaseModel):
    """Body of ``POST /transactions``; unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")

    account_id: AccountId
    amount: AmountIn
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    # No NUL: PostgreSQL's text cannot store it (a 500 instead of a 422).
    merchant: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00]*$")]


class Transaction(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: str
    amount: AmountOut
    currency: str
    merchant: str
    status: Literal["pending", "approved", "declined"]
    fraud_score: float | None
    #: Timezone-aware UTC without microseconds, so Pydantic renders ``...T01:02:03Z``.
    created_at: datetime


class TransactionPage(BaseModel):
    items: list[Transaction]
    #: The id to pass as ``after`` for the next page, or null on the last page.
    next: int | None


class AccountSummary(BaseModel):
    account_id: str
    transactions: int
    declined: int
    #: Currency code to total, each with exactly 2 fraction digits.
    totals: dict[str, AmountOut]


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: str
    method: str
    path: str
    status: int
    duration_ms: float
    actor: str | None
    created_at: datetime


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next: int | None


class Health(BaseModel):
    status: str


class HelloMessage(BaseModel):
    message: str


class World(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    random_number: int = Field(validation_alias="randomnumber", serialization_alias="randomNumber")


class IoResult(BaseModel):
    downstream_ms: int


class ScoreReply(BaseModel):
    """What the downstream ``POST /score`` must answer; anything else is a 502."""

    score: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


class ValidationProblem(Problem):
    """Problem details of a 4xx validation failure, naming each invalid field."""

    errors: list[FieldError]
