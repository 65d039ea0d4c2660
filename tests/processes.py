"""Telling whether processes a test saw are still running, without mistaking a reused
pid for one of them."""

from __future__ import annotations

import psutil

#: Pid and creation time of each process.
Snapshot = list[tuple[int, float]]


def snapshot(processes: list[psutil.Process]) -> Snapshot:
    """Pid and creation time of each process, so a reused pid is not mistaken for it."""
    return [(p.pid, p.create_time()) for p in processes]


def still_running(processes: Snapshot) -> list[int]:
    """The pids of ``processes`` that still exist (and are not zombies)."""
    alive = []
    for pid, created in processes:
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive
