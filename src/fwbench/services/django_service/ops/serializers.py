from __future__ import annotations

from typing import Any

from rest_framework import serializers


class HealthSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
