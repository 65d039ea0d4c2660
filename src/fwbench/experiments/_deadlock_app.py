"""The one setup where mixing sync code into FastAPI truly deadlocks, as a tiny app.

It is the pattern of FastAPI's own full-stack template and SQL tutorial: a sync
(``def``) session dependency, a sync "current user" dependency that queries with that
session, and a sync route. FastAPI runs each ``def`` dependency and the ``def`` route in
anyio's thread pool, which admits 40 threads at once (anyio's default
``CapacityLimiter``). The lookup checks a connection out of SQLAlchemy's pool and keeps
it until the request ends; the route body then needs a thread again. Under more than
40 + pool-size concurrent requests, all 40 threads end up blocked waiting for a pooled
connection, while every connection is held by a request waiting for a thread: nothing
completes until the pool's checkout timeout (30 s by default) fails the waiters.

Below 40 + 15 concurrent requests (threads + the pool's connections) it cannot happen:
some thread is always free for a request that holds a connection.

Served by ``fwbench claims`` only (experiment ``blocking-async``), under uvicorn, on a
SQLite file named by ``FWBENCH_DEADLOCK_DB``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

#: SQLAlchemy's defaults: every file-based SQLite engine gets a QueuePool of 5
#: connections plus 10 overflow, with a 30 s checkout timeout.
engine = create_engine(
    f"sqlite:///{os.environ.get('FWBENCH_DEADLOCK_DB', 'fwbench-deadlock.sqlite3')}"
)


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        if session.get(Account, 1) is None:
            session.add(Account(id=1, name="demo"))
    yield
    engine.dispose()


app = FastAPI(lifespan=lifespan)


def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_account(session: SessionDep) -> Account:
    # The lookup checks a connection out; the session holds it until the request ends.
    account = session.get(Account, 1)
    assert account is not None  # created by the lifespan
    return account


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/accounts/me")
def read_me(
    session: SessionDep, account: Annotated[Account, Depends(current_account)]
) -> dict[str, object]:
    count = session.scalar(select(Account.id).where(Account.id == account.id))
    return {"id": account.id, "name": account.name, "found": count}
