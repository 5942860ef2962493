"""API key material: generation, parsing, hashing, constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "stw"


def generate() -> tuple[str, str, str]:
    """Return (key_id, full_key, secret_hash); the full key is shown to the user once."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{PREFIX}_{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    """SHA-256 of the secret; keys are 256-bit random, so no slow KDF is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(full_key: str) -> tuple[str, str] | None:
    """Split `stw_<id>_<secret>` into (key_id, secret), or None if malformed."""
    parts = full_key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(secret: str, secret_hash: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(hash_secret(secret), secret_hash)
