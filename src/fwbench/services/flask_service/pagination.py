"""Keyset pagination shared by ``/transactions`` and ``/audit-log``."""

from __future__ import annotations

from typing import Generic, TypedDict, TypeVar

from sqlalchemy import Select

from .extensions import db
from .models import SurrogateKey

RowT = TypeVar("RowT", bound=SurrogateKey)


class Page(TypedDict, Generic[RowT]):
    """``items`` in id order; ``next`` is the ``after`` cursor of the following page, or
    ``None`` on the last page."""

    items: list[RowT]
    next: int | None


def keyset_page(statement: Select[RowT], limit: int) -> Page[RowT]:
    """Run ``statement`` (already filtered on ``id > after`` and ordered by id) for one page.

    Args:
        statement: A select of one entity with a surrogate key.
        limit: The page size; one extra row is fetched to learn whether more follow.
    """
    rows = list(db.session.scalars(statement.limit(limit + 1)))
    items = rows[:limit]
    return {"items": items, "next": items[-1].id if len(rows) > limit else None}
