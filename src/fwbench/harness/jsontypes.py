"""The type of a JSON value, for every module that reads or writes JSON documents."""

from __future__ import annotations

from typing import Any

#: A JSON value as ``json.loads`` returns it.
Json = dict[str, Any] | list[Any] | str | int | float | bool | None
