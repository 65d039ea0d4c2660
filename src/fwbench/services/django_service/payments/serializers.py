"""Request validation and response shapes. Input fields are strict: DRF would otherwise turn
a JSON number into a string or an amount, and ignore unknown fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers

from fwbench.contract import MAX_AMOUNT
from fwbench.services.django_service.benchmarks.serializers import QueryIntegerField
from fwbench.services.django_service.payments.models import AuditEntry, Transaction

ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_AMOUNT_FORMAT = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?")


class FullMatchValidator(RegexValidator):
    """A RegexValidator that must match the whole value (``$`` alone also matches before a
    trailing newline). drf-spectacular still documents its pattern."""

    def __call__(self, value: Any) -> None:
        if not re.fullmatch(self.regex, str(value)):
            raise DjangoValidationError(self.message, code=self.code, params={"value": value})


def is_account_id(value: str) -> bool:
    """Whether ``value`` is a valid account id (1-64 of ``[A-Za-z0-9_-]``)."""
    return re.fullmatch(ACCOUNT_ID_PATTERN, value) is not None


account_id_validator = FullMatchValidator(
    ACCOUNT_ID_PATTERN, "Use 1-64 letters, digits, '_' or '-'."
)


class StrictCharField(serializers.CharField):
    """A CharField that accepts JSON strings only, taken verbatim (no whitespace trimming)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MoneyField(serializers.DecimalField):
    """An amount sent as a decimal string ("12.50"): a JSON number is refused, so money never
    passes through a float, and so is anything but plain digits (no exponent, sign, spaces)."""

    default_error_messages = {
        "not_a_string": 'Send the amount as a decimal string, e.g. "12.50".',
        "format": "Use digits with at most 2 fraction digits, e.g. 12.50.",
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        value = super().to_internal_value(data)
        if not _AMOUNT_FORMAT.fullmatch(data):
            self.fail("format")
        return value


class TransactionCreateSerializer(serializers.Serializer[Transaction]):
    """The body of POST /transactions."""

    account_id = StrictCharField(max_length=64, validators=[account_id_validator])
    amount = MoneyField(
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(MAX_AMOUNT),
        help_text="Decimal string > 0 and <= 1000000.00, at most 2 fraction digits.",
    )
    currency = StrictCharField(
        validators=[FullMatchValidator(r"^[A-Z]{3}$", "Use a 3-letter upper-case currency code.")]
    )
    merchant = StrictCharField(max_length=128)

    def to_internal_value(self, data: Any) -> Any:
        """Validate the fields, and refuse fields the contract does not define (reported with
        the other errors)."""
        unknown = (
            {name: ["This field is not allowed."] for name in data if name not in self.fields}
            if isinstance(data, Mapping)
            else {}
        )
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"body": exc.detail}
            raise serializers.ValidationError({**detail, **unknown}) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class TransactionSerializer(serializers.ModelSerializer[Transaction]):
    class Meta:
        model = Transaction
        fields = [
            "id",
            "account_id",
            "amount",
            "currency",
            "merchant",
            "status",
            "fraud_score",
            "created_at",
        ]
        read_only_fields = fields


class AccountSummarySerializer(serializers.Serializer[Any]):
    account_id = serializers.CharField()
    transactions = serializers.IntegerField()
    declined = serializers.IntegerField()
    totals = serializers.DictField(
        child=serializers.CharField(), help_text="Currency code to decimal-string total."
    )


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "request_id",
            "method",
            "path",
            "status",
            "duration_ms",
            "actor",
            "created_at",
        ]
        read_only_fields = fields


class PageQuerySerializer(serializers.Serializer[Any]):
    """The keyset pagination query parameters."""

    limit = QueryIntegerField(min_value=1, max_value=100, default=50)
    after = QueryIntegerField(min_value=0, required=False)
