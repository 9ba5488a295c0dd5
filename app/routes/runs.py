"""Training runs: create, list, control, and the live event stream."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse

from ..deps import ManagerDep, SettingsDep
from ..runs import TERMINAL, validate_spec
from ..schemas import MAX_STORED_INT, RunCreate, RunDetail, RunPage, RunPublic

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.post("", status_code=201, response_model=RunPublic)
def create_run(body: RunCreate, manager: ManagerDep, settings: SettingsDep):
    """Queue a training run. It starts when a worker is free; follow it on `/api/runs/{id}/events`."""
    spec = validate_spec(body.model_dump(), settings)
    return manager.create(spec)


@router.get("", response_model=RunPage)
def list_runs(manager: ManagerDep, limit: Annotated[int, Query(ge=1, le=200)] = 20,
              offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0):
    """Runs, newest first."""
    runs, total = manager.storage.list_runs(limit, offset)
    for run in runs:
        run["queue_position"] = manager.queue_position(run["id"])
    return {"runs": runs, "total": total, "limit": limit, "offset": offset}


@router.get("/{run_id}", response_model=RunDetail)
def get_run(run_id: str, manager: ManagerDep,
            history: Annotated[Literal["full", "metrics"], Query(
                description="`metrics`: per-epoch numbers only, without layer histograms and boundary views")] = "full"):
    """A run's config, status, and its per-epoch metrics history."""
    run = manager.get(run_id)
    epochs = manager.storage.epoch_history(run_id)
    if history == "metrics":
        epochs = [{k: v for k, v in m.items() if k not in ("layers", "view")} for m in epochs]
    return {**run, "history": epochs}


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
async def run_events(run_id: str, request: Request, manager: ManagerDep, settings: SettingsDep,
                     last_event_id: Annotated[int | None, Header()] = None,
                     after: Annotated[int | None, Query(ge=0, le=MAX_STORED_INT, description="start after this event id")] = None):
    """Server-sent events of a run: its history first, then live. Reconnect with
    `Last-Event-ID` (or `?after=`, which a browser's EventSource can send on its first
    connection) to get exactly the events after that id."""
    last_event_id = last_event_id if last_event_id is not None else after
    await run_in_threadpool(manager.get, run_id)  # 404 before the stream starts
    queue = manager.subscribe(run_id)  # subscribe before reading history: nothing falls between

    async def stream():
        last = last_event_id or 0
        try:
            for seq, type_, data in await run_in_threadpool(manager.storage.events_after, run_id, last):
                yield {"id": str(seq), "event": type_, "data": data}
                last = seq
                if type_ in ("done", "error"):
                    return
            run = await run_in_threadpool(manager.storage.get_run, run_id)
            if run is None or run["status"] in TERMINAL and run["last_seq"] <= last:
                return
            while True:
                event = await queue.get()
                if event.type == "deleted":
                    return
                if event.seq <= last:
                    continue  # already sent from the history
                yield {"id": str(event.seq), "event": event.type, "data": event.data}
                last = event.seq
                if event.type in ("done", "error"):
                    return
        finally:
            manager.unsubscribe(run_id, queue)

    return EventSourceResponse(stream(), ping=settings.heartbeat_seconds)
