"""Registry and deployment pages: thin handlers over the existing service functions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from steward.api.deps import StateDep
from steward.db import utcnow
from steward.deployments import reports
from steward.deployments import service as deployments
from steward.errors import NotFound
from steward.registry import service as registry
from steward.security.principal import Principal
from steward.ui import charts, queries
from steward.ui.render import SECURITY_HEADERS, UIRoute, page
from steward.ui.session import UI

router = APIRouter(route_class=UIRoute)

Window = Literal["1h", "24h", "7d"]
WINDOWS: dict[str, timedelta] = {"1h": timedelta(hours=1), "24h": timedelta(hours=24),
                                 "7d": timedelta(days=7)}


def _can_read_model(who: Principal, name: str) -> None:
    if not who.allows("models:read", name):
        raise NotFound(f"model {name!r} not found")  # never reveal what may not be read


@router.get("/models")
def models(request: Request, state: StateDep, ui: UI) -> Response:
    """Every model the principal may read."""
    with state.factory() as session:
        rows = [m for m in registry.list_models(session=session)
                if ui.principal.allows("models:read", m.name)]
    return page(request, "models.html", ui, models=rows)


@router.get("/models/{name}")
def model(request: Request, name: str, state: StateDep, ui: UI) -> Response:
    """A model's metadata and its versions with status and aliases."""
    _can_read_model(ui.principal, name)
    with state.factory() as session:
        row = registry.get_model(session=session, name=name)
        out = registry.model_out(row)
        by_version: dict[int, list[str]] = {}
        for alias, number in out.aliases.items():
            by_version.setdefault(number, []).append(alias)
        versions = [{"version": v.version, "status": v.status, "task": v.task,
                     "format": v.artifact_format, "size": v.artifact_size,
                     "created_by": v.created_by, "created_at": v.created_at,
                     "aliases": sorted(by_version.get(v.version, [])),
                     "metrics": (v.lineage or {}).get("metrics") or {}}
                    for v in reversed(row.versions)]
    return page(request, "model.html", ui, model=out, versions=versions)


@router.get("/models/{name}/versions/{ref}")
def version(request: Request, name: str, ref: str, state: StateDep, ui: UI) -> Response:
    """A version: model card, lineage, contract and reference histograms."""
    _can_read_model(ui.principal, name)
    with state.factory() as session:
        row = registry.get_version(session=session, name=name, ref=ref)
        out = registry.version_out(row, name)
        card = registry.model_card(session=session, name=name, ref=out.version)
    features = out.contract.get("features") or []
    profiles = (out.profile or {}).get("features") or {}
    outputs = (out.profile or {}).get("outputs") or {}
    hists = [(f["name"], fig) for f in features
             if (fig := charts.histogram(profiles.get(f["name"]) or {}, f["name"])) is not None]
    output_hists = [(key, fig) for key, prof in outputs.items()
                    if (fig := charts.histogram(prof, key)) is not None]
    return page(request, "version.html", ui, version=out, card=card, features=features,
                profiles=profiles, histograms=hists, output_histograms=output_hists)


@router.get("/deployments")
def deployment_list(request: Request, state: StateDep, ui: UI) -> Response:
    """Deployments the principal may see, in every environment it holds."""
    with state.factory() as session:
        rows = [d for d in deployments.list_deployments(session=session)
                if ui.principal.allows("deployments:read", d.name, d.environment)]
    return page(request, "deployments.html", ui, deployments=rows)


def _deployment(session: Session, who: Principal, name: str) -> Any:
    row = deployments.get_deployment(session=session, name=name)
    if not who.allows("deployments:read", name, row.environment):
        raise NotFound(f"deployment {name!r} not found")
    return row


def _traffic(session: Session, name: str, window: str) -> dict[str, Any]:
    end = utcnow()
    start = end - WINDOWS[window]
    samples = queries.latency_samples(session=session, deployment=name, since=start)
    series = charts.bucket_latency(samples.ts, samples.latency_ms, start.timestamp(),
                                   end.timestamp())
    routes = queries.route_stats(session=session, deployment=name, since=start)
    return {"rate": charts.rate_figure(series), "latency": charts.latency_figure(series),
            "routes": [r.__dict__ for r in routes], "truncated": samples.truncated,
            "requests": int(samples.ts.size)}


@router.get("/deployments/{name}")
def deployment(request: Request, name: str, state: StateDep, ui: UI,
               window: Window = "24h") -> Response:
    """Routing, traffic split, live request rate and latency percentiles, history."""
    with state.factory() as session:
        row = _deployment(session, ui.principal, name)
        out = deployments.deployment_out(session, row)
        history = deployments.events(session=session, name=name)[:20]
        traffic = _traffic(session, name, window)
        shadow = reports.shadow_report(session=session, name=name)["shadows"] \
            if out.shadows else []
        ab = reports.ab_report(session=session, name=name) if out.mode == "ab" else None
    split = charts.traffic_split(out.champion, out.canary, out.canary_share, out.shadows)
    return page(request, "deployment.html", ui, deployment=out, history=history,
                split=split, traffic=traffic, window=window, windows=list(WINDOWS),
                shadow=shadow, ab=ab)


@router.get("/deployments/{name}/traffic.json")
def deployment_traffic(name: str, state: StateDep, ui: UI, window: Window = "24h") -> Response:
    """Fresh traffic figures for the page's live refresh."""
    with state.factory() as session:
        _deployment(session, ui.principal, name)
        traffic = _traffic(session, name, window)
    return JSONResponse(traffic, headers=SECURITY_HEADERS)
