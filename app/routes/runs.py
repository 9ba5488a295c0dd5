"""Training runs: create, list, control, and the live event stream."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse

from ..deps import ManagerDep, SettingsDep
from ..schemas import MAX_STORED_INT, RunCreate, RunDetail, RunPage, RunPublic

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.post("", status_code=201, response_model=RunPublic)
def create_run(body: RunCreate, manager: ManagerDep):
    """Queue a training run. It starts when a worker is free; follow it on `/api/runs/{id}/events`."""
    return manager.create(body.model_dump())


@router.get("", response_model=RunPage)
def list_runs(manager: ManagerDep, limit: Annotated[int, Query(ge=1, le=200)] = 20,
              offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0):
    """Runs, newest first."""
    runs, total = manager.page(limit, offset)
    return {"runs": runs, "total": total, "limit": limit, "offset": offset}


@router.get("/{run_id}", response_model=RunDetail)
def get_run(run_id: str, manager: ManagerDep,
            history: Annotated[Literal["full", "metrics"], Query(
                description="`metrics`: per-epoch numbers only, without layer histograms and boundary views")] = "full"):
    """A run's config, status, and its per-epoch metrics history."""
    return {**manager.get(run_id), "history": manager.history(run_id, metrics_only=history == "metrics")}


@router.post("/{run_id}/pause", response_model=RunPublic)
def pause_run(run_id: str, manager: ManagerDep):
    """Pause a running run after its current batch (status becomes `paused`)."""
    return manager.pause(run_id)


@router.post("/{run_id}/resume", response_model=RunPublic)
def resume_run(run_id: str, manager: ManagerDep):
    """Resume a paused run, or an interrupted one from its last checkpoint."""
    return manager.resume(run_id)


@router.post("/{run_id}/stop", response_model=RunPublic)
def stop_run(run_id: str, manager: ManagerDep):
    """Stop a run; the weights trained so far are kept as a model."""
    return manager.stop(run_id)


@router.delete("/{run_id}", status_code=204)
def delete_run(run_id: str, manager: ManagerDep):
    """Delete a run, its events and checkpoints (its model stays)."""
    manager.delete(run_id)


@router.get("/{run_id}/events", response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "Events `status`, `progress`, `epoch`, `done`, `error`, each with an `id`."}})
async def run_events(run_id: str, manager: ManagerDep, settings: SettingsDep,
                     last_event_id: Annotated[int | None, Header()] = None,
                     after: Annotated[int | None, Query(ge=0, le=MAX_STORED_INT, description="start after this event id")] = None):
    """Server-sent events of a run: its history first, then live. Reconnect with
    `Last-Event-ID` (or `?after=`, which a browser's EventSource can send on its first
    connection) to get exactly the events after that id."""
    events = await manager.events(run_id, after=last_event_id if last_event_id is not None else after or 0)
    stream = ({"id": str(e.seq), "event": e.type, "data": e.data} async for e in events)
    return EventSourceResponse(stream, ping=settings.heartbeat_seconds)
