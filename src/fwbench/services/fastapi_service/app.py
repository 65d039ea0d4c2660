"""The application: ``create_app()`` builds it and ``app`` is the ASGI entry point
(``fwbench.services.fastapi_service.app:app``) for uvicorn and granian."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware import Middleware

from fwbench.contract import MAX_BODY_BYTES, openapi_document

from .database import create_engine, create_sessionmaker
from .downstream import create_client
from .httpx_downstream import create_async_client, create_blocking_client
from .middleware import ContractMiddleware
from .problems import install_exception_handlers, problem_schemas
from .routers import accounts, audit, benchmarks, lab, ops, transactions
from .settings import get_extras_off, get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Per worker process: the engine and its pool, the downstream client (and the lab's
    httpx clients). The yielded dict is the lifespan state every request sees as
    ``request.state``."""
    settings = get_settings()
    if settings.sync_route_threads is not None:
        # Starlette's documented way to size the pool its ``def`` routes run in.
        to_thread.current_default_thread_limiter().total_tokens = settings.sync_route_threads
    engine = create_engine(settings.database_url, settings.db_pool_size)
    async with AsyncExitStack() as resources:
        resources.push_async_callback(engine.dispose)
        state: dict[str, Any] = {
            "sessionmaker": create_sessionmaker(engine),
            "downstream": await resources.enter_async_context(create_client(settings)),
        }
        if settings.lab:
            state["httpx_downstream"] = await resources.enter_async_context(
                create_async_client(settings)
            )
            state["blocking_downstream"] = resources.enter_context(create_blocking_client(settings))
        yield state


class ContractApp(FastAPI):
    """FastAPI whose OpenAPI document also carries the problem-details schemas that the
    routes' ``application/problem+json`` responses refer to (FastAPI only collects the
    schemas of response *models*, which are always ``application/json``)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                problem_schemas()
            )
        return super().openapi()


def create_app() -> FastAPI:
    """Build the service from the environment (see :mod:`.settings`)."""
    settings = get_settings()
    contract = openapi_document()["info"]
    app = ContractApp(
        title=contract["title"],
        version=contract["version"],
        description=contract["description"],
        lifespan=lifespan,
        # A JSON API answers 404 for /transactions/ rather than redirecting to /transactions.
        redirect_slashes=False,
        middleware=[
            Middleware(
                ContractMiddleware,
                settings=settings,
                max_bytes=MAX_BODY_BYTES,
                extras_off=get_extras_off(),
            )
        ],
    )
    # Routes are matched in declaration order, so the hot, cheap benchmark endpoints come
    # first, on the app itself (see routers/benchmarks.py for why not through a router).
    benchmarks.add_to(app)
    own_routes = [route for route in app.router.routes if isinstance(route, APIRoute)]
    routers = [module.router for module in (ops, transactions, accounts, audit)]
    if settings.lab:
        routers.append(lab.router)
    for router in routers:
        app.include_router(router)
    install_exception_handlers(
        app,
        own_routes
        + [route for router in routers for route in router.routes if isinstance(route, APIRoute)],
    )
    return app


app = create_app()
