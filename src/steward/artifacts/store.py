"""Artifact store: a small blob interface (local folder or any fsspec URL) plus encryption.

Artifacts are addressed by the SHA-256 of their plaintext, encrypted at rest and verified
on every load.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from steward.artifacts import crypto
from steward.artifacts.crypto import MasterKey
from steward.errors import IntegrityError, NotFound


class BlobStore(Protocol):
    """Where encrypted blobs live. Implementations must make `put` atomic."""

    def put(self, name: str, data: bytes) -> None: ...
    def get(self, name: str) -> bytes: ...
    def exists(self, name: str) -> bool: ...
    def delete(self, name: str) -> None: ...
    def names(self) -> Iterator[str]: ...


class LocalBlobStore:
    """A folder on local disk; writes go to a temp file then rename (atomic on POSIX)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.root / name[:2] / name

    def put(self, name: str, data: bytes) -> None:
        """Store atomically."""
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, name: str) -> bytes:
        """Read a blob or raise `NotFound`."""
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"artifact {name[:12]} is missing from the store") from exc

    def exists(self, name: str) -> bool:
        """Whether the blob exists."""
        return self._path(name).exists()

    def delete(self, name: str) -> None:
        """Remove a blob if present."""
        self._path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        """Every stored blob name."""
        for path in self.root.glob("??/*"):
            if not path.name.startswith(".tmp-"):
                yield path.name


class FsspecBlobStore:
    """Any fsspec filesystem (s3://, gs://, memory://...) for multi-host deployments."""

    def __init__(self, url: str) -> None:
        import fsspec

        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, name: str) -> str:
        return f"{self.root.rstrip('/')}/{name[:2]}/{name}"

    def put(self, name: str, data: bytes) -> None:
        """Object stores replace whole objects, so a single pipe is atomic."""
        self.fs.pipe_file(self._path(name), data)

    def get(self, name: str) -> bytes:
        """Read a blob or raise `NotFound`."""
        try:
            return bytes(self.fs.cat_file(self._path(name)))
        except FileNotFoundError as exc:
            raise NotFound(f"artifact {name[:12]} is missing from the store") from exc

    def exists(self, name: str) -> bool:
        """Whether the blob exists."""
        return bool(self.fs.exists(self._path(name)))

    def delete(self, name: str) -> None:
        """Remove a blob if present."""
        if self.exists(name):
            self.fs.rm_file(self._path(name))

    def names(self) -> Iterator[str]:
        """Every stored blob name."""
        for path in self.fs.find(self.root):
            yield str(path).rsplit("/", 1)[-1]


def open_blob_store(url: str) -> BlobStore:
    """Pick the blob store for a URL: `file://` → local folder, anything else → fsspec."""
    if url.startswith("file://"):
        return LocalBlobStore(Path(url.removeprefix("file://")))
    if "://" not in url:
        return LocalBlobStore(Path(url))
    return FsspecBlobStore(url)


class ArtifactStore:
    """Content-addressed, encrypted artifacts on top of a blob store."""

    def __init__(self, blobs: BlobStore, master: MasterKey,
                 previous: list[MasterKey] | None = None) -> None:
        self.blobs = blobs
        self._master = master
        self._keys = [master, *(previous or [])]

    def __repr__(self) -> str:
        return f"ArtifactStore({type(self.blobs).__name__})"

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store plaintext; return (sha256 digest, whether a new blob was written)."""
        digest = hashlib.sha256(data).hexdigest()
        if self.blobs.exists(digest):
            return digest, False
        self.blobs.put(digest, crypto.encrypt(data, digest, self._master))
        return digest, True

    def get(self, digest: str) -> bytes:
        """Load, decrypt and verify; tampered or truncated blobs raise `IntegrityError`."""
        return crypto.decrypt(self.blobs.get(digest), digest, self._keys)

    def delete(self, digest: str) -> None:
        """Remove a blob (callers check that nothing references it)."""
        self.blobs.delete(digest)

    def rotate(self, new: MasterKey) -> int:
        """Re-wrap every blob under `new`; return how many were rewritten."""
        count = 0
        for name in list(self.blobs.names()):
            blob = self.blobs.get(name)
            source = next((k for k in self._keys if k.key_id == blob[5:13]), None)
            if source is None:
                raise IntegrityError(f"artifact {name[:12]} is under an unknown master key")
            rewrapped = crypto.rewrap(blob, source, new)
            if rewrapped is not blob:
                self.blobs.put(name, rewrapped)
                count += 1
        self._keys = [new, *self._keys]
        self._master = new
        return count
