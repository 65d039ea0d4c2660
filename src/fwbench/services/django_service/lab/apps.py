from __future__ import annotations

from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "fwbench.services.django_service.lab"
    label = "lab"
    verbose_name = "Experiments"
