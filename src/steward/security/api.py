"""Key management routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from steward.api.deps import SessionDep, get_principal, require
from steward.security import service
from steward.security.principal import Principal
from steward.security.schemas import KeyCreate, KeyCreated, KeyOut

router = APIRouter(prefix="/api/v1", tags=["security"])
Admin = Annotated[Principal, Depends(require("keys:admin"))]


@router.post("/keys", status_code=201)
def create_key(spec: KeyCreate, session: SessionDep, who: Admin) -> KeyCreated:
    """Create a key; the response is the only time its secret is shown."""
    return service.create_key(session=session, spec=spec, created_by=who.name, creator=who)


@router.get("/keys")
def list_keys(session: SessionDep, who: Admin) -> list[KeyOut]:
    """Every key (without secrets)."""
    return service.list_keys(session=session)


@router.delete("/keys/{key_id}")
def revoke_key(key_id: str, session: SessionDep, who: Admin) -> KeyOut:
    """Revoke a key everywhere within a second."""
    return service.revoke_key(session=session, key_id=key_id)


@router.get("/whoami")
def whoami(who: Annotated[Principal, Depends(get_principal)]) -> dict[str, object]:
    """The caller's identity and rights."""
    return {"key_id": who.key_id, "name": who.name, "role": who.role.value,
            "scopes": sorted(who.scopes), "environments": sorted(who.environments)}
