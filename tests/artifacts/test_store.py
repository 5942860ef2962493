"""The artifact store: content addressing, encryption at rest, integrity, rotation, fsspec."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward.artifacts import ArtifactStore, MasterKey, open_blob_store
from steward.artifacts.store import FsspecBlobStore, LocalBlobStore
from steward.bootstrap import init
from steward.errors import IntegrityError
from steward.settings import Settings
from steward.state import build_state


def test_content_addressed_and_encrypted(tmp_path: Path) -> None:
    store = ArtifactStore(LocalBlobStore(tmp_path), MasterKey.generate())
    digest, created = store.put(b"model bytes" * 100)
    assert created and len(digest) == 64
    assert store.put(b"model bytes" * 100) == (digest, False)  # same content, one blob
    blob = next(p for p in tmp_path.rglob(digest))
    assert b"model bytes" not in blob.read_bytes()  # encrypted at rest
    assert store.get(digest) == b"model bytes" * 100


def test_wrong_key_and_moved_blob_are_refused(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    store = ArtifactStore(blobs, MasterKey.generate())
    a, _ = store.put(b"a")
    with pytest.raises(IntegrityError, match="unknown master key"):
        ArtifactStore(blobs, MasterKey.generate()).get(a)
    b, _ = store.put(b"b")
    blobs.put(b, blobs.get(a))  # swap contents under another address
    with pytest.raises(IntegrityError):
        store.get(b)


def test_fsspec_store_by_url() -> None:
    blobs = open_blob_store("memory://steward-test/artifacts")
    assert isinstance(blobs, FsspecBlobStore)
    store = ArtifactStore(blobs, MasterKey.generate())
    digest, _ = store.put(b"remote")
    assert store.get(digest) == b"remote" and digest in set(blobs.names())
    store.delete(digest)
    assert not blobs.exists(digest)


def test_master_key_rotation_rewraps_every_artifact(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    init(settings)
    state = build_state(settings)
    digest, _ = state.store.put(b"weights")
    state.close()
    old_key = settings.master_key_file.read_text()
    env = {**os.environ, "STEWARD_HOME": str(settings.home)}
    from steward.cli.main import app

    result = CliRunner().invoke(app,
                                ["keys", "rotate-master"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-wrapped 1 artifact" in result.output
    assert settings.master_key_file.read_text() != old_key
    fresh = ArtifactStore(open_blob_store(settings.resolved_artifact_url),
                          MasterKey.from_b64(settings.master_key_file.read_text()))
    assert fresh.get(digest) == b"weights"  # readable with the new key alone
