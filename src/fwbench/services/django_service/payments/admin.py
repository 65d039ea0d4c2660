"""The built-in admin the article credits Django with: transactions for customer support, and
the audit log, read-only. Nothing is created automatically: run
``python -m fwbench.services.django_service.manage createsuperuser`` to log in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from fwbench.services.django_service.payments.models import AuditEntry, Transaction

# ModelAdmin is generic for type checkers only (django-stubs); at run time it is a plain class.
if TYPE_CHECKING:
    TransactionAdminBase = admin.ModelAdmin[Transaction]
    AuditEntryAdminBase = admin.ModelAdmin[AuditEntry]
else:
    TransactionAdminBase = AuditEntryAdminBase = admin.ModelAdmin


@admin.register(Transaction)
class TransactionAdmin(TransactionAdminBase):
    list_display = [
        "id",
        "account_id",
        "amount",
        "currency",
        "merchant",
        "status",
        "fraud_score",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["=account_id", "merchant", "=idempotency_key"]
    readonly_fields = ["created_at", "idempotency_key", "request_hash"]
    ordering = ["-id"]
    # The exact total needs a COUNT(*) over the whole table on every page view.
    show_full_result_count = False


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditEntryAdminBase):
    list_display = ["id", "created_at", "method", "path", "status", "duration_ms", "actor"]
    list_filter = ["method", "status", "actor"]
    search_fields = ["=request_id", "path"]
    ordering = ["-id"]
    show_full_result_count = False

    # An audit trail is evidence: staff may read it, nobody may edit it here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
