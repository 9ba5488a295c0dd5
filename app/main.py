"""The ASGI app: ``app.main:app``, built by :func:`create_app` (tests build their own)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from .config import Settings, settings as default_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="MLP Playground")
    app.state.settings = settings or default_settings

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return "<!doctype html><title>MLP Playground</title><h1>MLP Playground</h1><p>The page is coming.</p>"

    return app


app = create_app()
