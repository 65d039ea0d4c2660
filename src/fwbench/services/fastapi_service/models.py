"""The ORM mapping: the contract's tables plus the lab experiments' tables."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Largest value of the INTEGER primary keys: larger ids cannot exist, and binding them
#: would overflow the driver's parameter type.
MAX_ID = 2**31 - 1


class Money(TypeDecorator[Decimal]):
    """An amount with 2 fraction digits: NUMERIC(12, 2) on PostgreSQL, integer cents on
    SQLite, whose NUMERIC affinity stores a binary float (sqlite.org/datatype3.html), so
    that ``SUM(amount)`` stays exact on both."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return int(value.scaleb(2))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(value).scaleb(-2)
        return Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite has no time zones,
    so its values are stored as UTC and marked as such when read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utc_now() -> datetime:
    """The current time in UTC, to the second (the contract renders no microseconds)."""
    return datetime.now(UTC).replace(microsecond=0)


class Base(AsyncAttrs, DeclarativeBase):
    """Declarative base; ``AsyncAttrs`` gives ``awaitable_attrs`` for explicit lazy loads."""


class Transaction(Base):
    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    merchant: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    fraud_score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Client-chosen key that makes a POST idempotent; the unique constraint is what
    #: serialises concurrent repeats.
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: SHA-256 of the canonical request body, to tell a repeat from a conflicting reuse.
    request_hash: Mapped[str | None] = mapped_column(String(64))


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    actor: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class World(Base):
    """TechEmpower's ``world`` table; ids 1..10000 are seeded, never generated."""

    __tablename__ = "world"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    randomnumber: Mapped[int] = mapped_column(Integer)


class Fortune(Base):
    """TechEmpower's ``fortune`` table."""

    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    message: Mapped[str] = mapped_column(String(2048))


class LabRow(Base):
    """Rows for the "whole table loaded into memory" experiment."""

    __tablename__ = "lab_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    payload: Mapped[str] = mapped_column(Text)


class LabMerchant(Base):
    """The "one" side of the N+1 experiment."""

    __tablename__ = "lab_merchant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))


class LabPurchase(Base):
    """The "many" side of the N+1 experiment."""

    __tablename__ = "lab_purchase"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("lab_merchant.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    #: Lazy by default, as an ORM relationship is unless a query asks for eager loading.
    merchant: Mapped[LabMerchant] = relationship()
