from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from fwbench.services.django_service.payments import views

# Path converters rather than regexes, and no trailing slash: /transactions/{id}.
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("transactions", views.TransactionViewSet, basename="transaction")
router.register("audit-log", views.AuditLogViewSet, basename="audit-log")

urlpatterns = [
    *router.urls,
    path(
        "accounts/<str:account_id>/summary",
        views.AccountSummaryView.as_view(),
        name="account-summary",
    ),
]
