"""The dashboard in a real headless Chromium (Debian's) against a live uvicorn server."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from steward.client import Client
from tests.conftest import Env
from tests.ui.conftest import DEPLOYMENT, MODEL, Seeded, seed

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("STEWARD_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class Live:
    """A uvicorn server in a thread, serving the test env's app."""

    url: str
    seeded: Seeded


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(env: Env, cancer_onnx: bytes, cancer_skops: bytes, rules_yaml: bytes,
         cancer_reference: bytes, cancer_features: pd.DataFrame) -> Iterator[Live]:
    """Start the real app on a free port, seed demo data over HTTP, stop it afterwards."""
    import uvicorn

    from steward.app import create_app

    app = create_app(env.settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on", loop="asyncio"))
    thread = threading.Thread(target=server.run, name="ui-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        with Client(url, env.admin_key) as admin:
            seeded = seed(admin, lambda key: Client(url, key), app.state.steward,
                          onnx=cancer_onnx, skops=cancer_skops, rules=rules_yaml,
                          reference=cancer_reference, features=cancer_features)
        yield Live(url, seeded)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"Chromium not installed at {CHROMIUM} (run scripts/browser-deps as root)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _drawn(page: Any, selector: str) -> int:
    """Number of Plotly plots actually drawn (SVG with at least one trace) under `selector`."""
    page.wait_for_function(
        "s => document.querySelectorAll(s + ' .main-svg .trace').length > 0", arg=selector)
    count: int = page.eval_on_selector_all(
        f"{selector}", "els => els.filter(e => e.querySelector('.main-svg .trace')).length")
    return count


def test_dashboard_in_a_real_browser(live: Live, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live.url}/ui/deployments")
    assert "/ui/login" in page.url
    _shot(page, "login")
    page.fill("#token", live.seeded.keys["approver"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/ui/deployments")
    cookies = {c["name"]: c for c in context.cookies()}
    session_cookie = cookies["steward_session"]
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Strict"
    assert live.seeded.keys["approver"] not in page.content()
    assert page.locator(f"a[href='/ui/deployments/{DEPLOYMENT}']").count() == 1
    _shot(page, "deployments")

    page.goto(f"{live.url}/ui/models")
    assert page.locator(f"a[href='/ui/models/{MODEL}']").count() == 1
    _shot(page, "models")
    page.click(f"a[href='/ui/models/{MODEL}']")
    assert page.locator("text=oncology-ml").count() >= 1
    _shot(page, "model")

    page.goto(f"{live.url}/ui/models/{MODEL}/versions/1")
    assert _drawn(page, ".small-multiples .chart") >= 30
    bars = page.eval_on_selector_all(".small-multiples .main-svg .trace.bars path",
                                      "els => els.length")
    assert bars > 100  # histogram bars, not just empty axes
    assert page.locator("#contract table.features tbody tr").count() == 30
    _shot(page, "version")

    page.goto(f"{live.url}/ui/deployments/{DEPLOYMENT}")
    assert _drawn(page, "[data-figure=split]") == 1
    assert _drawn(page, "[data-figure=rate]") == 1
    assert _drawn(page, "[data-figure=latency]") == 1
    assert page.locator("[data-field=requests]").inner_text() == str(live.seeded.requests)
    assert page.locator("#routes tbody tr").count() >= 2
    _shot(page, "deployment")

    page.goto(f"{live.url}/ui/monitoring/{DEPLOYMENT}")
    assert _drawn(page, "#drift .chart") >= 30
    assert _drawn(page, "[data-figure=mon-latency]") == 1
    assert page.locator("#silent tbody tr").count() >= 1
    _shot(page, "monitoring")

    page.goto(f"{live.url}/ui/approvals")
    card = page.locator(f"#a{live.seeded.approval_id}")
    assert card.locator(".gates tbody tr").count() >= 3
    _shot(page, "approvals")
    card.locator("input[name=reason]").first.fill("rule baseline reviewed")
    card.locator("button:has-text('Approve')").click()
    page.wait_for_url("**/ui/approvals?status=all*")
    decided = page.locator(f"#a{live.seeded.approval_id}")
    assert decided.locator(".status-approved").count() == 1
    assert "rule baseline reviewed" in decided.inner_text()
    _shot(page, "approvals-decided")

    page.goto(f"{live.url}/ui/audit")
    assert "Chain verified" in page.locator("#verdict").inner_text()
    assert page.locator("td code", has_text="approval.approved").count() >= 1
    _shot(page, "audit")

    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/ui/login")
    page.goto(f"{live.url}/ui/models")
    assert "/ui/login" in page.url
    assert errors == []
    context.close()
