"""The application factory."""

from __future__ import annotations

from apiflask import APIFlask

from . import audit, downstream, lifecycle, limits, metrics, openapi, problems
from .blueprints import audit_log, benchmarks, lab, ops, transactions
from .extensions import init_database
from .settings import Settings


def create_app(settings: Settings | None = None) -> APIFlask:
    """Build the Flask application.

    Args:
        settings: The configuration; default: read from the environment
            (``Settings.from_env``), which raises ``ConfigError`` when a token is missing.
    """
    settings = settings if settings is not None else Settings.from_env()
    app = APIFlask(__name__, title="fwbench payments service", version="1.0.0")
    app.description = (
        "A payments transactions microservice (the article's fintech case study) plus the "
        "six TechEmpower test types and an I/O-bound endpoint. Money is a decimal string."
    )
    app.config.update(
        API_TOKEN=settings.api_token,
        ADMIN_TOKEN=settings.admin_token,
        # Each operation documents exactly the contract's responses (see openapi.py).
        AUTO_404_RESPONSE=False,
        AUTO_VALIDATION_ERROR_RESPONSE=False,
        AUTO_AUTH_ERROR_RESPONSE=False,
        # The document is cached per process; servers from the first request's Host
        # header would be wrong for every other client.
        AUTO_SERVERS=False,
    )

    app.spec_processor(openapi.require_request_bodies)

    init_database(app, settings.database_url)
    downstream.init_app(
        app, downstream.HttpDownstream(settings.downstream_url, settings.downstream_timeout)
    )
    # Every extra is on unless the fairness benchmark names it in FWBENCH_EXTRAS_OFF.
    off = settings.extras_off
    if not {"request-id", "metrics", "audit"} <= off:
        # The request id, start time and status it records are read by audit and metrics.
        lifecycle.init_app(app, request_ids="request-id" not in off)
    if "body-limit" not in off:
        limits.init_app(app)
    problems.init_app(app)
    if "audit" not in off:
        audit.init_app(app)
    if "metrics" not in off:
        metrics.init_app(app)

    for blueprint in (transactions.bp, audit_log.bp, ops.bp, benchmarks.bp):
        app.register_blueprint(blueprint)
    if settings.lab:
        app.register_blueprint(lab.bp)
    return app
