"""The queueing laws the model is made of: pure functions of numbers, in seconds.

A server holds ``slots`` requests at once (processes x threads, anyio's limiter, or no
limit for an event loop). Each request keeps its slot for the downstream latency ``L``,
a fixed round trip ``overhead`` (the downstream call's own cost beyond ``L``; nothing
for a scenario that makes no call) and its CPU work ``D``, which it shares with the
other requests on the cores. Hence:

* utilisation law: ``U = X * D / cores``, so ``X <= cores / D``;
* closed loop (wrk with ``c`` connections, no think time): every connection always has a
  request at the server, so exactly ``N = min(c, slots)`` slots are busy, and the slots
  form a closed queueing network of ``N`` requests: a delay of ``L + overhead`` and a
  processor-sharing CPU of demand ``D``, solved exactly by mean value analysis (MVA,
  Reiser and Lavenberg 1980; on several cores, Seidmann's approximation: a CPU of
  demand ``D / cores`` plus a delay of ``D (cores - 1) / cores``). The connections
  beyond the slots wait for one: Little's law gives their wait, ``c / X - N / X``;
* open loop (a rate ``X``): each request holds its slot for
  ``T = L + overhead + D / (1 - U)`` (the M/M/1-PS mean), and the slots are an M/M/c
  queue (Erlang C) with service ``T``.
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

#: Fraction of the CPU's ceiling at which MVA stops adding requests: the rest queue.
_CONVERGED: Final = 1 - 1e-9


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
    unbounded), by exact MVA over ``min(connections, slots)`` requests in the slots (see
    the module doc); ``cores / cpu_s`` when both are unbounded."""
    ceiling = cores / cpu_s
    busy = min(connections, slots)
    if math.isinf(busy):
        return ceiling
    # Seidmann: ``cores`` servers as one of demand D / cores plus a delay for the part
    # of D the other cores absorb. Below one core (a share of one), D / cores is simply
    # the work taking longer.
    queue_demand = cpu_s / cores
    delay = latency_s + overhead_s + max(0.0, cpu_s * (cores - 1) / cores)
    queued = rate = 0.0
    for requests in range(1, math.ceil(busy) + 1):
        residence = queue_demand * (1 + queued)
        rate = requests / (delay + residence)
        queued = rate * residence
        if rate >= ceiling * _CONVERGED:
            break  # the CPU is saturated: more requests only queue
    return min(rate, ceiling)


def round_trip(needs_downstream: bool, overhead: float) -> float:
    """The fitted round trip a request of a scenario holds its slot for: the downstream
    call's cost beyond its latency, so nothing for a scenario that makes no call."""
    return overhead if needs_downstream else 0.0


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
    if offered >= math.floor(servers):
        return math.inf  # the slots never catch up: the queue grows without bound
    return waits * service_s / (math.floor(servers) - offered)
