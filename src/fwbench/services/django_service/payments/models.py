"""Transactions and the audit log (tables ``transactions`` and ``audit_log``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with a different request body."""


class TransactionQuerySet(models.QuerySet["Transaction"]):
    def create_idempotent(
        self,
        *,
        idempotency_key: str | None,
        request_hash: str,
        audit: AuditEntry | None = None,
        **fields: Any,
    ) -> Transaction:
        """Create a transaction from ``fields``; with an ``idempotency_key``, a repeat of the
        same request (same ``request_hash``, the body's fingerprint) returns the original row.

        The unique constraint decides between concurrent repeats: insert first and, on
        IntegrityError, read the row that won (a check-then-insert would race). Raises
        :class:`IdempotencyConflict` when the key was used for a different body.

        ``audit`` (default none), the request's unsaved audit row, is saved in the same
        transaction as the new row, so that neither commits without the other; a repeat
        saves nothing, ``audit`` included."""
        try:
            # Its own atomic block, so the failed INSERT rolls back cleanly (Django docs,
            # "Avoid catching exceptions inside atomic!"; get_or_create() does the same).
            with transaction.atomic(using=self.db):
                created = self.create(
                    idempotency_key=idempotency_key, request_hash=request_hash, **fields
                )
                if audit is not None:
                    audit.save(using=self.db)
                return created
        except IntegrityError:
            if idempotency_key is None:
                raise
            existing = self.get(idempotency_key=idempotency_key)
        if existing.request_hash != request_hash:
            raise IdempotencyConflict(idempotency_key)
        return existing

    def summary(self, account_id: str) -> dict[str, Any]:
        """``{account_id, transactions, declined, totals}`` of one account, computed in SQL:
        one GROUP BY currency query with COUNT, a filtered COUNT and SUM(amount)."""
        per_currency = (
            self.filter(account_id=account_id)
            .values("currency")
            .annotate(
                count=Count("id"),
                declined=Count("id", filter=Q(status=Transaction.Status.DECLINED)),
                total=Sum("amount"),
            )
            .order_by("currency")
        )
        rows = list(per_currency)
        return {
            "account_id": account_id,
            "transactions": sum(row["count"] for row in rows),
            "declined": sum(row["declined"] for row in rows),
            # SQLite sums its REAL-stored decimals in floating point; Django rounds the result
            # to 15 significant digits, which is exact to the cent below 10^13.
            "totals": {row["currency"]: f"{row['total']:.2f}" for row in rows},
        }


class Transaction(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DECLINED = "declined"

    account_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    merchant = models.CharField(max_length=128)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    fraud_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # NULL for requests without an Idempotency-Key (NULLs never collide in a unique column).
    idempotency_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # SHA-256 of the canonical request body, to tell a repeat from a conflicting reuse.
    request_hash = models.CharField(max_length=64, blank=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        db_table = "transactions"
        ordering = ["id"]
        # Serves `WHERE account_id = ? AND id > ? ORDER BY id` and the per-account summary.
        indexes = [models.Index(fields=["account_id", "id"], name="transactions_account_id")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.account_id} {self.amount} {self.currency} ({self.status})"

    def apply_fraud_score(self, score: float, threshold: float) -> None:
        """Store ``score`` and decide: declined at or above ``threshold``, else approved."""
        self.fraud_score = score
        self.status = self.Status.DECLINED if score >= threshold else self.Status.APPROVED
        self.save(update_fields=["fraud_score", "status"])


class AuditEntry(models.Model):
    """One row per request to /transactions* and /accounts*, written by the audit middleware."""

    request_id = models.CharField(max_length=128)
    method = models.CharField(max_length=16)
    path = models.TextField()
    status = models.PositiveSmallIntegerField()
    duration_ms = models.FloatField()
    actor = models.CharField(max_length=8, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "audit_log"
        ordering = ["id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"
