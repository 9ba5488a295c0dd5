"""Load and soak: 50 SSE clients follow a training run while 2 runs train and
~20 predicts/s arrive; counts failed requests, event-id gaps and duplicates,
and watches the server's memory and open file descriptors for leaks.

    .venv/bin/python -m benchmarks.bench_load [--seconds 60]

Starts the real app under uvicorn on a free port with a temporary data dir,
trains a small XOR model to predict with, then starts two long MNIST runs and
applies the load for ``--seconds``. Every client checks that the ids it sees
are consecutive from the first event on, across reconnects with
``Last-Event-ID`` (each client also drops its stream on purpose about every
``--reconnect-every`` seconds, to exercise resuming). Server RSS and fds are
read from /proc after a short warm-up of the same load and after the window,
both times with the two runs training and no stream open, so they compare like
with like. SQLite connections (one per threadpool thread, which anyio starts
on demand, up to 40, and ends when idle) are judged apart: they leak only if
they outnumber the server's threads.
Goals: 0 failed requests, 0 id gaps, 0 duplicates, no leak, no orphan process.
Ends with one line of key figures as name=value pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from httpx_sse import aconnect_sse

from benchmarks.bench_service import follow, wait_running
from tests.app.helpers import XOR_RUN
from tests.app.live_server import LiveServer

# Full MNIST, far more epochs than any window: the runs train until we stop them.
MNIST_ENDLESS = {"dataset": "mnist", "layers": [{"units": 512, "activation": "relu"}], "epochs": 1000}
XOR_INPUTS = {"inputs": [[0.0, 1.0], [1.0, 1.0]]}
# Growth past these in the window, with the same runs live and no stream open, looks like a leak:
# a few MiB come from first-time allocations (thread stacks, caches, the allocator's arenas).
LEAK_RSS_MIB = 32
LEAK_FDS = 2
WARMUP_SECONDS = 5


@dataclass
class Tally:
    """What the clients saw, all of them together."""
    failures: Counter = field(default_factory=Counter)  # "predict 503", "events ReadTimeout", ...
    predict_ms: list[float] = field(default_factory=list)
    events: int = 0
    id_gaps: int = 0       # times an id came more than one past the previous
    missing_ids: int = 0   # ids skipped over by those gaps
    duplicates: int = 0    # ids at or below one already seen
    reconnects: int = 0    # on purpose
    drops: int = 0         # streams the server closed, or that failed, before the window ended


@dataclass
class ServerFigures:
    """One look at a process in /proc."""
    rss_mib: float
    fds: int           # all open file descriptors
    db_fds: int        # those on the SQLite database and its WAL (2 per connection)
    db_connections: int
    threads: int

    @classmethod
    def of(cls, pid: int) -> "ServerFigures":
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        targets = []
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass  # closed while we looked
        return cls(rss_mib=int(status["VmRSS"].split()[0]) / 1024, fds=len(targets),
                   db_fds=sum(t.endswith((".sqlite3", ".sqlite3-wal")) for t in targets),
                   db_connections=sum(t.endswith(".sqlite3") for t in targets),
                   threads=int(status["Threads"]))

    def leak_since(self, before: "ServerFigures") -> list[str]:
        """What grew as a leak would, in words (empty: nothing)."""
        other_growth = (self.fds - self.db_fds) - (before.fds - before.db_fds)
        signs = []
        if self.rss_mib - before.rss_mib > LEAK_RSS_MIB:
            signs.append(f"RSS +{self.rss_mib - before.rss_mib:.1f} MiB")
        if other_growth > LEAK_FDS:
            signs.append(f"{other_growth} more fds that are not SQLite's")
        if self.db_connections > self.threads:
            signs.append(f"{self.db_connections} SQLite connections for {self.threads} threads (they outlive threads)")
        return signs


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (the server's session: it, the forkserver, workers)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # it ended while we looked
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry))
    return members


async def follow_events(client: httpx.AsyncClient, run_id: str, end: float,
                        reconnect_every: float, tally: Tally) -> None:
    """One SSE client: follow the run until ``end`` (loop time), checking ids are consecutive."""
    loop = asyncio.get_running_loop()
    last: int | None = None
    while loop.time() < end:
        leave_at = end
        if reconnect_every:
            leave_at = min(end, loop.time() + random.uniform(0.5, 1.5) * reconnect_every)
        headers = {"Last-Event-ID": str(last)} if last is not None else {}
        try:
            async with asyncio.timeout_at(leave_at):
                async with aconnect_sse(client, "GET", f"/api/runs/{run_id}/events", headers=headers) as source:
                    source.response.raise_for_status()
                    async for sse in source.aiter_sse():
                        if not sse.data:  # a heartbeat comment (httpx-sse reports it as an empty event)
                            continue
                        seq = int(sse.id)
                        expected = 1 if last is None else last + 1
                        if seq < expected:
                            tally.duplicates += 1
                            continue
                        if seq > expected:
                            tally.id_gaps += 1
                            tally.missing_ids += seq - expected
                        tally.events += 1
                        last = seq
            tally.drops += 1  # the server ended the stream of a run that is still training
        except TimeoutError:  # time to leave; a stalled stream ends in httpx.ReadTimeout instead
            if loop.time() < end:
                tally.reconnects += 1
            continue
        except httpx.HTTPError as exc:
            kind = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
            tally.failures[f"events {kind}"] += 1
            tally.drops += 1
        await asyncio.sleep(0.5)  # a server that ends or refuses streams is not hammered


async def predict_once(client: httpx.AsyncClient, url: str, tally: Tally) -> None:
    start = time.perf_counter()
    try:
        response = await client.post(url, json=XOR_INPUTS)
    except httpx.HTTPError as exc:
        tally.failures[f"predict {type(exc).__name__}"] += 1
        return
    if response.is_success:
        tally.predict_ms.append((time.perf_counter() - start) * 1000)
    else:
        tally.failures[f"predict {response.status_code}"] += 1


async def pace_predicts(client: httpx.AsyncClient, model_id: str, rate: float, end: float, tally: Tally) -> None:
    """Open loop: a predict every 1/rate s whatever the answers' speed (a slow server gets queued work)."""
    loop = asyncio.get_running_loop()
    url = f"/api/models/{model_id}/predict"
    start, sent, pending = loop.time(), 0, []
    while (due := start + sent / rate) < end:
        await asyncio.sleep(due - loop.time())
        pending.append(asyncio.create_task(predict_once(client, url, tally)))
        sent += 1
    await asyncio.gather(*pending)


async def apply_load(url: str, run_id: str, model_id: str, seconds: float, args: argparse.Namespace) -> Tally:
    """The SSE clients on ``run_id`` and the predict pacer for ``seconds``, on one event loop."""
    tally = Tally()
    limits = httpx.Limits(max_connections=args.clients + 20, max_keepalive_connections=args.clients + 20)
    # A training run sends ~10 events/s and a quiet stream a heartbeat every 15 s: 30 s of silence is a stall.
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        end = asyncio.get_running_loop().time() + seconds
        await asyncio.gather(
            pace_predicts(client, model_id, args.rate, end, tally),
            *(follow_events(client, run_id, end, args.reconnect_every, tally) for _ in range(args.clients)),
        )
    return tally


def stop_runs(client: httpx.Client, run_ids: list[str], tally: Tally) -> None:
    """Stop the runs and wait (60 s at most) until each has ended."""
    for run_id in run_ids:
        response = client.post(f"/api/runs/{run_id}/stop")
        if not response.is_success:
            tally.failures[f"stop {response.status_code}"] += 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(client.get(f"/api/runs/{r}").json()["status"] in ("completed", "stopped", "failed") for r in run_ids):
            return
        time.sleep(0.2)
    tally.failures["stop did not end a run in 60 s"] += 1


@dataclass
class Soak:
    """All one benchmark measured."""
    warmup: Tally
    window: Tally
    cold: ServerFigures    # the runs training, before any load
    before: ServerFigures  # after the warm-up
    after: ServerFigures   # after the window
    client_cpu: float      # this process's CPU time in the window over its length
    last_event_id: int     # of the followed run, as the server says after the window
    orphans: list[int] = field(default_factory=list)


def soak(url: str, pid: int, args: argparse.Namespace) -> Soak:
    """Train the XOR model, start the two long runs, warm up, apply the load, stop the runs."""
    with httpx.Client(base_url=url, timeout=60) as client:
        xor_id = client.post("/api/runs", json=XOR_RUN).raise_for_status().json()["id"]
        model_id = follow(client, xor_id)[-1][2].get("model_id")
        if model_id is None:
            raise SystemExit("training the XOR model failed")
        client.post(f"/api/models/{model_id}/predict", json=XOR_INPUTS).raise_for_status()  # loaded and cached
        run_ids = [client.post("/api/runs", json=MNIST_ENDLESS).raise_for_status().json()["id"] for _ in range(2)]
        wait_running(client, run_ids)
        cold = ServerFigures.of(pid)
        warmup = asyncio.run(apply_load(url, run_ids[0], model_id, min(WARMUP_SECONDS, args.seconds), args))
        time.sleep(1)  # the server closes the streams' sockets
        before = ServerFigures.of(pid)
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        window = asyncio.run(apply_load(url, run_ids[0], model_id, args.seconds, args))
        client_cpu = (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)
        time.sleep(1)
        after = ServerFigures.of(pid)
        last_event_id = client.get(f"/api/runs/{run_ids[0]}").json()["last_event_id"]
        stop_runs(client, run_ids, window)
    return Soak(warmup, window, cold, before, after, client_cpu, last_event_id)


def report(result: Soak, args: argparse.Namespace) -> None:
    """A short human report, then one line of name=value figures."""
    window = result.window
    latencies = np.array(window.predict_ms or [float("nan")])
    p50, p99 = np.percentile(latencies, 50), np.percentile(latencies, 99)
    failures = result.warmup.failures + window.failures
    failed = sum(failures.values())
    id_gaps, duplicates = result.warmup.id_gaps + window.id_gaps, result.warmup.duplicates + window.duplicates
    missing_ids = result.warmup.missing_ids + window.missing_ids
    before, after = result.before, result.after
    leak_signs = after.leak_since(before)
    load = os.getloadavg()[0]
    print(f"load: {args.clients} SSE clients on one run + 2 MNIST runs training + {args.rate:g} predicts/s "
          f"for {args.seconds:g} s after a {min(WARMUP_SECONDS, args.seconds):g} s warm-up "
          f"(machine load average {load:.1f}, client CPU {result.client_cpu:.0%} of a core)")
    print(f"failed requests:   {failed} (warm-up included)"
          + "".join(f"\n    {kind}: {n}" for kind, n in sorted(failures.items())))
    print(f"predict:           {len(window.predict_ms)} answered, p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    print(f"SSE events:        {window.events} received (the run's last id {result.last_event_id}), "
          f"{window.reconnects} reconnects on purpose, {window.drops} streams dropped")
    print(f"event ids:         {id_gaps} gaps ({missing_ids} ids missing), {duplicates} duplicates (warm-up included)")
    print(f"server RSS:        {before.rss_mib:.1f} -> {after.rss_mib:.1f} MiB "
          f"({after.rss_mib - before.rss_mib:+.1f}) in the window; {result.cold.rss_mib:.1f} before the warm-up")
    print(f"server open fds:   {before.fds} -> {after.fds} ({after.fds - before.fds:+d}) in the window; "
          f"{result.cold.fds} before the warm-up")
    print(f"    of which SQLite: {before.db_fds} -> {after.db_fds} "
          f"({after.db_connections} connections, {after.threads} server threads)")
    print(f"leak:              {'LOOKS LIKE A LEAK: ' + '; '.join(leak_signs) if leak_signs else 'none seen'} "
          f"(thresholds +{LEAK_RSS_MIB} MiB, +{LEAK_FDS} non-SQLite fds)")
    print(f"orphan processes:  {len(result.orphans)} {result.orphans if result.orphans else ''}")
    print(" ".join([
        f"failed={failed}", f"predicts={len(window.predict_ms)}", f"predict_p50_ms={p50:.2f}",
        f"predict_p99_ms={p99:.2f}", f"sse_events={window.events}", f"id_gaps={id_gaps}", f"duplicates={duplicates}",
        f"reconnects={window.reconnects}", f"drops={window.drops}",
        f"rss_before_mib={before.rss_mib:.1f}", f"rss_after_mib={after.rss_mib:.1f}",
        f"fds_before={before.fds}", f"fds_after={after.fds}", f"db_fds_after={after.db_fds}",
        f"leak={int(bool(leak_signs))}", f"orphans={len(result.orphans)}",
        f"client_cpu={result.client_cpu:.2f}", f"load={load:.1f}",
    ]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the load window")
    parser.add_argument("--clients", type=int, default=50, help="SSE clients on one run")
    parser.add_argument("--rate", type=float, default=20, help="predict requests per second")
    parser.add_argument("--reconnect-every", type=float, default=20,
                        help="mean seconds between a client's deliberate reconnects (0: never)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "data").start()
        pid = server.proc.pid
        try:
            result = soak(server.url, pid, args)
        finally:
            server.stop()
        time.sleep(2)  # the bound: nothing of the server's lives 2 s after it ends
        result.orphans = group_members(pid)
        if result.orphans:
            os.killpg(pid, signal.SIGKILL)  # reported, not left running
    report(result, args)


if __name__ == "__main__":
    main()
