"""``fwbench advise --verify --hosts FILE``: the verification of
:mod:`fwbench.advice.verify` with the instance on the first service host and the paced
load from every load host at once (docs/hosts.md).

The instance and the downstream start on the service host as ``run --hosts`` starts them
(:mod:`fwbench.harness.remote`: the service on the upper half of the host's CPUs, at most
the plan's cores per instance, the downstream on the rest, the lab routes on). The
planned rate is shared among the load hosts in proportion to their connections, each
wrk pinned to the lower half of its host's CPUs with one thread per CPU and paced at its
own share (``lua/paced.lua``); their latencies are merged from their histograms
(:mod:`~fwbench.harness.generators`), their late sends added and the worst lateness
kept. Everything started on every host is stopped on any exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace

from fwbench.advice.profile import Profile
from fwbench.advice.search import Plan
from fwbench.advice.verify import (
    SECONDS,
    WARMUP_S,
    Verification,
    paced_report,
    planned_load,
    request_path,
    verification,
)
from fwbench.contract import LAB_FLAG
from fwbench.harness.errors import InvalidOption
from fwbench.harness.generators import Histogram, merge_samples, split_connections
from fwbench.harness.hosts import HostsFile
from fwbench.harness.load import LoadError, LoadSpec, parse_wrk_report
from fwbench.harness.process import PortRotation
from fwbench.harness.remote import (
    Remote,
    RemoteWrk,
    connect_all,
    start_remote_downstream,
    start_remote_service,
)
from fwbench.harness.results import GeneratorRun, LoadSample
from fwbench.harness.servers import configure
from fwbench.model import PairModel


def _paced_load(
    load_hosts: list[tuple[Remote, tuple[int, ...], int]],
    url: str,
    path: str,
    target: float,
    connections: int,
    seconds: int,
) -> tuple[LoadSample, tuple[int, float]]:
    """Paced load from every load host at once; the merged sample and the late sends.

    Args:
        load_hosts: each load host, its wrk CPUs and its wrk threads.
        url: the service.
        path: the route requested.
        target: the total scheduled rate, req/s.
        connections: wrk connections in total, shared among the hosts.
        seconds: how long.
    """
    shares = split_connections(connections, len(load_hosts))
    runs = []
    try:
        for (remote, cpus, threads), share in zip(load_hosts, shares, strict=True):
            threads = min(threads, share)
            rate = target * share / connections
            spec = LoadSpec(
                url=url,
                path=path,
                script="paced",
                connections=share,
                duration_s=seconds,
                threads=threads,
                timeout_s=10,
                cpus=cpus,
                script_args=(f"{threads * 1000 / rate:.6f}",),
            )
            runs.append((remote, spec, RemoteWrk(remote, spec)))
        outputs = [run.output() for _, _, run in runs]
    finally:
        for _, _, run in runs:
            run.stop()
    parts = []
    late, worst = 0, 0.0
    for (remote, spec, _), output in zip(runs, outputs, strict=True):
        sample, buckets = parse_wrk_report(output)
        if buckets is None:
            raise LoadError(
                f"wrk on {remote.url} printed no latency histogram, so the load hosts' "
                "latencies cannot be merged",
                "use wrk 4 built with LuaJIT (Debian's wrk package)",
            )
        host_late, host_worst = paced_report(output)
        late, worst = late + host_late, max(worst, host_worst)
        record = GeneratorRun(remote.url, spec.cpus, spec.connections, sample)
        parts.append((record, Histogram(buckets)))
    merged = parts[0][0].sample if len(parts) == 1 else merge_samples(parts)
    return merged, (late, worst)


def verify_on_hosts(
    plan: Plan,
    model: PairModel,
    profile: Profile,
    hosts: HostsFile,
    *,
    seconds: int = SECONDS,
    warmup_s: int = WARMUP_S,
    ports: range | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Verification:
    """Measure one instance of ``plan`` on the first service host of ``hosts`` at its
    planned rate per instance, loaded from every load host (see the module's docstring).

    Args:
        plan: the plan to verify (the recommendation's).
        model: the model of ``plan``'s pair, to predict what is measured there.
        profile: the user's answers (the p99 target).
        hosts: the hosts file.
        seconds: seconds of measured load (default :data:`~.verify.SECONDS`).
        warmup_s: seconds of load before, not measured (default :data:`~.verify.WARMUP_S`).
        ports: TCP ports for the service and the downstream on the service host; None:
            ones free here.
        say: prints one line of progress (default: discard it).

    Raises:
        FwbenchError: a host cannot be reached or is not set up, the service did not
            start, wrk failed, or the plan cannot be requested.
    """
    setup = plan.setup
    path = request_path(plan)
    port = PortRotation(ports)
    remotes = connect_all(hosts)
    with contextlib.ExitStack() as stack:
        for remote in remotes.values():
            stack.callback(remote.close)
        service_host = remotes[hosts.service[0]]
        placement = hosts.placement(service_host.url, service_host.describe().cpus)
        service_cpus = placement.service_cpus[: setup.cores]
        cores = len(service_cpus)
        target, here, connections = planned_load(plan, model, cores)
        load_hosts = []
        for url in hosts.load:
            # One wrk thread per load CPU the hosts file gives it (else its lower half).
            cpus = hosts.load_cpus(url, remotes[url].describe().cpus)
            load_hosts.append((remotes[url], cpus, len(cpus)))
        if connections < len(load_hosts):
            raise InvalidOption(
                f"the verification needs {connections} connections, fewer than the "
                f"{len(load_hosts)} load hosts",
                "list fewer load hosts for --verify",
            )
        say(f"starting the downstream and {plan.describe()} on {service_host.url}")
        downstream = stack.enter_context(
            start_remote_downstream(service_host, port(), cpus=placement.load_cpus)
        )
        config = configure(
            setup.framework, setup.server, cores, workers=setup.workers, threads=setup.threads
        )
        service = stack.enter_context(
            start_remote_service(
                service_host,
                config,
                port(),
                cpus=service_cpus,
                database_url=hosts.database,
                downstream_url=downstream.url,
                extra_env={LAB_FLAG: "1"},
            )
        )
        say(f"warm-up: {warmup_s} s at {target:,.1f} req/s from {len(load_hosts)} load host(s)")
        if warmup_s:
            _paced_load(load_hosts, service.url, path, target, connections, warmup_s)
        load_average = float(service_host.run("cat /proc/loadavg").split()[0])
        say(f"measuring: {seconds} s at {target:,.1f} req/s on {connections} connections")
        sample, paced = _paced_load(load_hosts, service.url, path, target, connections, seconds)
    found = verification(
        plan, profile, here, cores, target, connections, sample, paced, load_average
    )
    where = f"on {hosts.service[0]} (wrk on {', '.join(hosts.load)})"
    return replace(found, where=where)
