"""Query-string validation for the lab views, with plain Django forms."""

from __future__ import annotations

from django import forms


class SeedRowsForm(forms.Form):
    count = forms.IntegerField(min_value=0, max_value=200_000, required=False)


class RowsForm(forms.Form):
    mode = forms.ChoiceField(choices=[("all", "all"), ("stream", "stream"), ("page", "page")])
    after = forms.IntegerField(min_value=0, required=False)


class PurchasesForm(forms.Form):
    mode = forms.ChoiceField(choices=[("naive", "naive"), ("eager", "eager")])
    limit = forms.IntegerField(min_value=1, max_value=1000, required=False)


class IoForm(forms.Form):
    ms = forms.IntegerField(min_value=0, max_value=10_000, required=False)
