"""The TechEmpower test types (published rules) and the I/O-bound /io endpoint."""

from __future__ import annotations

import html
import re
from collections import defaultdict

import httpx
import pytest

from fwbench.contract import (
    EXTRA_FORTUNE,
    FORTUNES,
    MAX_QUERIES,
    MAX_RANDOM_NUMBER,
    WORLD_ROWS,
)
from tests.contract._checks import (
    assert_date_header,
    assert_problem,
    assert_server_header,
    describe,
)
from tests.contract._servers import Downstream, Faults, Service

BENCHMARK_PATHS = ["/json", "/plaintext", "/db", "/queries?queries=3", "/updates?queries=3"]
BENCHMARK_PATHS += ["/fortunes"]

FORTUNES_HEAD = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
)
FORTUNES_TAIL = "</table></body></html>"
ROW_PATTERN = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", re.DOTALL)


def _expected_fortunes() -> list[tuple[int, str]]:
    return sorted([*FORTUNES, (0, EXTRA_FORTUNE)], key=lambda row: row[1])


def _assert_world(row: object) -> dict[str, int]:
    assert isinstance(row, dict), row
    assert set(row) == {"id", "randomNumber"}, row
    assert isinstance(row["id"], int) and 1 <= row["id"] <= WORLD_ROWS, row
    assert isinstance(row["randomNumber"], int), row
    assert 1 <= row["randomNumber"] <= MAX_RANDOM_NUMBER, row
    return row


@pytest.mark.parametrize("path", BENCHMARK_PATHS)
def test_every_benchmark_response_has_one_server_and_a_current_date_header(
    api: httpx.Client, path: str
) -> None:
    response = api.get(path)
    assert response.status_code == 200, describe(response)
    assert_server_header(response)
    assert_date_header(response)


def test_json(api: httpx.Client) -> None:
    response = api.get("/json")
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Hello, World!"}


def test_plaintext(api: httpx.Client) -> None:
    response = api.get("/plaintext")
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"] == "text/plain"
    assert response.content == b"Hello, World!"


def test_db_returns_one_random_world_row(api: httpx.Client) -> None:
    rows = []
    for _ in range(10):
        response = api.get("/db")
        assert response.status_code == 200, describe(response)
        assert response.headers["content-type"] == "application/json"
        rows.append(_assert_world(response.json()))
    assert len({row["id"] for row in rows}) > 1, "the id is not random"


def test_the_world_table_is_seeded(service: Service) -> None:
    [(count, low, high)] = service.database.fetch("SELECT COUNT(*), MIN(id), MAX(id) FROM world")
    assert (count, low, high) == (WORLD_ROWS, 1, WORLD_ROWS)
    [(smallest, largest)] = service.database.fetch(
        "SELECT MIN(randomnumber), MAX(randomnumber) FROM world"
    )
    assert 1 <= smallest <= largest <= MAX_RANDOM_NUMBER


def test_db_rows_are_what_is_stored(api: httpx.Client, service: Service) -> None:
    rows = [_assert_world(api.get("/db").json()) for _ in range(5)]
    for row in rows:
        [(number,)] = service.database.fetch(
            "SELECT randomnumber FROM world WHERE id = ?", (row["id"],)
        )
        assert number == row["randomNumber"]


QUERY_CASES = [
    pytest.param(None, 1, id="missing"),
    pytest.param("", 1, id="empty"),
    pytest.param("abc", 1, id="text"),
    pytest.param("2.5", 1, id="fraction"),
    pytest.param("0", 1, id="zero"),
    pytest.param("-7", 1, id="negative"),
    pytest.param("1", 1, id="one"),
    pytest.param("20", 20, id="twenty"),
    pytest.param("500", MAX_QUERIES, id="500"),
    pytest.param("501", MAX_QUERIES, id="501"),
    pytest.param("100000", MAX_QUERIES, id="huge"),
]


def _assert_clamped_worlds(api: httpx.Client, path: str, raw: str | None, count: int) -> None:
    """GET ``path`` with ``queries=raw`` (absent when None) answers ``count`` world rows."""
    params = {} if raw is None else {"queries": raw}
    response = api.get(path, params=params)
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"] == "application/json"
    rows = response.json()
    assert isinstance(rows, list)
    assert len(rows) == count
    for row in rows:
        _assert_world(row)


@pytest.mark.parametrize(("raw", "count"), QUERY_CASES)
def test_queries_clamps_its_parameter(api: httpx.Client, raw: str | None, count: int) -> None:
    _assert_clamped_worlds(api, "/queries", raw, count)


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        pytest.param(None, 1, id="missing"),
        pytest.param("abc", 1, id="text"),
        pytest.param("0", 1, id="zero"),
        pytest.param("501", MAX_QUERIES, id="501"),
    ],
)
def test_updates_clamps_its_parameter(api: httpx.Client, raw: str | None, count: int) -> None:
    _assert_clamped_worlds(api, "/updates", raw, count)


def test_updates_returns_what_is_stored_afterwards(api: httpx.Client, service: Service) -> None:
    response = api.get("/updates", params={"queries": "50"})
    assert response.status_code == 200, describe(response)
    rows = [_assert_world(row) for row in response.json()]
    assert len(rows) == 50
    returned: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        returned[row["id"]].append(row["randomNumber"])
    placeholders = ", ".join("?" for _ in returned)
    stored = dict(
        service.database.fetch(
            f"SELECT id, randomnumber FROM world WHERE id IN ({placeholders})",
            tuple(returned),
        )
    )
    for world_id, numbers in returned.items():
        if len(numbers) == 1:
            assert stored[world_id] == numbers[0], (world_id, numbers, stored[world_id])
        else:
            # The same row drawn twice: the stored value is one of those returned.
            assert stored[world_id] in numbers, (world_id, numbers, stored[world_id])


def test_updates_persists_new_numbers_for_the_returned_rows_only(
    api: httpx.Client, service: Service
) -> None:
    """Rows whose number changed are all among the returned ones, and some changed (the
    chance that 200 fresh draws from 1..10000 all equal the old values is 10000**-200)."""
    before = dict(service.database.fetch("SELECT id, randomnumber FROM world"))
    response = api.get("/updates", params={"queries": "200"})
    assert response.status_code == 200, describe(response)
    returned = {row["id"] for row in response.json()}
    after = dict(service.database.fetch("SELECT id, randomnumber FROM world"))
    changed = {world_id for world_id, number in after.items() if before[world_id] != number}
    assert changed
    assert changed <= returned


def _fortune_rows(body: str) -> list[tuple[int, str]]:
    return [(int(row_id), message) for row_id, message in ROW_PATTERN.findall(body)]


def test_fortunes_are_rendered_sorted_and_escaped(api: httpx.Client) -> None:
    response = api.get("/fortunes")
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith(FORTUNES_HEAD), body[:200]
    assert body.endswith(FORTUNES_TAIL), body[-200:]
    rows = _fortune_rows(body)
    assert len(rows) == len(FORTUNES) + 1 == 13
    assert [(row_id, html.unescape(message)) for row_id, message in rows] == _expected_fortunes()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(" in body
    assert "フレームワークのベンチマーク" in body
    assert f"<tr><td>0</td><td>{EXTRA_FORTUNE}</td></tr>" in body


def test_fortunes_markup_is_the_contract_template(api: httpx.Client) -> None:
    """The same document in every implementation once entities are resolved (engines differ
    only in how they spell the entity for a quote)."""
    body = api.get("/fortunes").content.decode("utf-8")
    expected = (
        FORTUNES_HEAD
        + "".join(
            f"<tr><td>{row_id}</td><td>{html.escape(message)}</td></tr>"
            for row_id, message in _expected_fortunes()
        )
        + FORTUNES_TAIL
    )
    assert html.unescape(body) == html.unescape(expected)
    # Outside the escaped characters the bytes are identical.
    normalised = body.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
    assert normalised == expected


def test_benchmark_endpoints_need_no_token_and_ignore_a_bad_one(api: httpx.Client) -> None:
    for path in BENCHMARK_PATHS:
        response = api.get(path, headers={"Authorization": "Bearer wrong"})
        assert response.status_code == 200, describe(response)


# -- /io ------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "waited"), [({}, 0), ({"ms": "0"}, 0), ({"ms": "30"}, 30)])
def test_io_waits_for_the_downstream(
    api: httpx.Client, params: dict[str, str], waited: int
) -> None:
    response = api.get("/io", params=params)
    assert response.status_code == 200, describe(response)
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.json() == {"downstream_ms": waited}


@pytest.mark.parametrize("value", ["-1", "10001", "abc", "1.5"])
def test_io_rejects_an_invalid_delay(api: httpx.Client, value: str) -> None:
    assert_problem(api.get("/io", params={"ms": value}), 422, fields={"ms"})


def test_io_with_a_slow_downstream_is_504(api: httpx.Client, faults: Downstream) -> None:
    """/io waits max(DOWNSTREAM_TIMEOUT, ms/1000 + 1) seconds: 1 s for ms=0."""
    faults.set_faults(Faults(latency_ms=2500))
    assert_problem(api.get("/io", params={"ms": "0"}), 504)


def test_io_with_a_failing_downstream_is_502(api: httpx.Client, faults: Downstream) -> None:
    faults.set_faults(Faults(error_rate=1.0, status=503))
    assert_problem(api.get("/io", params={"ms": "0"}), 502)
