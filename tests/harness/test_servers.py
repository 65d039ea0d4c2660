"""The server configuration table: supported pairs, documented sizing, command lines."""

from __future__ import annotations

import sys

import pytest

from fwbench.harness.errors import InvalidOption, UnknownServer
from fwbench.harness.servers import (
    FRAMEWORKS,
    SERVERS,
    ServerConfig,
    all_pairs,
    canonical_server,
    configure,
    servers_for,
)

EXPECTED_PAIRS = {
    "fastapi": ("uvicorn", "granian"),
    "flask": ("gunicorn-sync", "gunicorn-gthread", "gunicorn-gevent", "granian"),
    "django": ("gunicorn-sync", "gunicorn-gthread", "uvicorn", "granian"),
}

APPS = {
    ("fastapi", "asgi"): "fwbench.services.fastapi_service.app:app",
    ("flask", "wsgi"): "fwbench.services.flask_service.wsgi:app",
    ("django", "wsgi"): "fwbench.services.django_service.project.wsgi:application",
    ("django", "asgi"): "fwbench.services.django_service.project.asgi:application",
}


def _option(argv: list[str], flag: str) -> str:
    """The value following ``flag`` in ``argv`` (fails the test when absent)."""
    assert flag in argv, f"{flag} missing from {argv}"
    return argv[argv.index(flag) + 1]


def test_supported_pairs_and_canonical_servers() -> None:
    assert {framework: servers_for(framework) for framework in FRAMEWORKS} == EXPECTED_PAIRS
    assert [canonical_server(f) for f in FRAMEWORKS] == [
        "uvicorn",
        "gunicorn-sync",
        "gunicorn-sync",
    ]
    assert len(all_pairs()) == 10
    assert {server for _, server in all_pairs()} == set(SERVERS)


@pytest.mark.parametrize(("framework", "server"), all_pairs())
def test_command_line_shape(framework: str, server: str) -> None:
    config = configure(framework, server, cores=2)
    argv = config.command("127.0.0.1", 18499)
    assert argv[:2] == [sys.executable, "-m"]
    assert config.app == APPS[framework, config.interface]
    assert argv.count(config.app) == 1
    assert _option(argv, "--workers") == str(config.workers)
    # Access logs stay off: gunicorn has none unless --access-logfile is given.
    assert "--access-logfile" not in argv
    if server == "uvicorn":
        assert argv[2:4] == ["uvicorn", config.app]
        assert (_option(argv, "--host"), _option(argv, "--port")) == ("127.0.0.1", "18499")
        assert (_option(argv, "--loop"), _option(argv, "--http")) == ("uvloop", "httptools")
        assert "--no-access-log" in argv
    elif server == "granian":
        assert (argv[2], argv[-1]) == ("granian", config.app)
        assert _option(argv, "--interface") == config.interface
        assert (_option(argv, "--host"), _option(argv, "--port")) == ("127.0.0.1", "18499")
        assert "--no-access-log" in argv
        assert ("--loop" in argv) == (config.interface == "asgi")
    else:
        assert (argv[2], argv[-1]) == ("gunicorn", config.app)
        assert _option(argv, "--bind") == "127.0.0.1:18499"
        assert _option(argv, "--worker-class") == server.removeprefix("gunicorn-")
        assert (_option(argv, "--timeout"), _option(argv, "--graceful-timeout")) == ("30", "10")
        assert "--no-control-socket" in argv


def test_interfaces() -> None:
    assert configure("fastapi", "granian", 1).interface == "asgi"
    assert configure("flask", "granian", 1).interface == "wsgi"
    assert configure("django", "granian", 1).interface == "wsgi"
    assert configure("django", "uvicorn", 1).interface == "asgi"


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_documented_sizing(cores: int) -> None:
    sync = configure("flask", "gunicorn-sync", cores)
    assert (sync.workers, sync.threads, sync.connections) == (2 * cores + 1, None, None)
    gthread = configure("django", "gunicorn-gthread", cores)
    assert (gthread.workers, gthread.threads) == (2 * cores + 1, 2 * cores)
    gevent = configure("flask", "gunicorn-gevent", cores)
    assert (gevent.workers, gevent.connections) == (2 * cores + 1, 1000)
    assert configure("fastapi", "uvicorn", cores).workers == cores
    granian = configure("flask", "granian", cores)
    assert (granian.workers, granian.threads) == (cores, None)
    assert granian.cores == cores


def test_sizing_flags_reach_the_command_line() -> None:
    gthread = configure("flask", "gunicorn-gthread", 2).command("127.0.0.1", 18499)
    assert _option(gthread, "--threads") == "4"
    gevent = configure("flask", "gunicorn-gevent", 2).command("127.0.0.1", 18499)
    assert _option(gevent, "--worker-connections") == "1000"
    granian = configure("flask", "granian", 2, threads=8).command("127.0.0.1", 18499)
    assert _option(granian, "--blocking-threads") == "8"
    assert "--blocking-threads" not in configure("flask", "granian", 2).command("h", 1)


@pytest.mark.parametrize(("framework", "server"), all_pairs())
def test_advice_names_its_source(framework: str, server: str) -> None:
    advice = configure(framework, server, 1).advice
    source = "granian" if server == "granian" else server.split("-")[0]
    assert source in advice.lower()
    assert "docs" in advice or "README" in advice


def test_user_overrides_are_recorded() -> None:
    config = configure("flask", "gunicorn-gthread", 1, workers=7, threads=3)
    assert (config.workers, config.threads) == (7, 3)
    assert config.advice.startswith("set by the user (--workers 7, --threads 3)")
    assert "2 x cores + 1" in config.advice


def test_multiprocess_means_more_than_one_worker() -> None:
    assert not configure("fastapi", "uvicorn", 1).multiprocess
    assert configure("fastapi", "uvicorn", 2).multiprocess
    assert configure("flask", "gunicorn-sync", 1).multiprocess


def test_unknown_framework_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownServer, match="use one of: fastapi, flask, django"):
        servers_for("bottle")
    with pytest.raises(UnknownServer, match="unknown framework 'bottle'"):
        configure("bottle", "uvicorn", 1)


def test_unsupported_pair_lists_the_valid_servers() -> None:
    with pytest.raises(UnknownServer) as raised:
        configure("flask", "uvicorn", 1)
    assert str(raised.value) == (
        "flask does not run on server 'uvicorn'; "
        "use one of: gunicorn-sync, gunicorn-gthread, gunicorn-gevent, granian"
    )


@pytest.mark.parametrize(
    ("framework", "server"),
    [("flask", "gunicorn-sync"), ("django", "uvicorn"), ("flask", "gunicorn-gevent")],
)
def test_threads_only_for_threaded_servers(framework: str, server: str) -> None:
    with pytest.raises(InvalidOption, match="has no threads-per-worker setting"):
        configure(framework, server, 1, threads=4)


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_fastapi_threads_size_its_thread_limiter_not_the_server(server: str) -> None:
    config = configure("fastapi", server, 1, threads=160)
    assert config.env == {"SYNC_ROUTE_THREADS": "160"}
    assert "--blocking-threads" not in config.command("h", 1)
    assert configure("fastapi", server, 1).env == {}
    assert configure("flask", "gunicorn-gthread", 1, threads=4).env == {}


@pytest.mark.parametrize("field", ["cores", "workers", "threads"])
def test_counts_below_one_are_refused(field: str) -> None:
    counts: dict[str, int | None] = {"cores": 1, "workers": None, "threads": None, field: 0}
    with pytest.raises(InvalidOption, match=f"--{field} must be at least 1"):
        configure(
            "flask",
            "gunicorn-gthread",
            counts["cores"] or 0,
            workers=counts["workers"],
            threads=counts["threads"],
        )


def test_ipv6_hosts_are_bracketed_for_gunicorn() -> None:
    argv = configure("flask", "gunicorn-sync", 1).command("::1", 18499)
    assert _option(argv, "--bind") == "[::1]:18499"


def test_config_is_a_frozen_value() -> None:
    config = configure("fastapi", "uvicorn", 1)
    assert isinstance(config, ServerConfig)
    with pytest.raises(AttributeError):
        config.workers = 3  # type: ignore[misc]
