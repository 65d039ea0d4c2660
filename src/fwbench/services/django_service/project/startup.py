"""Checks the WSGI and ASGI entry points run before serving."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_tokens() -> None:
    """Refuse to serve without the bearer tokens (API_TOKEN and ADMIN_TOKEN)."""
    missing = [name for name in ("API_TOKEN", "ADMIN_TOKEN") if not getattr(settings, name)]
    if missing:
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} must be set in the environment: the service refuses to "
            "start without its bearer tokens."
        )
