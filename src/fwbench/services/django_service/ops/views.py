"""Liveness, readiness and metrics: open endpoints (no token), documented in the schema."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from fwbench.services.django_service.ops.metrics import exposition
from fwbench.services.django_service.ops.serializers import HealthSerializer
from fwbench.services.django_service.project.errors import ServiceUnavailable
from fwbench.services.django_service.project.openapi import problem_responses
from fwbench.services.django_service.project.views import RouteFirstMixin

logger = logging.getLogger(__name__)


class OpenView(RouteFirstMixin):
    """An endpoint without a token: probes, scrapers, benchmark clients."""

    authentication_classes = []
    permission_classes = [AllowAny]


class HealthView(OpenView):
    """Liveness: the process answers."""

    @extend_schema(operation_id="healthz", summary="Liveness.", responses=HealthSerializer)
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(OpenView):
    """Readiness: the database answers ``SELECT 1``."""

    @extend_schema(
        operation_id="readyz",
        summary="Readiness; 503 when the database does not answer.",
        responses={200: HealthSerializer, **problem_responses(503)},
    )
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            # The reason goes to the log, not to the (unauthenticated) caller.
            logger.warning("readiness check failed: %s", exc)
            raise ServiceUnavailable("The database does not answer.") from exc
        return Response({"status": "ready"})


class MetricsView(OpenView):
    """Prometheus metrics."""

    @extend_schema(
        operation_id="metrics",
        summary="Prometheus text exposition, aggregated over all worker processes.",
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Metrics.")},
    )
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
