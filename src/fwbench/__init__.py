"""fwbench: Flask vs FastAPI vs Django for microservices, measured on your own machine."""

from __future__ import annotations

__version__ = "0.1.0"
