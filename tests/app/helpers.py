"""Shared assertions and SSE reading for the app tests."""

from __future__ import annotations

import json

import httpx
from httpx_sse import connect_sse

XOR_RUN = {"dataset": "xor", "layers": [{"units": 4, "activation": "tanh"}], "init": "xavier",
           "optimizer": {"name": "adam", "lr": 0.05}, "epochs": 150, "batch_size": 4}


def assert_error(response: httpx.Response, status: int, *fragments: str) -> dict:
    """The one error shape: the status, JSON with a string ``detail`` that says what to change."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    for fragment in fragments:
        assert fragment in body["detail"], body["detail"]
    return body


def read_events(client: httpx.Client, run_id: str, last_event_id: int | None = None,
                until=("done", "error"), limit: int | None = None) -> list[dict]:
    """Follow a run's SSE stream with a real SSE client until a terminal event
    (or ``limit`` events); returns [{"id", "event", "data"}]."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    events = []
    with connect_sse(client, "GET", f"/api/runs/{run_id}/events", headers=headers) as source:
        for sse in source.iter_sse():
            if not sse.data:  # a heartbeat comment (httpx-sse reports it as an empty event)
                continue
            events.append({"id": int(sse.id), "event": sse.event, "data": json.loads(sse.data)})
            if sse.event in until or (limit is not None and len(events) >= limit):
                break
    return events
