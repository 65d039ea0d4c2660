"""Experiment tables: ``lab_row`` (the "ORM loads the entire table" claim) and
``lab_merchant``/``lab_purchase`` (the N+1 claim). Ids are assigned by the seed views."""

from __future__ import annotations

from django.db import models


class LabRow(models.Model):
    id = models.IntegerField(primary_key=True)
    account_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    payload = models.TextField()

    class Meta:
        db_table = "lab_row"


class LabMerchant(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=128)
    category = models.CharField(max_length=64)

    class Meta:
        db_table = "lab_merchant"


class LabPurchase(models.Model):
    id = models.IntegerField(primary_key=True)
    merchant = models.ForeignKey(LabMerchant, on_delete=models.CASCADE, related_name="purchases")
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        db_table = "lab_purchase"
