"""A small Python client for the MLP Playground REST API, for scripts and the CLI.

    from app.client import Client
    with Client("http://127.0.0.1:8000") as api:
        run = api.create_run({"dataset": "xor", "layers": [{"units": 4, "activation": "tanh"}], "epochs": 200})
        for event in api.events(run["id"]):
            print(event["event"], event["data"])

Every method returns the server's JSON (``dict``/``list``). An error response
raises :class:`ClientError` with the status and the server's ``detail``; a
server that cannot be reached raises ``httpx.TransportError``.
"""

from __future__ import annotations

import json
import time
from typing import Iterator

import httpx
from httpx_sse import connect_sse

DEFAULT_URL = "http://127.0.0.1:8000"
TERMINAL_EVENTS = ("done", "error")
FINISHED = ("completed", "stopped", "failed")  # run statuses with no more events to come


class ClientError(Exception):
    """The server refused a request: ``status_code`` and its ``detail`` (what to change)."""

    def __init__(self, status_code: int, detail: str):
        super().__init__(f"{status_code}: {detail}")
        self.status_code, self.detail = status_code, detail


def _raise_for_status(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    response.read()
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        detail = response.text or response.reason_phrase
    raise ClientError(response.status_code, str(detail))


class Client:
    """One HTTP connection pool to one server. Use as a context manager, or call :meth:`close`.

    ``transport`` is passed to ``httpx.Client`` (tests use it to inject faults).
    """

    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.timeout = timeout
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        return _raise_for_status(self.http.request(method, path, **kwargs))

    def _json(self, method: str, path: str, **kwargs):
        return self._request(method, path, **kwargs).json()

    # -- runs ---------------------------------------------------------------
    def create_run(self, spec: dict) -> dict:
        """Queue a run of ``spec`` (the body of POST /api/runs); returns the run."""
        return self._json("POST", "/api/runs", json=spec)

    def runs(self, limit: int = 20, offset: int = 0) -> dict:
        """``{"runs": [...], "total", "limit", "offset"}``, newest first."""
        return self._json("GET", "/api/runs", params={"limit": limit, "offset": offset})

    def run(self, run_id: str) -> dict:
        """A run with its per-epoch ``history``."""
        return self._json("GET", f"/api/runs/{run_id}")

    def pause(self, run_id: str) -> dict:
        return self._json("POST", f"/api/runs/{run_id}/pause")

    def resume(self, run_id: str) -> dict:
        return self._json("POST", f"/api/runs/{run_id}/resume")

    def stop(self, run_id: str) -> dict:
        return self._json("POST", f"/api/runs/{run_id}/stop")

    def delete(self, run_id: str) -> None:
        self._request("DELETE", f"/api/runs/{run_id}")

    def events(self, run_id: str, last_event_id: int | None = None, retries: int = 5) -> Iterator[dict]:
        """Follow a run's event stream: yields ``{"id": int, "event": str, "data": dict}``,
        the stored events after ``last_event_id`` first, then live ones, and stops after
        ``done`` or ``error``. A dropped connection is resumed with ``Last-Event-ID``
        (``retries`` times in a row at most, then the transport error is raised)."""
        last, failures = last_event_id, 0
        while True:
            try:
                for event in self._stream(run_id, last):
                    last, failures = event["id"], 0
                    yield event
                    if event["event"] in TERMINAL_EVENTS:
                        return
                # A clean close before done: nothing more to come if the run has ended
                # (e.g. last_event_id was already past its done); else a server going away.
                if self.run(run_id)["status"] in FINISHED:
                    return
                if failures >= retries:
                    raise httpx.ReadError(f"the event stream of run {run_id} keeps closing")
            except httpx.TransportError:
                if failures >= retries:
                    raise
            failures += 1
            time.sleep(0.5 * failures)

    def _stream(self, run_id: str, last_event_id: int | None) -> Iterator[dict]:
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        # No read timeout: a live stream may be quiet between heartbeats; a dead
        # server closes the socket, which ends the read with an error.
        timeout = httpx.Timeout(self.timeout, read=None)
        with connect_sse(self.http, "GET", f"/api/runs/{run_id}/events", headers=headers, timeout=timeout) as source:
            _raise_for_status(source.response)
            for sse in source.iter_sse():
                if not sse.data:
                    # A heartbeat comment: httpx-sse 0.4 yields it as an empty event once an
                    # id was seen (florimondmanca/httpx-sse#35); the SSE spec dispatches nothing.
                    continue
                yield {"id": int(sse.id), "event": sse.event, "data": json.loads(sse.data)}

    # -- models -------------------------------------------------------------
    def models(self, dataset: str | None = None) -> list[dict]:
        """Models, newest first (only ``dataset``'s when given)."""
        return self._json("GET", "/api/models", params={"dataset": dataset} if dataset else None)

    def model(self, model_id: str) -> dict:
        return self._json("GET", f"/api/models/{model_id}")

    def delete_model(self, model_id: str) -> None:
        self._request("DELETE", f"/api/models/{model_id}")

    def predict(self, model_id: str, inputs: list[list[float]]) -> dict:
        """Predictions, probabilities and hidden activations for feature rows."""
        return self._json("POST", f"/api/models/{model_id}/predict", json={"inputs": inputs})

    def predict_image(self, model_id: str, png_bytes: bytes) -> dict:
        """Classify an image file (PNG/JPEG bytes) with an MNIST model."""
        files = {"file": ("image.png", png_bytes, "image/png")}
        return self._json("POST", f"/api/models/{model_id}/predict/image", files=files)

    def download_model(self, model_id: str) -> bytes:
        """The model as zip bytes (model.json + weights.npz)."""
        return self._request("GET", f"/api/models/{model_id}/download").content

    def import_model(self, zip_bytes: bytes) -> dict:
        """Import a zip made by :meth:`download_model`; returns the new model."""
        files = {"file": ("model.zip", zip_bytes, "application/zip")}
        return self._json("POST", "/api/models/import", files=files)

    # -- datasets and presets -----------------------------------------------
    def datasets(self) -> list[dict]:
        return self._json("GET", "/api/datasets")

    def presets(self) -> list[dict]:
        """``[{"name", "description", "spec"}]``; a ``spec`` is a body for :meth:`create_run`."""
        return self._json("GET", "/api/presets")
