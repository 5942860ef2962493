"""HMAC-SHA256 signatures of webhook bodies; receivers use `verify`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Steward-Signature"
TIMESTAMP_HEADER = "X-Steward-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `<timestamp>.<body>` (the timestamp defeats replays)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Constant-time check of a received signature."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
