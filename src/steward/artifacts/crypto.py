"""Envelope encryption of artifacts with AES-256-GCM.

Each artifact gets its own random data key; the data key is wrapped (AES-GCM) by the master
key. Rotating the master key re-wraps only the small headers, never the artifact bodies.

Blob layout: MAGIC(4) | version(1) | key_id(8) | wrap_nonce(12) | wrapped_dek(48)
             | nonce(12) | ciphertext+tag. The SHA-256 content address is bound as
AAD, so a blob moved under another address fails authentication.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from steward.errors import IntegrityError

MAGIC = b"STWA"
VERSION = 1
_HEADER = struct.Struct("4sB8s12s48s12s")
HEADER_SIZE = _HEADER.size


@dataclass(frozen=True)
class MasterKey:
    """The key-encryption key. Its repr never shows the key."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("master key must be 32 bytes (AES-256)")

    def __repr__(self) -> str:
        return f"MasterKey(id={self.key_id.hex()})"

    @property
    def key_id(self) -> bytes:
        """Short fingerprint naming the key inside blob headers."""
        return hashlib.sha256(b"steward-kek" + self.key).digest()[:8]

    @classmethod
    def generate(cls) -> MasterKey:
        """A fresh random key."""
        return cls(AESGCM.generate_key(bit_length=256))

    @classmethod
    def from_b64(cls, text: str) -> MasterKey:
        """Parse the base64 form used in `STEWARD_MASTER_KEY` and key files."""
        try:
            return cls(base64.b64decode(text.strip(), validate=True))
        except (ValueError, TypeError) as exc:
            raise ValueError("master key is not valid base64 of 32 bytes") from exc

    def to_b64(self) -> str:
        """Base64 form for key files."""
        return base64.b64encode(self.key).decode()

    def derive(self, purpose: str) -> bytes:
        """A sub-key for another purpose (e.g. keyed hashing of PII), never the KEK itself."""
        return hashlib.sha256(b"steward-derive:" + purpose.encode() + b":" + self.key).digest()

    @classmethod
    def load_or_create(cls, path: Path) -> MasterKey:
        """Read the key file, creating it (mode 0600) if absent."""
        if path.exists():
            return cls.from_b64(path.read_text())
        path.parent.mkdir(parents=True, exist_ok=True)
        key = cls.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.to_b64())
        return key


def encrypt(plaintext: bytes, digest: str, master: MasterKey) -> bytes:
    """Encrypt an artifact under a fresh data key wrapped by `master`."""
    dek = AESGCM.generate_key(bit_length=256)
    wrap_nonce, nonce = os.urandom(12), os.urandom(12)
    wrapped = AESGCM(master.key).encrypt(wrap_nonce, dek, master.key_id)
    body = AESGCM(dek).encrypt(nonce, plaintext, digest.encode())
    return _HEADER.pack(MAGIC, VERSION, master.key_id, wrap_nonce, wrapped, nonce) + body


def decrypt(blob: bytes, digest: str, masters: list[MasterKey]) -> bytes:
    """Decrypt and verify a blob; raise `IntegrityError` on any tampering or truncation."""
    if len(blob) < HEADER_SIZE + 16:
        raise IntegrityError(f"artifact {digest[:12]} is truncated")
    magic, version, key_id, wrap_nonce, wrapped, nonce = _HEADER.unpack_from(blob)
    if magic != MAGIC or version != VERSION:
        raise IntegrityError(f"artifact {digest[:12]} has an unknown header (tampered?)")
    master = next((m for m in masters if m.key_id == key_id), None)
    if master is None:
        raise IntegrityError(f"artifact {digest[:12]} is encrypted under an unknown master key")
    try:
        dek = AESGCM(master.key).decrypt(wrap_nonce, wrapped, master.key_id)
        plaintext = AESGCM(dek).decrypt(nonce, blob[HEADER_SIZE:], digest.encode())
    except InvalidTag as exc:
        raise IntegrityError(f"artifact {digest[:12]} failed authentication (tampered)") from exc
    if hashlib.sha256(plaintext).hexdigest() != digest:
        raise IntegrityError(f"artifact {digest[:12]} does not match its content address")
    return plaintext


def rewrap(blob: bytes, old: MasterKey, new: MasterKey) -> bytes:
    """Re-wrap a blob's data key under `new` without touching the body."""
    magic, version, key_id, wrap_nonce, wrapped, nonce = _HEADER.unpack_from(blob)
    if key_id == new.key_id:
        return blob
    if key_id != old.key_id:
        raise IntegrityError("artifact is encrypted under neither the old nor the new key")
    try:
        dek = AESGCM(old.key).decrypt(wrap_nonce, wrapped, old.key_id)
    except InvalidTag as exc:
        raise IntegrityError("artifact data key failed authentication") from exc
    new_wrap_nonce = os.urandom(12)
    new_wrapped = AESGCM(new.key).encrypt(new_wrap_nonce, dek, new.key_id)
    header = _HEADER.pack(magic, version, new.key_id, new_wrap_nonce, new_wrapped, nonce)
    return header + blob[HEADER_SIZE:]
