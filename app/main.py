"""The ASGI app: ``app.main:app``, built by :func:`create_app` (tests build their own)."""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from .config import REPO_ROOT, Settings
from .errors import ApiError
from .models import ModelLibrary
from .routes import ROUTERS
from .runs import RunManager
from .schemas import ErrorOut, ValidationErrorOut
from .security import RequestGuard
from .storage import STORAGE_FAULTS, Storage, fault_reason

log = logging.getLogger(__name__)

DESCRIPTION = """Train a NumPy multi-layer perceptron and watch it learn.

Create a run with `POST /api/runs`, follow it live on `GET /api/runs/{id}/events`
(server-sent events), then predict with `POST /api/models/{id}/predict`.
Every error answers `{"detail": "what to change"}` with a 4xx status, or 503 while
the data directory cannot be written (`GET /api/health` says when it can again)."""


def _prefix(text: str, length: int = 80) -> str:
    """The start of an echoed input: a huge string sent back whole would double the damage."""
    return text if len(text) <= length else f"{text[:length]}... ({len(text)} characters)"


def _field_errors(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "body")
        msg = err["msg"]
        if isinstance(err.get("input"), (str, int, float)) and err["type"] != "missing":
            msg += f" (got {_prefix(repr(err['input']))})"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        body = {"detail": exc.detail}
        if exc.loc is not None:  # the same shape as request-validation errors, for the page's fields
            body["errors"] = [{"loc": exc.loc, "msg": exc.detail}]
        return JSONResponse(body, status_code=exc.status_code)

    async def storage_fault(request: Request, exc: Exception):
        """A full disk or a read-only data directory: the request may succeed later, untouched."""
        log.error("%s %s: %s", request.method, request.url.path, fault_reason(exc))
        detail = f"{fault_reason(exc)}: try again later; GET /api/health turns 200 when writes get through"
        return JSONResponse({"detail": detail}, status_code=503)

    for fault in STORAGE_FAULTS:
        app.add_exception_handler(fault, storage_fault)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse({"detail": _field_errors(exc), "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if exc.status_code != 404 or request.url.path.startswith("/api") else "page not found"
        headers = exc.headers
        if exc.status_code == 405 and (methods := _methods_at(request)):  # Starlette names one route's only
            headers = {"Allow": ", ".join(methods)}
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)


def _methods_at(request: Request) -> list[str] | None:
    """The methods the API documents at the request's path (for a 405's ``Allow``): the
    path's own entry where it has one (``/api/models/import``), else every template it fits."""
    path, fits = request.url.path, []
    for template, item in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", template), path):
            fits.append((template, {method.upper() for method in item}))
    chosen = [methods for template, methods in fits if template == path] or [methods for _, methods in fits]
    return sorted(set().union(*chosen)) if chosen else None


#: What every API route may answer besides success: the one error shape, documented.
ERROR_RESPONSES = {
    400: {"model": ErrorOut, "description": "The body could not be parsed (a broken multipart upload, say)"},
    404: {"model": ErrorOut, "description": "No such run, model or dataset"},
    409: {"model": ErrorOut, "description": "Not in this state (resume a completed run, say)"},
    413: {"model": ErrorOut, "description": "The body or upload is over its limit"},
    422: {"model": ValidationErrorOut, "description": "Invalid input: `detail` says what to change, `errors[].loc` where"},
    429: {"model": ErrorOut, "description": "The queue is full (MLP_MAX_QUEUED_RUNS)"},
    503: {"model": ErrorOut, "description": "The data directory cannot be written (disk full, read-only): try again later"},
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        storage = Storage(settings.data_dir / "playground.sqlite3")
        models = ModelLibrary(settings, storage)
        manager = RunManager(settings, storage, models)
        manager.start(asyncio.get_running_loop())
        app.state.manager, app.state.models = manager, models
        try:
            yield
        finally:
            manager.shutdown()
            storage.close()

    app = FastAPI(title="MLP Playground", description=DESCRIPTION, version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # served below, from static/vendor: no CDN
    app.state.settings = settings
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    _install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    app.mount("/static", StaticFiles(directory=REPO_ROOT / "static"), name="static")
    templates = Jinja2Templates(directory=REPO_ROOT / "templates")

    @app.get("/", include_in_schema=False)
    def index(request: Request):
        return templates.TemplateResponse(request, "index.html", {})

    @app.get("/inspect", include_in_schema=False)
    def inspect_page(request: Request):
        return templates.TemplateResponse(request, "inspect.html", {})

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request):
        return templates.TemplateResponse(request, "swagger.html", {"title": f"{app.title} - Swagger UI",
                                                                     "openapi_url": app.openapi_url})

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url="/static/vendor/redoc-2.5.4.standalone.js",
                              redoc_favicon_url="/static/vendor/swagger-ui-5.35.0-favicon-32x32.png",
                              with_google_fonts=False)

    return app


app = create_app()
