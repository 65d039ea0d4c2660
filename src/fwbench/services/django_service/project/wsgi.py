"""WSGI entry point: ``fwbench.services.django_service.project.wsgi:application``
(gunicorn sync/gthread, granian ``--interface wsgi``)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from fwbench.services.django_service import SETTINGS_MODULE
from fwbench.services.django_service.project.chunked import ChunkedBodyWSGI
from fwbench.services.django_service.project.startup import require_tokens

os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)

application = ChunkedBodyWSGI(get_wsgi_application(), settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
require_tokens()
