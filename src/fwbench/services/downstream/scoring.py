"""The deterministic fraud score: the same request body always gets the same score."""

from __future__ import annotations

import hashlib
import json

#: A score uses 53 bits of the digest: exactly what a float holds, so it stays below 1.
_BITS = 53


def canonical_json(value: object) -> bytes:
    """``value`` as canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def score(value: object) -> float:
    """A score in [0, 1) from the SHA-256 of ``value``'s canonical JSON, so key order
    and formatting of the request body do not change it."""
    digest = hashlib.sha256(canonical_json(value)).digest()
    top_bits = int.from_bytes(digest[:8], "big") >> (64 - _BITS)
    return top_bits / float(2**_BITS)
