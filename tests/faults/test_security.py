"""Security basics, tested on real processes: tokens compared in constant time, no
password in what ``fwbench serve`` prints, request bodies over 64 KiB refused before they
are read whole, and Django's /admin/ open to staff logins only, never to the API tokens.
(``/_lab/*`` answering 404 without FWBENCH_LAB=1 is tests/contract/test_lab.py; no token in
any response or service log is checked by the fuzz run, tests/fuzz.)"""

from __future__ import annotations

import ast
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest

import fwbench.services
from fwbench.contract import MAX_BODY_BYTES
from fwbench.harness.process import free_port
from fwbench.harness.servers import FRAMEWORKS
from tests.contract._servers import Service, ServicePool, SuiteError, Target
from tests.faults._postgres import PrivateCluster

SERVICES: Final = Path(fwbench.services.__file__).parent

#: The module of each implementation that checks bearer tokens.
AUTH_MODULES: Final = {
    "fastapi": SERVICES / "fastapi_service" / "security.py",
    "flask": SERVICES / "flask_service" / "auth.py",
    "django": SERVICES / "django_service" / "payments" / "authentication.py",
}

#: Seconds a service may take to refuse an oversized body (it must not wait for the rest).
REFUSAL_S: Final = 30.0


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_tokens_are_compared_in_constant_time(framework: str) -> None:
    """hmac.compare_digest for both tokens, and no ``==`` / ``!=`` on anything named token
    (an early-exit comparison leaks the matching prefix through timing)."""
    tree = ast.parse(AUTH_MODULES[framework].read_text(encoding="utf-8"))
    digests = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "hmac.compare_digest"
    ]
    assert len(digests) >= 2, "each token must be checked with hmac.compare_digest"
    plain = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        and "token" in ast.unparse(node).lower()
    ]
    assert plain == []


@pytest.fixture(scope="module")
def services(private_pool: ServicePool) -> Iterator[dict[str, Service]]:
    """One SQLite instance per implementation."""
    started: dict[str, Service] = {}
    try:
        for framework in FRAMEWORKS:
            started[framework] = private_pool.start(Target(framework, "sqlite"), "security")
        yield started
    except SuiteError as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        for service in started.values():
            service.server.stop()


def _first_line_after_sending(port: int, head: bytes, body: bytes) -> str:
    """Send ``head`` and part of a body, never the rest; return the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=REFUSAL_S) as connection:
        connection.sendall(head + body)
        received = b""
        while b"\r\n" not in received:
            chunk = connection.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n", 1)[0].decode("latin-1")


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_64_kib_is_refused_before_it_is_read_whole(
    framework: str, framing: str, services: dict[str, Service], private_pool: ServicePool
) -> None:
    """The client announces (or streams) far more than 64 KiB and sends only a little more
    than 64 KiB: the 413 must come without the rest, i.e. before the whole body is read."""
    service = services[framework]
    sent = b" " * (MAX_BODY_BYTES + 4096)
    if framing == "content-length":
        framed = f"Content-Length: {100 * 1024 * 1024}\r\n"
        body = sent
    else:
        framed = "Transfer-Encoding: chunked\r\n"
        body = f"{len(sent):x}\r\n".encode() + sent + b"\r\n"  # no last chunk: more to come
    head = (
        "POST /transactions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {private_pool.api_token}\r\n"
        f"Content-Type: application/json\r\n{framed}\r\n"
    ).encode()
    started = time.monotonic()
    status_line = _first_line_after_sending(service.server.port, head, body)
    assert status_line.startswith("HTTP/1.1 413"), status_line
    assert time.monotonic() - started < REFUSAL_S


def _manage(service: Service, pool: ServicePool, *args: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fwbench.services.django_service.project.settings",
        "DATABASE_URL": service.database.url,
        "API_TOKEN": pool.api_token,
        "ADMIN_TOKEN": pool.admin_token,
        "DJANGO_SUPERUSER_PASSWORD": "staff-pass-1",
    }
    subprocess.run(
        [sys.executable, "-m", "django", *args], env=env, check=True, capture_output=True
    )


def _login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None, form.text[:500]
    return client.post(
        "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        },
    )


def test_django_admin_needs_a_staff_login_and_refuses_the_api_tokens(
    services: dict[str, Service], private_pool: ServicePool
) -> None:
    service = services["django"]
    for token in (private_pool.api_token, private_pool.admin_token):
        response = httpx.get(
            f"{service.base_url}/admin/", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 302, response.text[:300]
        assert response.headers["Location"].startswith("/admin/login/")
    _manage(service, private_pool, "createsuperuser", "--noinput", "--username", "staff",
            "--email", "staff@example.com")  # fmt: skip
    _manage(service, private_pool, "shell", "-c",
            "from django.contrib.auth.models import User; "
            "User.objects.create_user('plain', password='plain-pass-1')")  # fmt: skip
    with httpx.Client(base_url=service.base_url) as client:
        refused = _login(client, "plain", "plain-pass-1")
        assert refused.status_code == 200  # the form again, with an error
        assert client.get("/admin/").status_code == 302
    with httpx.Client(base_url=service.base_url) as client:
        accepted = _login(client, "staff", "staff-pass-1")
        assert accepted.status_code == 302, accepted.text[:300]
        assert client.get("/admin/").status_code == 200


def test_fwbench_serve_never_prints_the_database_password(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    """The cluster trusts every local connection, so any password works; it must not
    appear in what ``fwbench serve`` prints (terminals and CI logs keep it)."""
    password = "pw-never-shown-4711"
    port = free_port()
    url = cluster.url.replace("postgres@", f"postgres:{password}@").rsplit("/", 1)[0]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        serve = subprocess.Popen(
            [sys.executable, "-m", "fwbench", "serve", "flask", "--workers", "1",
             "--port", str(port), "--database", f"{url}/fwbench_secret"],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert serve.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert "fwbench: database postgresql://postgres@" in output
    assert password not in output
