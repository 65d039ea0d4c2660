"""``fwbench run --hosts FILE``: the same points, with the service on a service host and
wrk on every load host at once (docs/hosts.md).

Before measuring, it connects to every host of the hosts file, checks its set-up, and
records the topology (:class:`~.results.Topology`): each host's machine described on the
host, the driver's TCP round trip to it, from each load host the round trip to the
service host, and the CPUs each host gives to what. A host's CPUs are those of its entry
in the hosts file's ``cpus`` table (:meth:`~.hosts.HostsFile.placement`), checked against
the CPUs the host has; a host without one is split as one machine is
(:func:`~.machine.default_placement`): the service on the upper half, the downstream, the
probes and HAProxy on the rest, a load host's wrk on the lower half, so stand-in hosts
that share one machine's CPUs (tests/hosts) never compete with the service.

Each repeat is one wrk per load host, all at once, merged from their histograms
(:mod:`~.generators`). The memory of the service's process tree is sampled on the service
host while each point runs, and cold starts and import time are measured there once a
pair's points are done (``fwbench probe``, :mod:`~.remote_probes`), pinned off the
service's CPUs like the local probes. Each load host's wrk runs one thread per load CPU
of its own and is checked against its own calibration (``fwbench calibrate --hosts``,
:mod:`~.calibrate_hosts`, recorded in the topology); a load host without one (or whose
wrk CPUs the hosts file sets otherwise than that calibration's halves) is named in the
results' notes and its ``generator_bound`` check left out.
Every completed point is written at once; everything started on every host is stopped
on any exit, and by the hosts' guards if fwbench dies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from fwbench.harness import sanity
from fwbench.harness.calibrate_hosts import host_calibration
from fwbench.harness.databases import redacted
from fwbench.harness.display import cold_start_line, point_line
from fwbench.harness.generators import Generator, run_generators, split_connections
from fwbench.harness.hostinfo import tcp_rtt_ms
from fwbench.harness.hosts import HostsFile, ssh_target
from fwbench.harness.load import LoadSpec
from fwbench.harness.machine import describe_machine
from fwbench.harness.process import PortRotation
from fwbench.harness.remote import (
    Remote,
    RemoteService,
    connect_all,
    remote_generator,
    start_remote_balancer,
    start_remote_downstream,
    start_remote_service,
)
from fwbench.harness.remote_probes import RemoteMemorySampler, remote_cold_starts
from fwbench.harness.results import (
    Calibration,
    HostRun,
    LoadSample,
    Machine,
    Placement,
    Point,
    Results,
    RunConfig,
    Topology,
    end_status,
)
from fwbench.harness.runner import replica_cpus, score_latency
from fwbench.harness.scenarios import SCENARIOS
from fwbench.harness.servers import configure


def uncalibrated_note(urls: Sequence[str]) -> str:
    """The results' note naming the load hosts without a calibration that holds."""
    return (
        f"no calibration holds for load host(s) {', '.join(urls)}, so their generator_bound "
        "check is left out; run `fwbench calibrate --hosts FILE` with this run's --connections"
    )


@dataclass(frozen=True)
class HostsLayout:
    """What fwbench found on the hosts before measuring, and where each part runs: made
    by :func:`survey_hosts`, shared by ``run --hosts`` and ``model --hosts``.

    Attributes:
        placement: the service host's service CPUs and the first load host's wrk CPUs
            (what the results file's ``placement`` records).
        spare_cpus: the service host's CPUs that are not the service's: the downstream's
            and the probes'.
        cpus: the usable CPUs of every host, by URL.
        load_cpus: per load host, in the hosts file's order, the CPUs its wrk is pinned to.
        threads: per load host, its wrk threads (one per load CPU of its own).
        calibrations: per load host, its calibration that holds, or None.
        service_machine: the service host's machine, described there.
        topology: what the results file records of the hosts.
    """

    placement: Placement
    spare_cpus: tuple[int, ...]
    cpus: dict[str, tuple[int, ...]]
    load_cpus: tuple[tuple[int, ...], ...]
    threads: tuple[int, ...]
    calibrations: tuple[Calibration | None, ...]
    service_machine: Machine
    topology: Topology

    def uncalibrated(self) -> list[str]:
        """The load hosts without a calibration that holds."""
        return [
            url
            for url, calibration in zip(self.topology.load, self.calibrations, strict=True)
            if calibration is None
        ]

    def notes(self) -> list[str]:
        """The results' note on the load hosts whose ``generator_bound`` check is left
        out: those without a calibration that holds."""
        missing = self.uncalibrated()
        return [uncalibrated_note(missing)] if missing else []

    def host(self, url: str) -> HostRun:
        """What the topology records of host ``url`` (its CPUs among it)."""
        (found,) = (host for host in self.topology.hosts if host.url == url)
        return found

    def generators(self, remotes: Mapping[str, Remote]) -> list[Generator]:
        """One wrk per load host, pinned and threaded as surveyed."""
        return [
            remote_generator(remotes[url], cpus, threads)
            for url, cpus, threads in zip(
                self.topology.load, self.load_cpus, self.threads, strict=True
            )
        ]


def survey_hosts(
    hosts: HostsFile,
    remotes: Mapping[str, Remote],
    *,
    replicas: int = 1,
    state_dir: Path | None = None,
) -> HostsLayout:
    """Describe every host on the host itself, measure the round trips (the driver's to
    each host, each load host's to the service host), place things on each host's CPUs
    (its entry in the hosts file's ``cpus``, else the halves) and find each load host's
    calibration.

    Args:
        hosts: the hosts file.
        remotes: a connection to every host of ``hosts`` (:func:`~.remote.connect_all`).
        replicas: instances of each configuration (HAProxy on the balancer host when
            more than one); default 1.
        state_dir: where the load hosts' calibrations are stored; None: fwbench's state
            directory.

    Raises:
        RemoteError: a description failed on a host.
        HostsFileError: the hosts file's ``cpus`` names a CPU a host does not have.
    """
    service_host = remotes[hosts.service[0]]
    service_target = ssh_target(service_host.url)
    service_facts = service_host.describe()
    placement = hosts.placement(service_host.url, service_facts.cpus)
    records = []
    cpus: dict[str, tuple[int, ...]] = {}
    load_cpus = {}
    threads = {}
    calibrations = {}
    # With replicas, HAProxy runs on the first service host when no balancer is named.
    balancer = hosts.balancer or (hosts.service[0] if replicas > 1 else None)
    for url, remote in remotes.items():
        roles = [role for role in ("service", "load") if url in getattr(hosts, role)]
        roles += ["balancer"] if url == balancer else []
        to_service = None
        facts = service_facts
        if remote is not service_host:
            facts = remote.describe([(service_target.host, service_target.port)])
            to_service = facts.rtt_ms[0]
        cpus[url] = facts.cpus
        # Every host's CPUs are checked here, before anything starts: a CPU the file
        # names that a host lacks is one sentence now, not a taskset failure later.
        service_cpus = hosts.service_cpus(url, facts.cpus) if "service" in roles else None
        side = None
        if remote is service_host or {"load", "balancer"} & set(roles):
            side = hosts.load_cpus(url, facts.cpus)
        calibration = None
        if "load" in roles:
            assert side is not None, "a load host has load CPUs"
            load_cpus[url] = side
            threads[url] = len(side)
            calibration = host_calibration(url, facts, side, state_dir)
            calibrations[url] = calibration
        target = ssh_target(url)
        records.append(
            HostRun(
                url=url,
                roles=tuple(roles),
                machine=facts.machine,
                rtt_ms=tcp_rtt_ms(target.host, target.port),
                rtt_to_service_ms=to_service,
                calibration=calibration,
                service_cpus=service_cpus,
                load_cpus=side,
            )
        )
    topology = Topology(
        driver=describe_machine().hostname,
        hosts=tuple(records),
        service=hosts.service[:replicas],
        load=hosts.load,
        database=redacted(hosts.database) if hosts.database else None,
    )
    ordered = tuple(load_cpus[url] for url in hosts.load)
    return HostsLayout(
        placement=Placement(placement.service_cpus, ordered[0]),
        spare_cpus=placement.load_cpus,
        cpus=cpus,
        load_cpus=ordered,
        threads=tuple(threads[url] for url in hosts.load),
        calibrations=tuple(calibrations[url] for url in hosts.load),
        service_machine=service_facts.machine,
        topology=topology,
    )


class HostsRun:
    """One ``fwbench run --hosts FILE``.

    Args:
        config: the resolved options (each load host runs wrk with one thread per load
            CPU of its own).
        hosts: the hosts file.
        output: the results file, rewritten after every point.
        command: the command line, recorded in the results.
        console: where progress lines are printed.
        ports: TCP ports to use on the service host; None: ones free here.
        state_dir: where the load hosts' calibrations are stored; None: fwbench's state
            directory.
    """

    def __init__(
        self,
        config: RunConfig,
        hosts: HostsFile,
        output: Path,
        *,
        command: Sequence[str],
        console: Console,
        ports: range | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.state_dir = state_dir
        self.hosts = hosts
        self.output = output
        self.command = tuple(command)
        self.console = console
        self.ports = ports
        self.port = PortRotation(ports)
        self.results: Results | None = None
        #: What was found on the hosts (set once connected).
        self._layout: HostsLayout | None = None

    def _save(self, results: Results) -> None:
        self.results = results
        results.write(self.output)

    def execute(self) -> Results:
        """Connect, record the topology, measure every point; return the results.

        On any exception after the results file is started (Ctrl-C included) it records
        the points measured so far as ``interrupted`` or ``failed``, everything started
        on every host is stopped, and the exception propagates.

        Raises:
            FwbenchError: a host cannot be reached or is not set up, a service did not
                start, or wrk failed.
        """
        remotes = connect_all(self.hosts)
        with contextlib.ExitStack() as stack:
            for remote in remotes.values():
                stack.callback(remote.close)
            service_host = remotes[self.hosts.service[0]]
            self.console.print("Describing the hosts and measuring round trips")
            layout = self._layout = survey_hosts(
                self.hosts, remotes, replicas=self.config.replicas, state_dir=self.state_dir
            )
            self._save(
                Results.start(
                    self.command,
                    describe_machine(),
                    layout.placement,
                    self.config,
                    None,
                    layout.notes(),
                ).with_topology(layout.topology)
            )
            try:
                self._measure(stack, remotes, service_host, layout.generators(remotes))
            except BaseException as error:
                self._save(self._current.finished(*end_status(error)))
                raise
        self._save(self._current.finished("complete"))
        return self._current

    @property
    def _current(self) -> Results:
        assert self.results is not None, "execute() starts the results"
        return self.results

    @property
    def _surveyed(self) -> HostsLayout:
        assert self._layout is not None, "execute() surveys the hosts"
        return self._layout

    def _measure(
        self,
        stack: contextlib.ExitStack,
        remotes: dict[str, Remote],
        service_host: Remote,
        generators: list[Generator],
    ) -> None:
        config = self.config
        downstream = None
        # The service host's CPUs not given to the service: the downstream's, and the
        # memory probe's (locally, the sampler runs on the load CPUs, off the service's).
        probe_cpus = self._surveyed.spare_cpus
        if any(SCENARIOS[name].needs_downstream for name in config.scenarios):
            downstream_cpus = probe_cpus
            self.console.print(f"Starting the downstream on {service_host.url}")
            downstream = stack.enter_context(
                start_remote_downstream(service_host, self.port(), cpus=downstream_cpus)
            )
        for framework, server in config.pairs:
            with contextlib.ExitStack() as pair:
                replicas = self._start_replicas(pair, remotes, framework, server, downstream)
                service = replicas[0]
                target = service.url
                if len(replicas) > 1:
                    target = self._start_balancer(pair, remotes, replicas).url
                for replica in replicas:
                    self._save(self._current.with_service(replica.service_run()))
                for scenario in config.scenarios:
                    for connections in config.connections:
                        point = self._point(
                            service,
                            target,
                            downstream,
                            scenario,
                            connections,
                            generators,
                            probe_cpus,
                        )
                        self._save(self._current.with_point(point))
                        self.console.print(point_line(point))
                if config.cold_starts:
                    # As on one machine: timed once the measured services are stopped, on
                    # the first one's CPUs, with its database (kept until the block ends).
                    for replica in replicas:
                        replica.halt()
                    self.console.print(
                        f"Timing {config.cold_starts} cold starts of {framework}/{server} "
                        f"on {service.remote.url}"
                    )
                    cold, imported = remote_cold_starts(
                        service,
                        config.cold_starts,
                        workers=config.workers,
                        downstream_url=downstream.url if downstream else None,
                        ports=self.ports,
                    )
                    self._save(self._current.with_cold_start(cold).with_import_time(imported))
                    self.console.print(cold_start_line(cold, imported.cumulative.median / 1000))

    def _start_replicas(
        self,
        stack: contextlib.ExitStack,
        remotes: dict[str, Remote],
        framework: str,
        server: str,
        downstream: RemoteService | None,
    ) -> list[RemoteService]:
        """Start ``config.replicas`` instances of a pair, spread over the service hosts in
        turn; the instances on one host split its service CPUs as surveyed (the hosts
        file's ``cpus``, else the upper half; :func:`~.runner.replica_cpus`)
        and share one database, prepared once (``database`` of the hosts file is shared by
        all)."""
        config = self.config
        urls = self.hosts.service
        chosen = [urls[i % len(urls)] for i in range(config.replicas)]
        cpus_of: dict[str, list[tuple[int, ...]]] = {}
        for url in dict.fromkeys(chosen):
            service_cpus = self._surveyed.host(url).service_cpus
            assert service_cpus is not None, "the survey placed the service on a service host"
            cpus_of[url] = replica_cpus(service_cpus, chosen.count(url))
        # Behind HAProxy, clients address the replicas by the balancer's address (which a
        # framework that checks the Host header must allow).
        balancer = self.hosts.balancer or self.hosts.service[0]
        served_at = (remotes[balancer].address,) if config.replicas > 1 else ()
        replicas: list[RemoteService] = []
        first: dict[str, RemoteService] = {}
        for url in chosen:
            cpus = cpus_of[url].pop(0)
            remote = remotes[url]
            where = (
                f" (replica {len(replicas) + 1} of {config.replicas})" if len(chosen) > 1 else ""
            )
            self.console.print(f"Starting {framework}/{server} on {url}{where}")
            shared = first.get(url)
            replica = stack.enter_context(
                start_remote_service(
                    remote,
                    configure(framework, server, len(cpus), workers=config.workers),
                    self.port(),
                    cpus=cpus,
                    database_url=shared.database if shared else self.hosts.database,
                    downstream_url=downstream.url if downstream else None,
                    bootstrap=shared is None and (self.hosts.database is None or not replicas),
                    served_at=served_at,
                )
            )
            first.setdefault(url, replica)
            replicas.append(replica)
        return replicas

    def _start_balancer(
        self, stack: contextlib.ExitStack, remotes: dict[str, Remote], replicas: list[RemoteService]
    ) -> RemoteService:
        """HAProxy in front of ``replicas`` on the ``balancer`` host (the first service host
        when absent), pinned to that host's load CPUs as surveyed (the hosts file's
        ``cpus``, else the lower half)."""
        url = self.hosts.balancer or self.hosts.service[0]
        backends = []
        for replica in replicas:
            address, _, port = replica.url.removeprefix("http://").rpartition(":")
            backends.append((address, int(port)))
        cpus = self._surveyed.host(url).load_cpus
        assert cpus is not None, "the survey placed HAProxy on the balancer host"
        self.console.print(f"Starting HAProxy on {url} in front of {len(replicas)} replicas")
        return stack.enter_context(
            start_remote_balancer(remotes[url], self.port(), backends, cpus=cpus)
        )

    def _point(
        self,
        service: RemoteService,
        target: str,
        downstream: RemoteService | None,
        scenario_name: str,
        connections: int,
        generators: list[Generator],
        probe_cpus: tuple[int, ...],
    ) -> Point:
        config = self.config
        scenario = SCENARIOS[scenario_name]
        path = scenario.url_path(config.downstream_latency_ms)
        assert service.config is not None, "a framework service has its configuration"

        def load(seconds: int) -> LoadSample:
            spec = LoadSpec(
                url=target,
                path=path,
                script=scenario.script,
                connections=connections,
                duration_s=seconds,
                threads=config.wrk_threads,
                timeout_s=config.timeout_s,
                script_args=scenario.script_args(service.env["API_TOKEN"]),
            )
            return run_generators(spec, generators)

        latency = config.downstream_latency_ms if scenario_name == "transactions" else 0
        with contextlib.ExitStack() as faults:
            if downstream is not None:
                faults.enter_context(score_latency(downstream.url, latency))
            # With replicas, one instance's tree is not the service's: no memory, as locally.
            sampler = (
                faults.enter_context(RemoteMemorySampler(service, cpus=probe_cpus))
                if target == service.url
                else None
            )
            warmup = load(config.warmup_s) if config.warmup_s else None
            if sampler is not None:
                sampler.steady()
            repeats = [load(config.duration_s) for _ in range(config.repeats)]
        if sampler is not None and sampler.error is not None:
            raise sampler.error
        return Point(
            framework=service.config.framework,
            server=service.config.server,
            scenario=scenario_name,
            path=path,
            connections=connections,
            expected_statuses=tuple(sorted(scenario.expected_statuses)),
            warmup=warmup,
            repeats=tuple(repeats),
            memory=sampler.profile() if sampler is not None else None,
            sanity=sanity.check_point(
                scenario,
                repeats,
                connections,
                config.downstream_latency_ms,
                None,
                [
                    calibration.level(share) if calibration is not None else None
                    for calibration, share in zip(
                        self._surveyed.calibrations,
                        split_connections(connections, len(generators)),
                        strict=True,
                    )
                ],
            ),
        )
