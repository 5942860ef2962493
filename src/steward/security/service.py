"""Create, list and revoke keys; authenticate presented keys through a per-worker cache."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward import audit, sync
from steward.db import utcnow
from steward.errors import NotFound, Unauthenticated
from steward.security import keys
from steward.security.authz import check_grant
from steward.security.oidc import OidcVerifier, looks_like_jwt
from steward.security.principal import Principal, Role
from steward.security.schemas import KeyCreate, KeyCreated, KeyOut
from steward.security.tables import ApiKey


def create_key(*, session: Session, spec: KeyCreate, created_by: str | None,
               creator: Principal | None = None) -> KeyCreated:
    """Create a key and return it with its secret, which is never retrievable again."""
    if creator is not None:
        check_grant(creator, spec)
    key_id, full_key, secret_hash = keys.generate()
    expires = utcnow() + timedelta(days=spec.expires_in_days) if spec.expires_in_days else None
    row = ApiKey(id=key_id, name=spec.name, secret_hash=secret_hash, role=spec.role.value,
                 scopes=spec.scopes, environments=spec.environments, purposes=spec.purposes,
                 created_by=created_by, created_at=utcnow(), expires_at=expires,
                 rate_limit_per_minute=spec.rate_limit_per_minute, daily_budget=spec.daily_budget)
    session.add(row)
    session.flush()
    sync.bump(session, "keys")
    out = _out(row)
    audit.record(session, "key.create", f"key:{key_id}", after=out.model_dump(mode="json"))
    return KeyCreated(**out.model_dump(), key=full_key)


def list_keys(*, session: Session) -> list[KeyOut]:
    """Every key, newest first."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())).all()
    return [_out(r) for r in rows]


def revoke_key(*, session: Session, key_id: str) -> KeyOut:
    """Revoke a key; every worker stops accepting it within one sync interval."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"key {key_id!r} not found", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        sync.bump(session, "keys")
        audit.record(session, "key.revoke", f"key:{key_id}", before={"revoked_at": None},
                     after={"revoked_at": row.revoked_at.isoformat()})
    return _out(row)


def _out(row: ApiKey) -> KeyOut:
    return KeyOut(id=row.id, name=row.name, role=Role(row.role), scopes=list(row.scopes),
                  environments=list(row.environments), purposes=list(row.purposes),
                  created_by=row.created_by, created_at=row.created_at,
                  expires_at=row.expires_at, revoked_at=row.revoked_at,
                  rate_limit_per_minute=row.rate_limit_per_minute, daily_budget=row.daily_budget)


@dataclass(frozen=True)
class _CachedKey:
    secret_hash: str
    principal: Principal
    expires_at: datetime | None
    revoked: bool


class KeyCache:
    """Authenticates keys without a DB round trip per request; cleared when keys change."""

    def __init__(self, factory: sessionmaker[Session], oidc: OidcVerifier | None = None) -> None:
        self._factory = factory
        self._oidc = oidc
        self._cache: dict[str, _CachedKey | None] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def invalidate(self) -> None:
        """Forget everything (called when the `keys` revision moves)."""
        with self._lock:
            self._cache = {}
            self._generation += 1

    def authenticate(self, presented: str | None) -> Principal:
        """The principal for a presented API key or OIDC bearer JWT, else `Unauthenticated`.

        The one authentication entry point of the management API and the gateway.
        """
        if not presented:
            raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
        if self._oidc is not None and looks_like_jwt(presented):
            return self._oidc.authenticate(presented)
        parsed = keys.parse(presented)
        if parsed is None:
            raise Unauthenticated("malformed API key")
        key_id, secret = parsed
        entry = self._cache.get(key_id, _MISSING)
        if entry is _MISSING:
            generation = self._generation
            entry = self._load(key_id)
            with self._lock:
                if generation == self._generation:  # a revocation raced us: don't cache stale
                    self._cache[key_id] = entry
        if entry is None or not isinstance(entry, _CachedKey) or \
                not keys.matches(secret, entry.secret_hash):
            raise Unauthenticated("invalid API key")
        if entry.revoked:
            raise Unauthenticated("API key revoked")
        if entry.expires_at is not None and entry.expires_at <= utcnow():
            raise Unauthenticated("API key expired")
        return entry.principal

    def _load(self, key_id: str) -> _CachedKey | None:
        with self._factory() as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                return None
            principal = Principal(
                key_id=row.id, name=row.name, role=Role(row.role), scopes=frozenset(row.scopes),
                environments=frozenset(row.environments), purposes=frozenset(row.purposes),
                rate_limit_per_minute=row.rate_limit_per_minute, daily_budget=row.daily_budget)
            return _CachedKey(row.secret_hash, principal, row.expires_at,
                              row.revoked_at is not None)


_MISSING = object()
