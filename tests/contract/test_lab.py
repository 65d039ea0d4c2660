"""The /_lab/* experiment endpoints: absent unless FWBENCH_LAB=1, then working."""

from __future__ import annotations

import httpx
import pytest

from tests.contract._checks import assert_problem, describe
from tests.contract._servers import Service

COMMON_LAB = [
    ("POST", "/_lab/rows/seed?count=10"),
    ("GET", "/_lab/rows?mode=all"),
    ("GET", "/_lab/rows?mode=stream"),
    ("GET", "/_lab/rows?mode=page"),
    ("POST", "/_lab/purchases/seed"),
    ("GET", "/_lab/purchases?limit=5&mode=naive"),
    ("GET", "/_lab/purchases?limit=5&mode=eager"),
]

#: Framework-specific lab endpoints and the framework that has them.
OWN_LAB = {
    "/_lab/io-blocking?ms=0": "fastapi",
    "/_lab/io-sync?ms=0": "fastapi",
    "/_lab/io-httpx?ms=0": "fastapi",
    "/_lab/io-async?ms=0": "django",
}

ROWS = 250
PAGE = 100
PAYLOAD_CHARS = 200


@pytest.mark.parametrize(("method", "path"), [*COMMON_LAB, *(("GET", path) for path in OWN_LAB)])
def test_lab_endpoints_do_not_exist_without_the_flag(
    api: httpx.Client, admin_headers: dict[str, str], method: str, path: str
) -> None:
    assert_problem(api.request(method, path, headers=admin_headers), 404)


def test_lab_rows_in_every_mode(lab_api: httpx.Client) -> None:
    seeded = lab_api.post("/_lab/rows/seed", params={"count": ROWS})
    assert seeded.status_code == 200, describe(seeded)
    assert seeded.json() == {"rows": ROWS}
    loaded = lab_api.get("/_lab/rows", params={"mode": "all"})
    assert loaded.status_code == 200, describe(loaded)
    rows = loaded.json()
    assert isinstance(rows, list) and len(rows) == ROWS
    for row in rows:
        assert {"id", "account_id", "amount", "payload"} <= set(row), row
        assert isinstance(row["payload"], str) and len(row["payload"]) == PAYLOAD_CHARS, row
    by_id = sorted(rows, key=lambda row: row["id"])
    assert len({row["id"] for row in rows}) == ROWS
    streamed = lab_api.get("/_lab/rows", params={"mode": "stream"})
    assert streamed.status_code == 200, describe(streamed)
    assert sorted(streamed.json(), key=lambda row: row["id"]) == by_id
    page = lab_api.get("/_lab/rows", params={"mode": "page"})
    assert page.status_code == 200, describe(page)
    assert page.json()["items"] == by_id[:PAGE]


def test_lab_seed_replaces_the_rows(lab_api: httpx.Client) -> None:
    for count in (30, 5, 0):
        seeded = lab_api.post("/_lab/rows/seed", params={"count": count})
        assert seeded.json() == {"rows": count}, describe(seeded)
        assert len(lab_api.get("/_lab/rows", params={"mode": "all"}).json()) == count


@pytest.mark.parametrize("count", ["-1", "200001", "x"])
def test_lab_seed_rejects_a_count_out_of_range(lab_api: httpx.Client, count: str) -> None:
    assert_problem(lab_api.post("/_lab/rows/seed", params={"count": count}), 422)


def test_lab_purchases_naive_issues_one_query_per_merchant_and_eager_few(
    lab_api: httpx.Client,
) -> None:
    seeded = lab_api.post("/_lab/purchases/seed")
    assert 200 <= seeded.status_code < 300, describe(seeded)
    results = {}
    for mode in ("naive", "eager"):
        response = lab_api.get("/_lab/purchases", params={"limit": 20, "mode": mode})
        assert response.status_code == 200, describe(response)
        results[mode] = (response.json(), int(response.headers["X-Query-Count"]))
    (naive, naive_queries), (eager, eager_queries) = results["naive"], results["eager"]
    assert naive == eager
    assert len(naive) == 20
    for purchase in naive:
        assert {"id", "amount", "merchant"} <= set(purchase), purchase
        assert {"id", "name", "category"} <= set(purchase["merchant"]), purchase
    merchants = {purchase["merchant"]["id"] for purchase in naive}
    # One query for the purchases plus at least one per distinct merchant (an ORM's
    # identity map may spare repeated ones), against one or two for eager loading.
    assert naive_queries >= 1 + len(merchants), (naive_queries, len(merchants))
    assert 1 <= eager_queries <= 2, eager_queries


def test_lab_paths_are_not_in_the_openapi_document(lab_api: httpx.Client) -> None:
    paths = lab_api.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/_lab")]


@pytest.mark.parametrize("path", list(OWN_LAB))
def test_framework_specific_lab_endpoints_exist_only_in_their_framework(
    lab_api: httpx.Client, lab_service: Service, path: str
) -> None:
    response = lab_api.get(path)
    if OWN_LAB[path] == lab_service.framework:
        assert response.status_code == 200, describe(response)
    else:
        assert_problem(response, 404)
