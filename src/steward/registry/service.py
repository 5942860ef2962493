"""Registry logic: models, versions, aliases. Raises the project's errors, never HTTP."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session, sessionmaker

from steward import audit, sync
from steward.artifacts import ArtifactStore
from steward.db import utcnow
from steward.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from steward.registry import card as cards
from steward.registry import contract as contracts
from steward.registry import data as datasets
from steward.registry.quality import QualityThresholds, quality_report
from steward.registry.schemas import (
    ModelCreate,
    ModelOut,
    VersionCreate,
    VersionOut,
    VersionStatus,
    check_name,
)
from steward.registry.tables import Alias, ModelVersion, RegisteredModel
from steward.runtimes import detect_format, load_runtime
from steward.stats import build_profiles


def create_model(*, session: Session, spec: ModelCreate, actor: str) -> ModelOut:
    """Register a new model name with its metadata."""
    if session.scalar(select(RegisteredModel.id).where(RegisteredModel.name == spec.name)):
        raise Conflict(f"model {spec.name!r} already exists", field="name")
    row = RegisteredModel(**spec.model_dump(mode="json"), created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    out = model_out(row)
    audit.record(session, "model.create", f"model:{spec.name}", after=out.model_dump(mode="json"))
    return out


def list_models(*, session: Session) -> list[ModelOut]:
    """Every registered model, by name."""
    rows = session.scalars(select(RegisteredModel).order_by(RegisteredModel.name)).all()
    return [model_out(r) for r in rows]


def get_model(*, session: Session, name: str) -> RegisteredModel:
    """The model row or `NotFound`."""
    row = session.scalar(select(RegisteredModel).where(RegisteredModel.name == name))
    if row is None:
        raise NotFound(f"model {name!r} not found", field="model")
    return row


def get_version(*, session: Session, name: str, ref: str | int) -> ModelVersion:
    """Resolve a version number, `latest`, or an alias name to the version row."""
    model = get_model(session=session, name=name)
    if isinstance(ref, int) or str(ref).isdigit():
        row = session.scalar(select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.version == int(ref)))
    elif ref == "latest":
        row = session.scalar(select(ModelVersion).where(ModelVersion.model_id == model.id)
                             .order_by(ModelVersion.version.desc()).limit(1))
    else:
        alias = session.scalar(select(Alias).where(Alias.model_id == model.id, Alias.name == ref))
        row = alias.version if alias else None
    if row is None:
        raise NotFound(f"model {name!r} has no version {ref!r}", field="version")
    return row


def register_version(
    *, factory: sessionmaker[Session], store: ArtifactStore, thresholds: QualityThresholds,
    model_name: str, meta: VersionCreate, artifact: bytes, artifact_filename: str,
    reference: bytes, reference_filename: str, actor: str,
) -> VersionOut:
    """Validate, profile and store a new immutable version; all-or-nothing."""
    with factory() as session:
        get_model(session=session, name=model_name)  # fail fast before heavy work
    fmt = detect_format(artifact_filename, artifact)
    df = datasets.read_table(reference, reference_filename)
    contract = _contract_for(meta, df)
    quality = quality_report(df, contract, thresholds)
    if not quality.passed and not meta.quality_override:
        raise InvalidInput("reference data failed the quality gate: " + "; ".join(quality.failures)
                           + " (pass a quality_override reason to register anyway)",
                           field="reference_data")
    loaded = load_runtime(fmt, artifact, feature_names=contract.feature_names,
                          trusted=meta.trust_pickle, classes=meta.classes)
    features = _feature_matrix(df, contract)
    try:
        outputs = loaded.runtime.predict(features)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"the model cannot score the reference data: {exc}",
                           field="artifact") from exc
    contract = contract.model_copy(update={"task": loaded.runtime.task,
                                           "outputs": _output_specs(loaded.runtime)})
    profile = {"features": build_profiles({c: df[c].to_numpy() for c in contract.feature_names}),
               "outputs": build_profiles(_output_columns(outputs, loaded.runtime.classes))}
    lineage = {**meta.lineage.model_dump(), "data_fingerprint": datasets.fingerprint(reference),
               "rows": len(df), "schema": datasets.schema_of(df),
               "registered_by": actor, "registered_at": utcnow().isoformat()}

    digest, created = store.put(artifact)
    try:
        with factory() as session, session.begin():
            model = get_model(session=session, name=model_name)
            latest = session.scalar(select(func.max(ModelVersion.version))
                                    .where(ModelVersion.model_id == model.id)) or 0
            row = ModelVersion(
                model_id=model.id, version=latest + 1, status=VersionStatus.registered.value,
                artifact_digest=digest, artifact_format=fmt, artifact_size=len(artifact),
                artifact_filename=artifact_filename, trusted_pickle=meta.trust_pickle,
                task=loaded.runtime.task, contract=contract.model_dump(mode="json"),
                profile=profile, lineage=lineage, quality=quality.model_dump(mode="json"),
                quality_override=meta.quality_override if not quality.passed else None,
                bias_assessment=meta.bias_assessment, cold_start_ms=loaded.cold_start_ms,
                memory_bytes=loaded.memory_bytes, created_by=actor, created_at=utcnow())
            session.add(row)
            session.flush()
            out = version_out(row, model.name)
            audit.record(session, "version.register", f"model:{model.name}:{row.version}",
                         after=_version_summary(row))
    except BaseException as exc:
        if created:  # leave no orphan blob behind a failed registration
            with factory() as session:
                still_used = session.scalar(select(ModelVersion.id)
                                            .where(ModelVersion.artifact_digest == digest))
            if still_used is None:
                store.delete(digest)
        if isinstance(exc, DBIntegrityError):
            raise Conflict("a concurrent registration took this version number; retry") from exc
        raise
    return out


def set_alias(*, session: Session, name: str, alias: str, version: int, actor: str) -> VersionOut:
    """Point `alias` at `version` (creating the alias); rollback is re-pointing."""
    check_alias(alias)
    model = get_model(session=session, name=name)
    target = get_version(session=session, name=name, ref=version)
    row = session.scalar(select(Alias).where(Alias.model_id == model.id, Alias.name == alias))
    audit.record(session, "alias.set", f"model:{name}@{alias}",
                 before={"version": row.version.version} if row else None,
                 after={"version": target.version})
    if row is None:
        row = Alias(model_id=model.id, name=alias, version_id=target.id, updated_by=actor)
        session.add(row)
    else:
        row.version_id, row.updated_by, row.updated_at = target.id, actor, utcnow()
    session.flush()
    sync.bump(session, "aliases")
    session.refresh(target)
    return version_out(target, name)


def delete_alias(*, session: Session, name: str, alias: str) -> None:
    """Remove an alias."""
    model = get_model(session=session, name=name)
    row = session.scalar(select(Alias).where(Alias.model_id == model.id, Alias.name == alias))
    if row is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}", field="alias")
    audit.record(session, "alias.delete", f"model:{name}@{alias}",
                 before={"version": row.version.version})
    session.delete(row)
    sync.bump(session, "aliases")


def set_status(*, session: Session, name: str, version: int, status: VersionStatus) -> VersionOut:
    """Record a lifecycle status change."""
    row = get_version(session=session, name=name, ref=version)
    audit.record(session, "version.status", f"model:{name}:{row.version}",
                 before={"status": row.status}, after={"status": status.value})
    row.status = status.value
    return version_out(row, name)


def delete_version(*, session: Session, store: ArtifactStore, name: str, version: int) -> None:
    """Delete a version nothing uses; its blob goes too unless another version shares it."""
    row = get_version(session=session, name=name, ref=version)
    users = version_users(session=session, version_id=row.id)
    if users:
        raise Conflict(f"version {version} of {name!r} is in use by {', '.join(users)}",
                       field="version")
    digest = row.artifact_digest
    audit.record(session, "version.delete", f"model:{name}:{row.version}",
                 before=_version_summary(row))
    session.delete(row)
    session.flush()
    if session.scalar(select(ModelVersion.id).where(ModelVersion.artifact_digest == digest)) \
            is None:
        store.delete(digest)


def version_users(*, session: Session, version_id: int) -> list[str]:
    """Names of aliases and deployments that point at a version."""
    aliases = session.scalars(select(Alias.name).where(Alias.version_id == version_id)).all()
    users = [f"alias {a!r}" for a in aliases]
    from steward.deployments.service import deployments_using  # late: deployments build on us

    return users + [f"deployment {d!r}" for d in deployments_using(session=session,
                                                                  version_id=version_id)]


def artifact_download(*, session: Session, name: str, ref: str | int) -> tuple[str, str]:
    """Check a download is allowed and audit it; return (digest, filename) (G6)."""
    model = get_model(session=session, name=name)
    if not model.allow_download:
        raise PermissionDenied(f"artifact downloads of {name!r} are disabled")
    row = get_version(session=session, name=name, ref=ref)
    audit.record(session, "artifact.download", f"model:{name}:{row.version}",
                 after={"artifact_digest": row.artifact_digest, "size": row.artifact_size})
    return row.artifact_digest, row.artifact_filename


def model_card(*, session: Session, name: str, ref: str | int) -> dict[str, Any]:
    """Model Card Toolkit JSON for one version, generated from registry data."""
    model = get_model(session=session, name=name)
    version = get_version(session=session, name=name, ref=ref)
    return cards.model_card(model_out(model).model_dump(mode="json"),
                            version_out(version, name).model_dump(mode="json"))


def check_alias(alias: str) -> None:
    """Aliases follow the naming rule of models and may not look like version numbers."""
    try:
        check_name(alias)
    except ValueError as exc:
        raise InvalidInput(f"alias {exc}", field="alias") from exc
    if alias.isdigit() or alias == "latest":
        raise InvalidInput("alias may not be a number or 'latest'", field="alias")


def model_out(row: RegisteredModel) -> ModelOut:
    """Response form of a model, with its latest version and aliases."""
    latest = row.versions[-1].version if row.versions else None
    return ModelOut(
        name=row.name, owner=row.owner, team=row.team, description=row.description,
        use_case=row.use_case, kpi=row.kpi, risk_tier=row.risk_tier,  # type: ignore[arg-type]
        allowed_purposes=list(row.allowed_purposes), tags=list(row.tags),
        runbook_url=row.runbook_url, allow_download=row.allow_download,
        created_by=row.created_by, created_at=row.created_at, latest_version=latest,
        aliases={a.name: a.version.version for a in row.aliases})


def version_out(row: ModelVersion, model_name: str) -> VersionOut:
    """Response form of a version."""
    aliases = [a.name for a in row.model.aliases if a.version_id == row.id]
    return VersionOut(
        model=model_name, version=row.version, status=VersionStatus(row.status), task=row.task,
        artifact_digest=row.artifact_digest, artifact_format=row.artifact_format,
        artifact_size=row.artifact_size, artifact_filename=row.artifact_filename,
        trusted_pickle=row.trusted_pickle, contract=row.contract, profile=row.profile,
        lineage=row.lineage, quality=row.quality, quality_override=row.quality_override,
        bias_assessment=row.bias_assessment, cold_start_ms=row.cold_start_ms,
        memory_bytes=row.memory_bytes, created_by=row.created_by, created_at=row.created_at,
        aliases=aliases)


def _version_summary(row: ModelVersion) -> dict[str, Any]:
    """What the audit trail keeps of a version (never data or profiles)."""
    return {"version": row.version, "status": row.status, "artifact_digest": row.artifact_digest,
            "artifact_format": row.artifact_format, "trusted_pickle": row.trusted_pickle}


def _contract_for(meta: VersionCreate, df: pd.DataFrame) -> contracts.Contract:
    if meta.target is not None and meta.target not in df.columns:
        raise InvalidInput(f"target column {meta.target!r} is not in the reference data",
                           field="target")
    exclude = [*meta.exclude, *([meta.target] if meta.target else [])]
    if meta.contract_yaml:
        contract = contracts.contract_from_yaml(meta.contract_yaml)
        contracts.check_against_data(contract, df)
        return contract
    return contracts.infer_contract(df, pii=meta.pii, protected=meta.protected, exclude=exclude)


def _feature_matrix(df: pd.DataFrame, contract: contracts.Contract) -> np.ndarray:
    """Reference rows in contract order: float32 when all numeric, else object."""
    frame = df[contract.feature_names]
    dtype = np.float32 if all(f.dtype in ("float", "int", "bool")
                              for f in contract.features) else object
    matrix: np.ndarray = frame.to_numpy(dtype=dtype)
    return matrix


def _output_specs(runtime: Any) -> list[contracts.OutputSpec]:
    if runtime.task == "classification":
        return [contracts.OutputSpec(name="label", dtype="string", classes=runtime.classes),
                contracts.OutputSpec(name="probabilities", dtype="float",
                                     classes=runtime.classes)]
    return [contracts.OutputSpec(name="prediction", dtype="float")]


def _output_columns(outputs: dict[str, np.ndarray],
                    classes: list[str] | None) -> dict[str, np.ndarray]:
    """Columns of the output profile: label frequencies and per-class probabilities."""
    if "prediction" in outputs:
        return {"prediction": np.asarray(outputs["prediction"], dtype=np.float64)}
    columns: dict[str, np.ndarray] = {"label": np.asarray(outputs["label"]).astype(str)}
    probs = np.asarray(outputs["probabilities"], dtype=np.float64)
    for i, cls in enumerate(classes or [str(i) for i in range(probs.shape[1])]):
        columns[f"probability:{cls}"] = probs[:, i]
    return columns
