"""The contract implemented the way FastAPI is shipped: ``async def`` routes, Pydantic v2
models, SQLAlchemy 2 async ORM (asyncpg / aiosqlite), dependencies for the database session
and auth, one lifespan-managed ``aiohttp.ClientSession``, and pure ASGI middleware.

ASGI entry point: ``fwbench.services.fastapi_service.app:app``. Database set-up:
``python -m fwbench.services.fastapi_service.bootstrap``.
"""
