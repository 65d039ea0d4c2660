"""Keyset pagination by id: ``WHERE id > after ORDER BY id LIMIT limit + 1``, never an OFFSET
and never the whole table. The cursor is the last id of the page (``next``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fwbench.services.django_service.payments.serializers import PageQuerySerializer


class KeysetPagination(BasePagination):
    def __init__(self) -> None:
        self.next_cursor: int | None = None

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any]:
        if not isinstance(queryset, QuerySet):
            raise TypeError("KeysetPagination pages a QuerySet (it filters and orders by id).")
        params = PageQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        limit: int = params.validated_data["limit"]
        after: int | None = params.validated_data.get("after")
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        # One row more than the page tells whether another page follows.
        rows = list(queryset.order_by("pk")[: limit + 1])
        page = rows[:limit]
        self.next_cursor = page[-1].pk if len(rows) > limit else None
        return page

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"items": data, "next": self.next_cursor})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["items", "next"],
            "properties": {
                "items": schema,
                "next": {
                    "type": ["integer", "null"],
                    "description": "Pass as `after` for the next page; null on the last page.",
                },
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
            },
            {
                "name": "after",
                "in": "query",
                "required": False,
                "description": "Return items with an id greater than this (the previous `next`).",
                "schema": {"type": "integer", "minimum": 0},
            },
        ]
