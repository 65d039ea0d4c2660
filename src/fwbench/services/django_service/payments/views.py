"""The payments API: a DRF viewset for transactions (with the article's ``fraud_check``
action), the account summary and the admin-only audit log."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fwbench.contract import DECLINE_THRESHOLD
from fwbench.services.django_service import downstream
from fwbench.services.django_service.payments.authentication import AdminTokenAuthentication
from fwbench.services.django_service.payments.filters import AccountFilter
from fwbench.services.django_service.payments.middleware import audit_entry
from fwbench.services.django_service.payments.models import (
    AuditEntry,
    IdempotencyConflict,
    Transaction,
)
from fwbench.services.django_service.payments.pagination import KeysetPagination
from fwbench.services.django_service.payments.permissions import IsAdmin
from fwbench.services.django_service.payments.serializers import (
    ACCOUNT_ID_PATTERN,
    AccountSummarySerializer,
    AuditEntrySerializer,
    TransactionCreateSerializer,
    TransactionSerializer,
    account_id_validator,
    is_account_id,
)
from fwbench.services.django_service.project.errors import Conflict
from fwbench.services.django_service.project.openapi import problem_responses
from fwbench.services.django_service.project.views import RouteFirstMixin

IDEMPOTENCY_KEY = "Idempotency-Key"

_transaction_id = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Transaction id (>= 1)."
)


def _idempotency_key(request: Request) -> str | None:
    """The optional Idempotency-Key header (1-255 characters)."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is not None and not 1 <= len(key) <= 255:
        raise ValidationError({IDEMPOTENCY_KEY: ["Use 1-255 characters."]})
    return key


def _fingerprint(body: Any) -> str:
    """SHA-256 of the canonical JSON form of a request body (sorted keys, no whitespace)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@extend_schema_view(
    list=extend_schema(
        operation_id="listTransactions",
        summary="List transactions with keyset pagination, ordered by id.",
        responses={200: TransactionSerializer(many=True), **problem_responses(401, 422, 503)},
    ),
    retrieve=extend_schema(
        operation_id="getTransaction",
        parameters=[_transaction_id],
        responses={200: TransactionSerializer, **problem_responses(401, 404, 422, 503)},
    ),
)
class TransactionViewSet(
    RouteFirstMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Transaction],
):
    """Transactions: create (idempotent), list by keyset, read, and the article's
    ``fraud_check`` action."""

    queryset = Transaction.objects.all()
    serializer_class = TransactionSerializer
    filter_backends = [AccountFilter]
    pagination_class = KeysetPagination
    lookup_url_kwarg = "id"
    # Any segment reaches the view, so that auth runs first; a non-integer id is then a 404
    # (DRF's get_object_or_404 treats a ValueError as not found).
    lookup_value_converter = "str"

    @extend_schema(
        operation_id="createTransaction",
        summary="Create a transaction (idempotent with Idempotency-Key).",
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Repeat the same body with the same key to get the original back.",
            ),
            OpenApiParameter("Location", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201]),
        ],
        request=TransactionCreateSerializer,
        responses={
            201: OpenApiResponse(
                TransactionSerializer,
                description="Created (or the original, for a repeated Idempotency-Key).",
            ),
            **problem_responses(400, 401, 409, 413, 422, 503),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _idempotency_key(request)
        serializer = TransactionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            created = Transaction.objects.create_idempotent(
                idempotency_key=key,
                request_hash=_fingerprint(request.data),
                # The row, its idempotency key and its audit row commit together or not at all.
                audit=audit_entry(request._request, status.HTTP_201_CREATED),
                **serializer.validated_data,
            )
        except IdempotencyConflict:
            raise Conflict(
                f"{IDEMPOTENCY_KEY} {key!r} was already used with a different request body."
            ) from None
        return Response(
            TransactionSerializer(created).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("transaction-detail", kwargs={"id": created.pk})},
        )

    @extend_schema(
        operation_id="fraudCheck",
        summary="Score the transaction with the downstream service and approve or decline it.",
        parameters=[_transaction_id],
        request=None,
        responses={200: TransactionSerializer, **problem_responses(401, 404, 422, 502, 503, 504)},
    )
    @action(detail=True, methods=["post"], url_path="fraud-check")
    def fraud_check(self, request: Request, id: str | None = None) -> Response:
        """The article's case study: stays focused, Django ORM plus one downstream call.
        A downstream failure raises before anything is saved, leaving the row unchanged."""
        transaction = self.get_object()
        data = self.get_serializer(transaction).data
        score = downstream.fraud_score(
            {name: data[name] for name in ("id", "account_id", "amount", "currency", "merchant")}
        )
        transaction.apply_fraud_score(score, DECLINE_THRESHOLD)
        return Response(self.get_serializer(transaction).data)


class AccountSummaryView(RouteFirstMixin, APIView):
    """Per-account counts and totals."""

    @extend_schema(
        operation_id="accountSummary",
        summary="Counts and per-currency totals of an account, computed in SQL.",
        parameters=[
            OpenApiParameter(
                "account_id", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=ACCOUNT_ID_PATTERN
            )
        ],
        responses={200: AccountSummarySerializer, **problem_responses(401, 422, 503)},
    )
    def get(self, request: Request, account_id: str) -> Response:
        if not is_account_id(account_id):
            raise ValidationError({"account_id": [account_id_validator.message]})
        summary = Transaction.objects.summary(account_id)
        return Response(AccountSummarySerializer(summary).data)


@extend_schema_view(
    list=extend_schema(
        operation_id="auditLog",
        summary="One row per request to /transactions* and /accounts*, whatever its outcome.",
        responses={200: AuditEntrySerializer(many=True), **problem_responses(401, 403, 422, 503)},
    )
)
class AuditLogViewSet(RouteFirstMixin, mixins.ListModelMixin, viewsets.GenericViewSet[AuditEntry]):
    """The audit log, for admins only."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    authentication_classes = [AdminTokenAuthentication]
    permission_classes = [IsAdmin]
    pagination_class = KeysetPagination
