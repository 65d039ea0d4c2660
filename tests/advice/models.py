"""A performance model fitted on synthetic points with known answers (slots, CPU cost,
round trip, memory, cold start), so a test can work out the plan the search must find.

The points come from the model's own laws (``tests/model/synthetic.py``); each pair has
one validation point off by :data:`VALIDATION_NOISE`, so every pair's error band is that.
They are fixtures, never quoted as measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from fwbench.model import ModelDocument, Setup, StartupPoint, fitted, save_document
from tests.model import synthetic

#: Throughput error of every pair's one validation point.
VALIDATION_NOISE = 0.08

#: Round trip beyond downstream and CPU of every pair, ms.
OVERHEAD_MS = 1.0


@dataclass(frozen=True)
class Pair:
    """A pair's known answers: the measured setup (workers, threads), slots per worker,
    CPU ms per request by scenario, memory master + per worker (MB) and cold start."""

    framework: str
    server: str
    workers: int
    threads: int | None
    slots: float
    cpu_ms: dict[str, float]
    master_mb: float
    worker_mb: float
    cold_start_ms: float
    routes: str = "native"


PAIRS = (
    Pair("fastapi", "uvicorn", 1, None, math.inf, {"io": 1.0, "json": 0.5}, 0, 60, 950),
    Pair("fastapi", "uvicorn", 1, None, 40, {"io": 1.5}, 0, 62, 950, routes="def"),
    Pair("flask", "gunicorn-sync", 3, None, 1, {"io": 1.2, "json": 0.8}, 25, 40, 520),
    Pair("flask", "gunicorn-gthread", 3, 2, 2, {"io": 1.4, "json": 0.9}, 25, 45, 530),
    Pair("flask", "gunicorn-gevent", 3, None, 1000, {"io": 2.0, "json": 1.1}, 25, 55, 700),
    Pair("django", "gunicorn-sync", 3, None, 1, {"io": 2.5, "json": 2.0}, 30, 70, 1100),
    Pair("django", "gunicorn-gthread", 3, 2, 2, {"io": 2.8, "json": 2.2}, 30, 75, 1150),
)


def _setup(pair: Pair) -> Setup:
    return Setup(
        framework=pair.framework,
        server=pair.server,
        routes="def" if pair.routes == "def" else "native",
        workers=pair.workers,
        threads=pair.threads,
        cores=1,
    )


def model_document(pairs: tuple[Pair, ...] = PAIRS) -> ModelDocument:
    """The fitted, validated model of ``pairs``."""
    points = []
    memory = []
    startup = []
    for pair in pairs:
        setup = _setup(pair)
        points += synthetic.sweep(
            setup, slots_per_worker=pair.slots, cpu_ms=pair.cpu_ms, overhead_ms=OVERHEAD_MS
        )
        points.append(
            synthetic.point(
                setup,
                slots_per_worker=pair.slots,
                cpu_ms=pair.cpu_ms,
                overhead_ms=OVERHEAD_MS,
                scenario="io",
                latency_ms=80,
                connections=32,
                role="validate",
                why="another latency and concurrency",
                noise=VALIDATION_NOISE,
            )
        )
        memory += synthetic.memory(setup, pair.master_mb, pair.worker_mb, (1, 2))
        if pair.routes == "native":
            startup.append(
                StartupPoint(
                    pair=f"{pair.framework}/{pair.server}",
                    cold_start_ms=pair.cold_start_ms,
                    import_ms=pair.cold_start_ms / 3,
                )
            )
    return fitted(
        ModelDocument(
            created="2026-11-29T00:00:00+00:00",
            command=("fwbench", "model"),
            machine="Fixture CPU, 2 usable CPUs",
            quick=False,
            service_cpus=(1,),
            load_cpus=(0,),
            points=tuple(points),
            memory=tuple(memory),
            startup=tuple(startup),
        )
    )


def write_model(path: Path) -> Path:
    """Write :func:`model_document` to ``path`` and return it."""
    save_document(model_document(), path, None)
    return path
