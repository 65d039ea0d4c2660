from __future__ import annotations

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "fwbench.services.django_service.payments"
    label = "payments"
    verbose_name = "Payments"
