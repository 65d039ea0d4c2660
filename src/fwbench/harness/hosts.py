"""The hosts file: which machines run the service, the load, the database, the balancer.

``fwbench run --hosts FILE`` reads a TOML file such as::

    service = ["ssh://bench@app-host"]
    load = ["ssh://bench@load-1", "ssh://bench@load-2"]
    database = "postgresql://bench@db-host:5432/postgres"   # optional
    balancer = "ssh://bench@lb-host"                        # optional
    identity_file = "~/.ssh/fwbench_ed25519"               # optional
    checkout = "/srv/fwbench"                               # optional

into a :class:`HostsFile`, a frozen record validated like every document fwbench owns
(:data:`fwbench.harness.documents.RECORD`). Every mistake is one sentence: an unknown key
names the closest known one, a malformed URL says what the URL should look like.
Whether each host answers is checked when the run connects (:mod:`fwbench.harness.remote`).
See docs/hosts.md.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass as plain_dataclass
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic.dataclasses import dataclass

from fwbench.harness.documents import RECORD, Items, load, problem
from fwbench.harness.errors import FwbenchError

#: Where a hosts-file error tells the user to look.
_SEE: Final = "see docs/hosts.md for the format"


class HostsFileError(FwbenchError):
    """A hosts file that cannot be read or does not fit the format."""


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

    @model_validator(mode="after")
    def _distinct(self) -> HostsFile:
        for role, urls in (("service", self.service), ("load", self.load)):
            if len(set(urls)) != len(urls):
                raise ValueError(f"{role} lists a host twice")
        return self

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every distinct SSH host, service hosts first."""
        every = (*self.service, *self.load, *((self.balancer,) if self.balancer else ()))
        return tuple(dict.fromkeys(every))


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
    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(KEYS)}"
            raise HostsFileError(f"{where} has an unknown key {key!r}", hint)
    try:
        return load(HostsFile, data)
    except ValidationError as error:
        raise HostsFileError(problem(error, where), _SEE) from None
    except ValueError as error:
        raise HostsFileError(f"{where}: {error}", _SEE) from None


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
