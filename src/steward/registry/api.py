"""Registry routes: thin; parse, call the service, return a schema."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import ValidationError

from steward.api.deps import SessionDep, StateDep, require
from steward.db import transaction
from steward.errors import InvalidInput, PayloadTooLarge, PermissionDenied
from steward.registry import card as cards
from steward.registry import contract as contracts
from steward.registry import service
from steward.registry.schemas import (
    AliasSet,
    ModelCreate,
    ModelOut,
    StatusSet,
    VersionCreate,
    VersionOut,
    VersionStatus,
)
from steward.security.principal import Principal

router = APIRouter(prefix="/api/v1/models", tags=["registry"])
Reader = Annotated[Principal, Depends(require("models:read"))]
Writer = Annotated[Principal, Depends(require("models:write"))]


@router.post("", status_code=201)
def create_model(spec: ModelCreate, session: SessionDep, who: Writer) -> ModelOut:
    """Register a model name with its metadata."""
    return service.create_model(session=session, spec=spec, actor=who.name)


@router.get("")
def list_models(session: SessionDep, who: Reader) -> list[ModelOut]:
    """Every model the caller may read."""
    return [m for m in service.list_models(session=session)
            if who.allows("models:read", m.name)]


@router.get("/{name}")
def get_model(name: str, session: SessionDep, who: Reader) -> ModelOut:
    """One model with its latest version and aliases."""
    return service.model_out(service.get_model(session=session, name=name))


@router.post("/{name}/versions", status_code=201)
async def register_version(
    name: str, request: Request, state: StateDep, who: Writer,
    artifact: UploadFile, reference_data: UploadFile, metadata: Annotated[str, Form()] = "{}",
) -> VersionOut:
    """Upload an artifact with reference data; validated, profiled and stored as a new version."""
    try:
        meta = VersionCreate.model_validate_json(metadata)
    except ValidationError as exc:
        raise InvalidInput(f"metadata: {exc.errors()[0]['msg']}", field="metadata") from exc
    limit = state.settings.max_upload_mb * 1024 * 1024
    blobs = {}
    for field, upload in (("artifact", artifact), ("reference_data", reference_data)):
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"{field} exceeds {state.settings.max_upload_mb} MB",
                                  field=field)
        if not data:
            raise InvalidInput(f"{field} is empty", field=field)
        blobs[field] = (data, upload.filename or field)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        lambda: service.register_version(
            factory=state.factory, store=state.store, thresholds=state.thresholds,
            model_name=name, meta=meta, artifact=blobs["artifact"][0],
            artifact_filename=blobs["artifact"][1], reference=blobs["reference_data"][0],
            reference_filename=blobs["reference_data"][1], actor=who.name))


@router.get("/{name}/versions")
def list_versions(name: str, session: SessionDep, who: Reader) -> list[VersionOut]:
    """Every version of a model."""
    model = service.get_model(session=session, name=name)
    return [service.version_out(v, name) for v in model.versions]


@router.get("/{name}/versions/{ref}")
def get_version(name: str, ref: str, session: SessionDep, who: Reader) -> VersionOut:
    """A version by number, alias or `latest`."""
    return service.version_out(service.get_version(session=session, name=name, ref=ref), name)


@router.get("/{name}/versions/{ref}/contract", response_class=PlainTextResponse)
def get_contract_yaml(name: str, ref: str, session: SessionDep, who: Reader) -> str:
    """The version's contract as editable YAML."""
    row = service.get_version(session=session, name=name, ref=ref)
    return contracts.contract_to_yaml(contracts.Contract.model_validate(row.contract))


@router.get("/{name}/versions/{ref}/artifact")
def download_artifact(name: str, ref: str, state: StateDep,
                      who: Annotated[Principal, Depends(require("artifacts:download"))]
                      ) -> Response:
    """The decrypted, verified artifact; audited before it is sent, refusable per model."""
    with transaction(state.factory) as session:
        digest, filename = service.artifact_download(session=session, name=name, ref=ref)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "artifact"
    return Response(state.store.get(digest), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"',
                             "X-Artifact-Sha256": digest})


@router.get("/{name}/versions/{ref}/card")
def get_card(name: str, ref: str, session: SessionDep, who: Reader,
             format: str = "json") -> Any:
    """The model card as Model Card Toolkit JSON, Markdown or HTML."""
    card = service.model_card(session=session, name=name, ref=ref)
    if format == "markdown":
        return PlainTextResponse(cards.card_markdown(card), media_type="text/markdown")
    if format == "html":
        return HTMLResponse(cards.card_html(card))
    if format != "json":
        raise InvalidInput("format must be json, markdown or html", field="format")
    return card


@router.patch("/{name}/versions/{ref}")
def set_status(name: str, ref: int, body: StatusSet, session: SessionDep,
               who: Writer) -> VersionOut:
    """Change a version's lifecycle status; staging and production need an approval request."""
    if body.status in (VersionStatus.staging, VersionStatus.production):
        raise PermissionDenied(f"promotion to {body.status.value} needs an approval request "
                               "(POST /api/v1/approvals, `steward approvals request`)")
    return service.set_status(session=session, name=name, version=ref, status=body.status)


@router.delete("/{name}/versions/{ref}", status_code=204)
def delete_version(name: str, ref: int, session: SessionDep, state: StateDep,
                   who: Writer) -> None:
    """Delete a version that no alias or deployment uses."""
    service.delete_version(session=session, store=state.store, name=name, version=ref)


@router.put("/{name}/aliases/{alias}")
def set_alias(name: str, alias: str, body: AliasSet, session: SessionDep,
              who: Writer) -> VersionOut:
    """Point an alias at a version (rollback = re-point)."""
    return service.set_alias(session=session, name=name, alias=alias, version=body.version,
                             actor=who.name)


@router.delete("/{name}/aliases/{alias}", status_code=204)
def delete_alias(name: str, alias: str, session: SessionDep, who: Writer) -> None:
    """Remove an alias."""
    service.delete_alias(session=session, name=name, alias=alias)
