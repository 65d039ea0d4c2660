"""OpenAPI building blocks shared by the apps' ``extend_schema`` declarations."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from fwbench.services.django_service.project.errors import PROBLEM_CONTENT_TYPE


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details, as answered for every error."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()


class FieldErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField()
    message = serializers.CharField()


# Built with inline_serializer: a declared field named `errors` would shadow, for type
# checkers, the `Serializer.errors` property.
ValidationProblemSerializer = inline_serializer(
    "ValidationProblem",
    {**ProblemSerializer().get_fields(), "errors": FieldErrorSerializer(many=True)},
)


def problem_responses(*statuses: int) -> dict[tuple[int, str], OpenApiResponse]:
    """``extend_schema`` responses for the error ``statuses`` an operation may answer."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            response=ValidationProblemSerializer
            if status == HTTPStatus.UNPROCESSABLE_ENTITY
            else ProblemSerializer,
            description=HTTPStatus(status).phrase,
        )
        for status in statuses
    }
