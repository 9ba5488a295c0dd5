"""Fixtures for the API, browser and reliability tests (a plugin of tests/conftest.py): the real app under uvicorn, or in this
process for requests that never start a run.

A server takes about a second to start, so a test module shares one
(``shared_server``, ``shared_api``): its tests see each other's runs and models, so
each looks only at what it created. A test that stops or restarts its server, or
needs it empty, takes one of its own (``server``, ``api``).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.app.live_server import LiveServer


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for the whole test module."""
    live = LiveServer(tmp_path_factory.mktemp("shared") / "data").start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def shared_api(shared_server):
    with httpx.Client(base_url=shared_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def server(tmp_path):
    """A server of the test's own, with an empty data directory."""
    live = LiveServer(tmp_path / "data").start()
    yield live
    live.stop()


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    """The real app in this process (FastAPI's TestClient, lifespan run, SQLite in a tmp
    dir), for requests answered without training: validation, 404s, datasets, OpenAPI."""
    from fastapi.testclient import TestClient

    settings = Settings(data_dir=tmp_path_factory.mktemp("in-process") / "data")
    with TestClient(create_app(settings)) as client:
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
