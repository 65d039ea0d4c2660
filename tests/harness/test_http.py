"""fwbench's HTTP helper against a real server: the downstream, on IPv6 loopback too."""

from __future__ import annotations

import json

import pytest

from fwbench.harness import http
from fwbench.harness.process import free_port, set_faults, start_downstream
from fwbench.services.downstream.faults import Faults


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_requests_reach_a_server_on_either_loopback(host: str) -> None:
    # start_downstream waits for /healthz through the helper, so starting is a check too.
    with start_downstream(port=free_port(host=host), host=host) as downstream:
        assert downstream.url.startswith("http://[::1]:" if host == "::1" else "http://127.")
        set_faults(downstream.url, Faults(latency_ms=7, score=0.25))
        answer = http.request("GET", f"{downstream.url}/_faults")
        assert answer.ok
        assert answer.headers["content-type"].startswith("application/json")
        assert json.loads(answer.body) == Faults(latency_ms=7, score=0.25).as_json()


def test_nothing_listening_is_an_os_error_naming_the_url() -> None:
    port = free_port(host="::1")
    with pytest.raises(OSError, match=rf"GET http://\[::1\]:{port}/healthz"):
        http.request("GET", f"http://[::1]:{port}/healthz", timeout_s=2)


def test_only_plain_http_is_spoken() -> None:
    with pytest.raises(ValueError, match="plain HTTP"):
        http.request("GET", "https://127.0.0.1:1/healthz")
