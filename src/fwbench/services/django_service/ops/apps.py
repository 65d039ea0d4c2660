from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "fwbench.services.django_service.ops"
    label = "ops"
    verbose_name = "Operations"
