"""Fixtures for the API and browser tests: the real app under uvicorn."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.app.live_server import LiveServer


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path / "data").start()
    yield live
    live.stop()


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright (its own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    from tests.app.browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium or set MLP_CHROMIUM")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh 1280x800 page whose console errors are collected in ``page.console``."""
    from tests.app.browser import DESKTOP, Console

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console = Console(page)
    yield page
    context.close()
