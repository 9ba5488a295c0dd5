"""The service's health: can it write, how much disk is left, what is it running."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..deps import ManagerDep

router = APIRouter(prefix="/api/health", tags=["health"])


class HealthOut(BaseModel):
    database_writable: bool = Field(description="A write to the database and its directory got through just now.")
    free_disk_bytes: int = Field(description="Free bytes on the data directory's file system.")
    live_workers: int = Field(description="Training worker processes alive.")
    queued: int = Field(description="Runs waiting for a worker.")
    running: int = Field(description="Runs training (or paused) in a worker.")


@router.get("", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "Unhealthy: the database cannot be written"}})
def health(manager: ManagerDep):
    """Whether the service can do its work: **200** when a write to the database and the
    data directory gets through, **503** with the same body when not (the disk is full
    or the directory is read-only). While it is 503, requests that write answer 503
    `{"detail": ...}`; it turns 200 by itself once the disk has room again, no restart."""
    report = manager.health()
    return JSONResponse(report, status_code=200 if report["database_writable"] else 503)
