from __future__ import annotations

from typing import Any

from rest_framework import serializers


class IoQuerySerializer(serializers.Serializer[Any]):
    ms = serializers.IntegerField(min_value=0, max_value=10_000, default=0)


class IoResultSerializer(serializers.Serializer[Any]):
    downstream_ms = serializers.IntegerField()
