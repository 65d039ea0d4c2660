"""SQLAlchemy 2 models: the service's tables, the TechEmpower tables and the lab tables."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from .extensions import Base


class Money(TypeDecorator[Decimal]):
    """An exact amount with 2 fraction digits: NUMERIC(12, 2) on PostgreSQL, integer cents
    on SQLite, which has no exact decimal type (its NUMERIC stores floats), so that
    ``SUM(amount)`` stays exact on both."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        # Exact: validated amounts carry at most 2 fraction digits.
        return int(value.scaleb(2))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or dialect.name != "sqlite":
            return value  # type: ignore[no-any-return]
        return Decimal(value).scaleb(-2)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


#: Largest value of the INTEGER primary keys: larger ids cannot exist, and binding one
#: overflows PostgreSQL's integer type (a 500 instead of an empty page or a 404).
MAX_ID = 2**31 - 1


class SurrogateKey:
    """An autoincrementing integer primary key: the cursor of keyset pagination."""

    # sort_order: the mixin's column would otherwise come last in CREATE TABLE.
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)


class Transaction(SurrogateKey, Base):
    """A payment; ``idempotency_key`` is unique so concurrent repeats insert one row."""

    __tablename__ = "transactions"
    # Serves both the keyset pages filtered by account and the per-account summary.
    __table_args__ = (Index("ix_transactions_account_id_id", "account_id", "id"),)

    account_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    merchant: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    fraud_score: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: SHA-256 of the canonical request body, to tell a repeat from a conflicting reuse.
    request_hash: Mapped[str] = mapped_column(String(64))


class AuditLog(SurrogateKey, Base):
    """One row per request to ``/transactions*`` or ``/accounts*``, whatever its outcome."""

    __tablename__ = "audit_log"

    request_id: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int]
    duration_ms: Mapped[float]
    actor: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class World(Base):
    """The TechEmpower ``world`` table."""

    __tablename__ = "world"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    randomnumber: Mapped[int]


class Fortune(Base):
    """The TechEmpower ``fortune`` table."""

    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message: Mapped[str] = mapped_column(Text)


# Lab tables (issue 4's experiments); empty unless the /_lab endpoints seed them.


class LabRow(Base):
    """A wide-ish row for the "load the whole table" experiment."""

    __tablename__ = "lab_row"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    payload: Mapped[str] = mapped_column(Text)


class LabMerchant(Base):
    """The "one" side of the N+1 experiment."""

    __tablename__ = "lab_merchant"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))


class LabPurchase(Base):
    """The "many" side of the N+1 experiment; ``merchant`` loads lazily by default."""

    __tablename__ = "lab_purchase"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("lab_merchant.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    merchant: Mapped[LabMerchant] = relationship()
