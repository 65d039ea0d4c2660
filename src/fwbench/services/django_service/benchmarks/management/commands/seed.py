"""``manage.py seed``: fill ``world`` and ``fortune`` when they are empty (idempotent)."""

from __future__ import annotations

import random
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from fwbench.contract import FORTUNES, MAX_RANDOM_NUMBER, WORLD_ROWS
from fwbench.services.django_service.benchmarks.models import Fortune, World


class Command(BaseCommand):
    help = "Seed the TechEmpower tables (world: 10,000 rows, fortune: 12 rows) when empty."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            if not World.objects.exists():
                # ignore_conflicts: a concurrent seeder inserting the same ids is harmless.
                World.objects.bulk_create(
                    (
                        World(id=i, randomnumber=random.randint(1, MAX_RANDOM_NUMBER))
                        for i in range(1, WORLD_ROWS + 1)
                    ),
                    batch_size=1000,
                    ignore_conflicts=True,
                )
                self._report(options, f"Seeded world with {WORLD_ROWS} rows.")
            if not Fortune.objects.exists():
                Fortune.objects.bulk_create(
                    (Fortune(id=i, message=message) for i, message in FORTUNES),
                    ignore_conflicts=True,
                )
                self._report(options, f"Seeded fortune with {len(FORTUNES)} rows.")

    def _report(self, options: dict[str, Any], message: str) -> None:
        if options["verbosity"] >= 1:
            self.stdout.write(message)
