"""Database URLs: how results files and commands show them."""

from __future__ import annotations

import pytest

from fwbench.harness.databases import redacted


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:secret@db:5432/x", "postgresql://app@db:5432/x"),
        ("postgresql://app@db/x", "postgresql://app@db/x"),
        ("sqlite:////tmp/a.sqlite3", "sqlite:////tmp/a.sqlite3"),
        ("postgresql://app:p%40ss@[::1]:5432/x", "postgresql://app@[::1]:5432/x"),
    ],
)
def test_database_urls_are_recorded_without_password(url: str, expected: str) -> None:
    assert redacted(url) == expected
