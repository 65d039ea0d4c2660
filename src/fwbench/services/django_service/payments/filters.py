from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request
from rest_framework.views import APIView

from fwbench.services.django_service.payments.serializers import (
    ACCOUNT_ID_PATTERN,
    account_id_validator,
    is_account_id,
)


class AccountFilter(BaseFilterBackend):
    """``?account_id=`` narrows a list to one account."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: APIView
    ) -> QuerySet[Any]:
        account_id = request.query_params.get("account_id")
        if account_id is None:
            return queryset
        if not is_account_id(account_id):
            raise ValidationError({"account_id": [account_id_validator.message]})
        return queryset.filter(account_id=account_id)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": "account_id",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "pattern": ACCOUNT_ID_PATTERN},
            }
        ]
