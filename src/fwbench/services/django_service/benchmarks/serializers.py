from __future__ import annotations

from typing import Any

from rest_framework import serializers


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter for which a present but empty value (``?ms=``) is
    invalid, as in the other implementations, instead of DRF's fallback to the default."""

    def get_value(self, dictionary: Any) -> Any:
        if dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class IoQuerySerializer(serializers.Serializer[Any]):
    ms = QueryIntegerField(min_value=0, max_value=10_000, default=0)


class IoResultSerializer(serializers.Serializer[Any]):
    downstream_ms = serializers.IntegerField()
