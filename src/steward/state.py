"""The process-wide services built once by the app factory (never at import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from steward.artifacts import ArtifactStore, MasterKey, open_blob_store
from steward.audit import AuditLog
from steward.db import make_engine, make_sessionmaker
from steward.predictions.service import make_sink
from steward.predictions.spool import Spool, SpoolShipper
from steward.registry.quality import QualityThresholds
from steward.security.limits import Limits
from steward.security.oidc import OidcVerifier
from steward.security.service import KeyCache
from steward.settings import Settings
from steward.sync import Revisions
from steward.webhooks import WebhookSender


@dataclass
class AppState:
    """Engine, session factory, artifact store, caches: everything a request may need."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    store: ArtifactStore
    master: MasterKey
    keys: KeyCache
    revisions: Revisions
    spool: Spool  # this process's write-ahead prediction log
    shipper: SpoolShipper  # runs in the background process (or here, in role "all")
    limits: Limits  # gateway hot path: state.limits.check(principal, deployment)
    audit: AuditLog  # gateway denials: state.audit.denied(...), never blocks
    webhooks: WebhookSender
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()

    @property
    def background(self) -> bool:
        """Whether this process runs the background jobs (shipping, monitoring, webhooks)."""
        return self.settings.role in ("all", "background")

    def flush_log(self) -> None:
        """Ship the prediction log now, unless another process is shipping it already."""
        self.spool.drain()
        self.shipper.ship_pass(release=self.settings.role == "serve")

    @property
    def pii_key(self) -> bytes:
        """Key for hashing PII in logs (derived from the master key, never the key itself)."""
        return self.master.derive("pii")

    @property
    def thresholds(self) -> QualityThresholds:
        """Data quality gate thresholds from settings."""
        s = self.settings
        return QualityThresholds(min_completeness=s.min_completeness,
                                 min_type_consistency=s.min_type_consistency,
                                 max_duplicate_rate=s.max_duplicate_rate)


def load_master_key(settings: Settings) -> MasterKey:
    """The master key from `STEWARD_MASTER_KEY`, else the key file made by `steward init`."""
    if settings.master_key is not None:
        return MasterKey.from_b64(settings.master_key.get_secret_value())
    if not settings.master_key_file.exists():
        raise RuntimeError(f"no master key: set STEWARD_MASTER_KEY or run `steward init` "
                           f"(expected {settings.master_key_file})")
    return MasterKey.from_b64(settings.master_key_file.read_text())


def build_state(settings: Settings) -> AppState:
    """Connect to the database and artifact store described by `settings`."""
    engine = make_engine(settings.resolved_database_url)
    factory = make_sessionmaker(engine)
    master = load_master_key(settings)
    previous_file = settings.master_key_file.with_name("master.key.previous")
    previous = [MasterKey.from_b64(previous_file.read_text())] if previous_file.exists() else []
    store = ArtifactStore(open_blob_store(settings.resolved_artifact_url), master, previous)
    oidc = OidcVerifier(settings) if settings.oidc_issuer else None
    keys = KeyCache(factory, oidc)  # API keys and OIDC JWTs: state.keys.authenticate(token)
    revisions = Revisions(factory, settings.sync_interval_s)
    revisions.on_change("keys", keys.invalidate)
    spool = Spool(settings.home / "spool", durability=settings.log_durability)
    shipper = SpoolShipper(settings.home / "spool", make_sink(factory), before_pass=spool.drain)
    audit = AuditLog(factory, master.derive("audit-signing"), max_queue=settings.audit_queue_max,
                     digest_interval_s=settings.audit_digest_interval_s)
    webhooks = WebhookSender(factory, master.derive("webhooks"),
                             max_attempts=settings.webhook_max_attempts)
    return AppState(settings=settings, engine=engine, factory=factory, store=store,
                    master=master, keys=keys, revisions=revisions, spool=spool, shipper=shipper,
                    limits=Limits(factory, settings.sync_interval_s), audit=audit,
                    webhooks=webhooks)


def start_background(state: AppState, monitor: Any) -> None:
    """Start the jobs that must not compete with requests: shipping, monitoring, webhooks."""
    state.shipper.start()
    state.webhooks.start()
    monitor.start()


def stop_background(state: AppState, monitor: Any) -> None:
    """Stop the background jobs, shipping what is left."""
    monitor.stop()
    state.webhooks.stop()
    state.shipper.stop()
