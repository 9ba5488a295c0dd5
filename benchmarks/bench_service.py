"""Service latency: predict over HTTP (idle and while two runs train) and epoch
event delivery (epoch end in the worker -> SSE client receipt).

    .venv/bin/python -m benchmarks.bench_service [--requests 300]

Starts the real app under uvicorn on a free port with a temporary data dir.
Goals: predict p50 <= 5 ms and p99 <= 50 ms while training; event latency <= 100 ms.
Ends with one line of key figures as name=value pairs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from httpx_sse import connect_sse

from tests.app.live_server import LiveServer

MNIST_QUICK = {"dataset": "mnist", "dataset_params": {"train_subset": 2000},
               "layers": [{"units": 512, "activation": "relu"}], "epochs": 1}
# Long enough to keep both cores busy while we measure.
MNIST_LONG = {"dataset": "mnist", "layers": [{"units": 512, "activation": "relu"}], "epochs": 3}
# Many short epochs: many epoch events to time.
EVENTS_RUN = {"dataset": "gaussians", "dataset_params": {"n_samples": 4000},
              "layers": [{"units": 64, "activation": "relu"}], "epochs": 40, "batch_size": 32}


def follow(client: httpx.Client, run_id: str) -> list[tuple[float, str, dict]]:
    """(receipt time, event type, data) for every event until done."""
    received = []
    with connect_sse(client, "GET", f"/api/runs/{run_id}/events") as source:
        for sse in source.iter_sse():
            if not sse.data:  # a heartbeat comment (httpx-sse reports it as an empty event)
                continue
            received.append((time.time(), sse.event, json.loads(sse.data)))
            if sse.event in ("done", "error"):
                return received
    return received


def train_model(client: httpx.Client) -> str:
    run_id = client.post("/api/runs", json=MNIST_QUICK).raise_for_status().json()["id"]
    done = follow(client, run_id)[-1][2]
    if done.get("model_id") is None:
        raise SystemExit(f"training the benchmark model failed: {done}")
    return done["model_id"]


def predict_latencies(client: httpx.Client, model_id: str, n: int) -> np.ndarray:
    pixels = np.random.default_rng(0).random(784).round(3).tolist()
    body = {"inputs": [pixels]}
    url = f"/api/models/{model_id}/predict"
    client.post(url, json=body).raise_for_status()  # warm: model loaded and cached
    times = []
    for _ in range(n):
        start = time.perf_counter()
        client.post(url, json=body).raise_for_status()
        times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def event_latencies(client: httpx.Client) -> np.ndarray:
    run_id = client.post("/api/runs", json=EVENTS_RUN).raise_for_status().json()["id"]
    events = follow(client, run_id)
    return np.array([(t - data["ended_at"]) * 1000 for t, kind, data in events if kind == "epoch"])


def wait_running(client: httpx.Client, run_ids: list[str]) -> None:
    while not all(client.get(f"/api/runs/{r}").json()["status"] == "running" for r in run_ids):
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "data", env={"MLP_MAX_CONCURRENT_RUNS": "3"}).start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                model_id = train_model(client)
                idle = predict_latencies(client, model_id, args.requests)
                events_idle = event_latencies(client)
                busy_ids = [client.post("/api/runs", json=MNIST_LONG).json()["id"] for _ in range(2)]
                wait_running(client, busy_ids)
                busy = predict_latencies(client, model_id, args.requests)
                events_busy = event_latencies(client)
                for run_id in busy_ids:
                    client.post(f"/api/runs/{run_id}/stop")
        finally:
            server.stop()

    def pct(a, q):
        return float(np.percentile(a, q))

    print(f"predict, idle:              p50 {pct(idle, 50):6.2f} ms  p99 {pct(idle, 99):6.2f} ms  ({len(idle)} requests)")
    print(f"predict, 2 runs training:   p50 {pct(busy, 50):6.2f} ms  p99 {pct(busy, 99):6.2f} ms  (goal p50 <= 5, p99 <= 50)")
    print(f"epoch event latency, idle:  p50 {pct(events_idle, 50):6.2f} ms  max {events_idle.max():6.2f} ms")
    print(f"epoch event latency, busy:  p50 {pct(events_busy, 50):6.2f} ms  max {events_busy.max():6.2f} ms  (goal <= 100)")
    print(" ".join([
        f"predict_p50_ms={pct(idle, 50):.2f}", f"predict_p99_ms={pct(idle, 99):.2f}",
        f"predict_busy_p50_ms={pct(busy, 50):.2f}", f"predict_busy_p99_ms={pct(busy, 99):.2f}",
        f"event_p50_ms={pct(events_busy, 50):.2f}", f"event_max_ms={events_busy.max():.2f}",
    ]))


if __name__ == "__main__":
    main()
