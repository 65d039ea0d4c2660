"""The TechEmpower tables ``world(id, randomnumber)`` and ``fortune(id, message)``; their ids are
fixed by the seed data, not generated."""

from __future__ import annotations

from django.db import models


class World(models.Model):
    id = models.IntegerField(primary_key=True)
    randomnumber = models.IntegerField()

    class Meta:
        db_table = "world"


class Fortune(models.Model):
    id = models.IntegerField(primary_key=True)
    message = models.CharField(max_length=2048)

    class Meta:
        db_table = "fortune"
