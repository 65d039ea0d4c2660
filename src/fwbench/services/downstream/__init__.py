"""The downstream service the implementations call: ``GET /delay`` (the I/O-bound
workload) and ``POST /score`` (the fraud scorer), with fault injection for tests.

It runs on granian's RSGI interface, the fastest stack available here, so that it is
never the bottleneck of a measurement. Run it with ``fwbench serve downstream``.
"""
