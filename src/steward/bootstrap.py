"""First start: data folder, master key, database schema, first admin key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from steward import migrate
from steward.artifacts import MasterKey
from steward.db import make_engine, make_sessionmaker, transaction
from steward.security import service as keys_service
from steward.security.principal import Role
from steward.security.schemas import KeyCreate
from steward.security.tables import ApiKey
from steward.settings import Settings


@dataclass(frozen=True)
class InitResult:
    """What `steward init` did; `admin_key` is set only when a first key was created."""

    database: str
    artifacts: str
    admin_key: str | None

    def __repr__(self) -> str:
        shown = "set" if self.admin_key else "none"
        return f"InitResult(database={self.database!r}, admin_key=<{shown}>)"


def init(settings: Settings) -> InitResult:
    """Idempotent: create what is missing; print-once admin key only on an empty key table."""
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.master_key is None:
        MasterKey.load_or_create(settings.master_key_file)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
        factory = make_sessionmaker(engine)
        admin_key = None
        with transaction(factory) as session:
            if not session.scalar(select(func.count()).select_from(ApiKey)):
                created = keys_service.create_key(
                    session=session, spec=KeyCreate(name="admin", role=Role.admin),
                    created_by="steward init")
                admin_key = created.key
    finally:
        engine.dispose()
    return InitResult(database=settings.redacted_database_url,
                      artifacts=settings.resolved_artifact_url, admin_key=admin_key)


@dataclass(frozen=True)
class RotationResult:
    """What a master-key rotation did; `new_key` is set only when the key lives in the env."""

    rewrapped: int
    key_file: str | None
    new_key: str | None

    def __repr__(self) -> str:
        return f"RotationResult(rewrapped={self.rewrapped}, key_file={self.key_file!r})"


def rotate_master_key(settings: Settings) -> RotationResult:
    """Re-wrap every artifact's data key under a new master key (bodies are not rewritten).

    With a key file, the new key replaces it and the old one is kept beside it as
    `master.key.previous` (still accepted for reading). With `STEWARD_MASTER_KEY`, the new key
    is returned for the operator to put in the environment. Restart servers afterwards.
    """
    from steward.artifacts import ArtifactStore, open_blob_store
    from steward.state import load_master_key

    old = load_master_key(settings)
    new = MasterKey.generate()
    store = ArtifactStore(open_blob_store(settings.resolved_artifact_url), old)
    if settings.master_key is not None:
        return RotationResult(store.rotate(new), None, new.to_b64())
    path = settings.master_key_file
    pending = path.with_name("master.key.next")
    pending.write_text(new.to_b64())  # recoverable if interrupted: both keys are on disk
    pending.chmod(0o600)
    count = store.rotate(new)
    path.replace(path.with_name("master.key.previous"))
    pending.replace(path)
    return RotationResult(count, str(path), None)
