"""The request body limit: 413 for a body over ``MAX_BODY_BYTES``, by its Content-Length
or, for a streamed (chunked) body, by the bytes actually sent."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from fwbench.contract import MAX_BODY_BYTES


def init_app(app: Flask) -> None:
    """Limit the request bodies of ``app`` to ``MAX_BODY_BYTES``."""
    # Werkzeug refuses a larger Content-Length as soon as the body is read.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(_refuse_oversized_stream)


def _refuse_oversized_stream() -> None:
    # Werkzeug caps a body without Content-Length at the limit, but get_data() then returns
    # the first MAX_CONTENT_LENGTH bytes as if they were the whole body (it raises only on
    # a further read). Reading at most one byte more tells a body over the limit from one
    # exactly at it; the body is cached for the view. Werkzeug ignores Content-Length
    # when the body is chunked, so the header alone decides (read from the environ: this
    # runs on every request).
    if "chunked" not in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    request.max_content_length = MAX_BODY_BYTES + 1
    if len(request.get_data(cache=True)) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
