"""The hosts file: which machines run the service, the load, the database, the balancer.

``fwbench run --hosts FILE`` reads a TOML file such as::

    service = ["ssh://bench@app-host"]
    load = ["ssh://bench@load-1", "ssh://bench@load-2"]
    database = "postgresql://bench@db-host:5432/postgres"   # optional
    balancer = "ssh://bench@lb-host"                        # optional
    identity_file = "~/.ssh/fwbench_ed25519"               # optional
    checkout = "/srv/fwbench"                               # optional

    [cpus."ssh://bench@app-host"]                           # optional, per host
    service = "2-7"     # the service, its workers and the replicas it runs
    load = "0-1"        # the rest: the downstream, the probes, HAProxy (wrk on a load host)

into a :class:`HostsFile`, a frozen record validated like every document fwbench owns
(:data:`fwbench.harness.documents.RECORD`). Every mistake is one sentence: an unknown key
names the closest known one, a malformed URL says what the URL should look like.
Whether each host answers is checked when the run connects (:mod:`fwbench.harness.remote`),
and whether it has the CPUs ``cpus`` names when the run surveys it
(:meth:`HostsFile.placement`).
See docs/hosts.md.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass as plain_dataclass
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, PlainValidator, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from fwbench.harness.documents import RECORD, FrozenMap, Items, load, problem
from fwbench.harness.errors import FwbenchError
from fwbench.harness.machine import default_placement, format_cpu_list, parse_cpu_list
from fwbench.harness.results import Placement

#: Where a hosts-file error tells the user to look.
_SEE: Final = "see docs/hosts.md for the format"


class HostsFileError(FwbenchError):
    """A hosts file that cannot be read or does not fit the format, or whose ``cpus``
    does not fit a host's CPUs."""


@plain_dataclass(frozen=True)
class SshTarget:
    """An ``ssh://[user@]host[:port]`` URL, taken apart.

    Attributes:
        url: the URL as written, which names the host in results and messages.
        host: the address or name.
        user: the login; None: SSH's own default (the local user, or ~/.ssh/config).
        port: the TCP port, default 22.
    """

    url: str
    host: str
    user: str | None
    port: int


def ssh_target(url: str) -> SshTarget:
    """Take an ``ssh://[user@]host[:port]`` URL apart.

    Raises:
        ValueError: not such a URL (one sentence saying what is expected).
    """
    expected = f"{url!r} is not an ssh://user@host[:port] URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(expected) from None
    if parts.scheme != "ssh" or not parts.hostname or parts.password is not None:
        raise ValueError(expected)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(expected)
    return SshTarget(url=url, host=parts.hostname, user=parts.username, port=port or 22)


def _ssh_url(url: str) -> str:
    ssh_target(url)
    return url


def _database_url(url: str) -> str:
    if urlsplit(url).scheme not in ("postgresql", "postgres"):
        raise ValueError(f"{url!r} is not a postgresql:// URL")
    return url


#: An ``ssh://[user@]host[:port]`` URL.
SshUrl = Annotated[str, AfterValidator(_ssh_url)]


def _cpus(value: Any) -> tuple[int, ...]:
    """A CPU list of the file, a string (:func:`~.machine.parse_cpu_list`), as its CPUs;
    Python code may pass the CPUs themselves, a tuple of numbers."""
    if isinstance(value, tuple) and value and all(type(c) is int and c >= 0 for c in value):
        return tuple(sorted(set(value)))
    if not isinstance(value, str):
        raise ValueError(f'must be a CPU list in quotes like "0-3,6", not {value!r}')
    return parse_cpu_list(value)


def _named(cpus: set[int]) -> str:
    """``CPU 3`` or ``CPUs 8-9``, for messages."""
    return f"CPU{'s' if len(cpus) > 1 else ''} {format_cpu_list(cpus)}"


#: CPUs written in taskset's list format, ``"0-3,6"`` (:func:`~.machine.parse_cpu_list`).
CpuList = Annotated[tuple[int, ...], PlainValidator(_cpus)]


@dataclass(frozen=True, config=RECORD)
class HostCpus:
    """One host's entry of the ``cpus`` table: which of its CPUs fwbench pins what to. A
    key left out is the host's other CPUs (those the other key does not name)."""

    service: CpuList | None = None
    """A service host's CPUs for the service and its workers (and the replicas it runs,
    split among them); null: its CPUs that ``load`` does not name."""
    load: CpuList | None = None
    """The CPUs of everything else fwbench runs on the host: wrk on a load host (one
    thread per CPU); the downstream, fwbench's probes and HAProxy on a service or balancer
    host; null: the host's CPUs that ``service`` does not name."""

    @model_validator(mode="after")
    def _disjoint(self) -> HostCpus:
        if self.service is None and self.load is None:
            raise ValueError("sets neither service nor load")
        shared = set(self.service or ()) & set(self.load or ())
        if shared:
            raise ValueError(
                f"service and load both name {_named(shared)}; a CPU goes to one of them"
            )
        return self


#: The keys of an entry of the ``cpus`` table.
CPU_KEYS: Final = tuple(HostCpus.__dataclass_fields__)


@dataclass(frozen=True, config=RECORD)
class HostsFile:
    """Where ``fwbench run --hosts FILE`` runs each part of a measurement."""

    service: Annotated[Items[SshUrl], Field(min_length=1)]
    """Hosts that run the service (its replicas are spread over them in turn)."""
    load: Annotated[Items[SshUrl], Field(min_length=1)]
    """Load hosts: one wrk each, all at once, their latencies merged from their
    histograms."""
    database: Annotated[str, AfterValidator(_database_url)] | None = None
    """The PostgreSQL server the services use; null: each service host's embedded SQLite."""
    balancer: SshUrl | None = None
    """The host that runs HAProxy in front of the replicas; null: the first service host."""
    identity_file: str | None = None
    """The SSH private key to log in with (``~`` expanded, relative to the hosts file);
    null: SSH's defaults (the agent, ``~/.ssh/id_*``, ``~/.ssh/config``)."""
    checkout: str | None = None
    """The fwbench checkout on every host, set up by the README's commands (its
    ``.venv``) or ``fwbench prepare``; null: the same path as this checkout."""
    cpus: FrozenMap[SshUrl, HostCpus] = Field(default_factory=lambda: MappingProxyType({}))
    """Per host of the file, the CPUs fwbench pins its processes to there; a host left
    out is split in halves (:func:`~.machine.default_placement`): the service on the
    upper half, the rest on the lower."""

    @model_validator(mode="after")
    def _distinct(self) -> HostsFile:
        for role, urls in (("service", self.service), ("load", self.load)):
            if len(set(urls)) != len(urls):
                raise ValueError(f"{role} lists a host twice")
        for url, entry in self.cpus.items():
            if url not in self.hosts:
                raise ValueError(
                    f"cpus names {url}, which is not a host of the file (service, load or balancer)"
                )
            if entry.service is not None and url not in self.service:
                raise ValueError(
                    f"cpus gives {url} service CPUs, and it is not a service host; "
                    "give it load CPUs only"
                )
        return self

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every distinct SSH host, service hosts first."""
        every = (*self.service, *self.load, *((self.balancer,) if self.balancer else ()))
        return tuple(dict.fromkeys(every))

    def placement(self, url: str, cpus: Sequence[int]) -> Placement:
        """Where fwbench runs things on the service host ``url``: its
        :meth:`service_cpus` and its :meth:`load_cpus`.

        Args:
            url: a service host of the file.
            cpus: the CPUs fwbench may use on the host, as found there.

        Raises:
            HostsFileError: as :meth:`service_cpus` and :meth:`load_cpus`.
        """
        return Placement(self.service_cpus(url, cpus), self.load_cpus(url, cpus))

    def service_cpus(self, url: str, cpus: Sequence[int]) -> tuple[int, ...]:
        """The CPUs of the service (every worker, and the replicas the host runs) on the
        service host ``url``: as its ``cpus`` entry says, else the upper half of ``cpus``
        (:func:`~.machine.default_placement`).

        Args:
            url: a service host of the file.
            cpus: the CPUs fwbench may use on the host, as found there.

        Raises:
            HostsFileError: the entry names a CPU the host does not have, or its load CPUs
                take every CPU.
        """
        entry = self.cpus.get(url)
        if entry is None:
            return default_placement(cpus).service_cpus
        return _side(url, cpus, entry, "service")

    def load_cpus(self, url: str, cpus: Sequence[int]) -> tuple[int, ...]:
        """The CPUs of what fwbench runs on host ``url`` beside a service: wrk on a load
        host; the downstream, the probes and HAProxy on a service or balancer host: as
        its ``cpus`` entry says, else the lower half of ``cpus``.

        Args:
            url: a host of the file.
            cpus: the CPUs fwbench may use on the host, as found there.

        Raises:
            HostsFileError: the entry names a CPU the host does not have, or its service
                CPUs take every CPU.
        """
        entry = self.cpus.get(url)
        if entry is None:
            return default_placement(cpus).load_cpus
        return _side(url, cpus, entry, "load")


def _side(url: str, cpus: Sequence[int], entry: HostCpus, key: str) -> tuple[int, ...]:
    """The CPUs ``key`` (``service`` or ``load``) of ``url``'s entry gives, every CPU of
    the entry checked against the host's ``cpus``; a key left out is the host's CPUs the
    other key does not name.

    Raises:
        HostsFileError: the entry names a CPU not in ``cpus``, or ``key`` is left out and
            the other key names every CPU.
    """
    usable = set(cpus)
    for name in CPU_KEYS:
        missing = set(getattr(entry, name) or ()) - usable
        if missing:
            raise HostsFileError(
                f"{url} has no {_named(missing)}, which cpus.{name} of the hosts file names",
                f"name CPUs among {format_cpu_list(usable)}, those fwbench may use there",
            )
    named: tuple[int, ...] | None = getattr(entry, key)
    if named is not None:
        return named
    (other,) = (name for name in CPU_KEYS if name != key)
    rest = tuple(sorted(usable - set(getattr(entry, other))))
    if not rest:
        raise HostsFileError(
            f"cpus.{other} of {url} in the hosts file takes every CPU it has "
            f"({format_cpu_list(usable)}), leaving none for cpus.{key}",
            f"name fewer CPUs in cpus.{other}",
        )
    return rest


#: The keys of a hosts file.
KEYS: Final = tuple(HostsFile.__dataclass_fields__)


def parse_hosts(text: str, where: str = "hosts file") -> HostsFile:
    """Validate a hosts file's TOML text.

    Args:
        text: the TOML.
        where: the name used in messages (the file's path).

    Raises:
        HostsFileError: not TOML, an unknown key, or a value that breaks the format.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise HostsFileError(f"{where} is not TOML ({error})", _SEE) from None
    _known_keys(data, KEYS, where)
    entries = data.get("cpus")
    if isinstance(entries, dict):
        for url, entry in entries.items():
            if isinstance(entry, dict):
                _known_keys(entry, CPU_KEYS, f'{where} cpus."{url}"')
    try:
        return load(HostsFile, data)
    except ValidationError as error:
        raise HostsFileError(problem(error, where), _SEE) from None
    except ValueError as error:
        raise HostsFileError(f"{where}: {error}", _SEE) from None


def _known_keys(table: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    """Refuse a key of ``table`` that is not one of ``keys``, naming the closest one."""
    for key in table:
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(keys)}"
            raise HostsFileError(f"{where} has an unknown key {key!r}", hint)


def read_hosts(path: Path) -> HostsFile:
    """Read and validate a hosts file; a relative ``identity_file`` is made relative to
    the file's directory.

    Raises:
        HostsFileError: unreadable, not TOML, or not a valid hosts file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise HostsFileError(
            f"cannot read the hosts file {path}: {error.strerror}", "check the path"
        ) from None
    hosts = parse_hosts(text, str(path))
    if hosts.identity_file is None:
        return hosts
    identity = path.parent / Path(hosts.identity_file).expanduser()
    return replace(hosts, identity_file=str(identity))
