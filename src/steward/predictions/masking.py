"""PII protection for logged inputs: keyed hashes keep joins possible without plaintext (G5)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any


def pii_token(value: Any, key: bytes) -> str:
    """Deterministic keyed hash (HMAC-SHA256, 16 hex chars) of one value."""
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
    return f"pii:{digest[:16]}"


def mask_columns(columns: Mapping[str, list[Any]], pii: Iterable[str],
                 key: bytes) -> dict[str, list[Any]]:
    """Copy of `columns` with every value of a `pii` feature replaced by its token."""
    pii = set(pii)
    return {name: ([None if v is None else pii_token(v, key) for v in values]
                   if name in pii else values)
            for name, values in columns.items()}
