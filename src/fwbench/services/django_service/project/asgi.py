"""ASGI entry point: ``fwbench.services.django_service.project.asgi:application``
(uvicorn, granian ``--interface asgi``). Django does not implement the ASGI lifespan
protocol; servers log that and carry on."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from fwbench.services.django_service import INTERFACE_ENV, SETTINGS_MODULE
from fwbench.services.django_service.project.chunked import ChunkedBodyASGI
from fwbench.services.django_service.project.startup import require_tokens

os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
os.environ[INTERFACE_ENV] = "asgi"

application = ChunkedBodyASGI(get_asgi_application(), settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
require_tokens()
