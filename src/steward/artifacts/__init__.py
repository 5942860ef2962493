"""Content-addressed, encrypted, integrity-checked artifact storage."""

from steward.artifacts.crypto import MasterKey
from steward.artifacts.store import ArtifactStore, BlobStore, open_blob_store

__all__ = ["ArtifactStore", "BlobStore", "MasterKey", "open_blob_store"]
