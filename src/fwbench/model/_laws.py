"""The queueing laws the model is made of: pure functions of numbers, in seconds.

A server holds ``slots`` requests at once (processes x threads, anyio's limiter, or no
limit for an event loop). Each request keeps its slot for the downstream latency ``L``,
a fixed round trip ``overhead`` (network, parsing, the client) and its CPU work ``D``,
which stretches to ``D / (1 - U)`` when the cores are busy a fraction ``U`` of the time
(processor sharing, the M/M/1-PS mean). Hence:

* utilisation law: ``U = X * D / cores``, so ``X <= cores / D``;
* Little's law on the slots: ``X = busy slots / T`` with ``T = L + overhead + D / (1 - U)``;
* closed loop (wrk with ``c`` connections, no think time): ``min(c, slots)`` slots busy;
* open loop (a rate ``X``): the slots are an M/M/c queue (Erlang C) with service ``T``.
"""

from __future__ import annotations

import math
from typing import Final

#: Utilisation beyond which a point counts as CPU-bound (it then tells nothing about
#: the slots) and beyond which an open-loop rate is refused as overload.
CPU_BOUND: Final = 0.85

#: Fraction of the connections that busy slots must reach for a closed-loop point to be
#: limited by its connections rather than by the server's slots.
CONNECTION_BOUND: Final = 0.85

_BISECTIONS: Final = 100


def utilisation(rate: float, cpu_s: float, cores: float) -> float:
    """The utilisation law: fraction of ``cores`` busy at ``rate`` requests/s costing
    ``cpu_s`` CPU seconds each."""
    return rate * cpu_s / cores


def unloaded_time(latency: float, overhead: float, cpu: float) -> float:
    """Time a request takes when nothing queues (any one unit): downstream + round trip
    + CPU work."""
    return latency + overhead + cpu


def in_slot_time(latency: float, overhead: float, cpu: float, cpu_utilisation: float) -> float:
    """Time a request holds its slot (in the unit of the others): downstream + round
    trip + CPU work stretched by processor sharing at ``cpu_utilisation`` (infinite
    from 1 on: the cores never catch up)."""
    if cpu_utilisation >= 1:
        return math.inf
    return latency + overhead + cpu / (1 - cpu_utilisation)


def closed_loop_throughput(
    *,
    connections: float,
    slots: float,
    latency_s: float,
    overhead_s: float,
    cpu_s: float,
    cores: float,
) -> float:
    """Requests/s of a closed loop of ``connections`` against ``slots`` (``math.inf``:
    unbounded): the ``X`` with ``X * T(X) = min(connections, slots)``, below
    ``cores / cpu_s``. ``X * T(X)`` grows with ``X``, so bisection finds the one root."""
    busy = min(connections, slots)
    ceiling = cores / cpu_s
    low, high = 0.0, ceiling
    for _ in range(_BISECTIONS):
        rate = (low + high) / 2
        held = rate * in_slot_time(latency_s, overhead_s, cpu_s, rate / ceiling)
        low, high = (rate, high) if held < busy else (low, rate)
    return (low + high) / 2


def erlang_c(servers: float, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue of ``servers`` servers
    (rounded down, at least 1) at ``offered`` erlangs (< servers); 0 when unbounded.

    Erlang B by its stable recursion, then C = B / (1 - rho (1 - B))."""
    if math.isinf(servers):
        return 0.0
    count = max(1, math.floor(servers))
    rho = offered / count
    if rho >= 1:
        return 1.0
    blocking = 1.0
    for k in range(1, count + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return blocking / (1 - rho * (1 - blocking))


def erlang_mean_wait(servers: float, offered: float, service_s: float) -> float:
    """Mean wait for a slot in an M/M/c queue: C / ((c - a) / service)."""
    waits = erlang_c(servers, offered)
    if waits == 0:
        return 0.0
    return waits * service_s / (math.floor(servers) - offered)
