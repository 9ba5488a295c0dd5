"""Fixtures for the API and browser tests: the real app under uvicorn."""

from __future__ import annotations

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
