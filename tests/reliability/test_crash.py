"""Hard faults with real processes: the server killed alone (``kill -9`` of the uvicorn
process, not its group) leaves nothing of its own running and no worker writing; a
worker killed alone (as the out-of-memory killer does) leaves its run interrupted and
resumable."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from mlp_engine.serialization import checkpoint_path
from tests.app.helpers import read_events
from tests.app.live_server import LiveServer

# Big enough to train tensor-parallel on two or more cores (peers forked by the worker),
# with epochs of a few seconds: longer than the 2 s the server's processes get to exit.
MNIST_RUN = {"dataset": "mnist", "layers": [{"units": 256}], "batch_size": 16, "epochs": 2}
# About a tenth of a second an epoch.
SMALL_RUN = {"dataset": "gaussians", "dataset_params": {"n_samples": 12000, "noise": 0.3},
             "layers": [{"units": 32, "activation": "relu"}], "epochs": 40, "batch_size": 16}


LEFT_RUNNING = ("interrupted", "failed", "completed", "stopped")  # where a run goes when its worker ends


def child_map() -> dict[int, list[int]]:
    """Each live process's children, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # it ended while we looked
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, grandchildren, ...)."""
    children = child_map()
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (a zombie has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture
def live(tmp_path):
    # One run at a time gets every core (tensor-parallel peers); no progress events: a
    # worker writes only at the ends of epochs, so it cannot learn of the crash from its pipe.
    server = LiveServer(tmp_path / "data", env={"MLP_MAX_CONCURRENT_RUNS": "1", "MLP_PROGRESS_INTERVAL": "1000"})
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.stop(hard=True)
    for pid in getattr(server, "tracked", ()):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)  # a test that failed must not leave orphans training


@pytest.mark.parametrize("state", ["running", "paused"])
def test_a_server_killed_alone_leaves_no_process_and_no_writer(live, mnist_dir, state):
    live.start()
    with httpx.Client(base_url=live.url, timeout=30) as client:
        run_id = client.post("/api/runs", json=MNIST_RUN).json()["id"]
        checkpoint = checkpoint_path(live.data_dir / "runs" / run_id)
        wait_for(checkpoint.exists, 60, "a first checkpoint")
        if state == "paused":  # a paused worker writes nothing at all: only the lifeline can end it
            assert client.post(f"/api/runs/{run_id}/pause").status_code == 200
            wait_for(lambda: client.get(f"/api/runs/{run_id}").json()["status"] == "paused", 30, "the pause")
        server_pid = live.proc.pid
        tree = descendants(server_pid)
        live.tracked = tree
        # The resource tracker, the forkserver, the worker and (given cores) its tensor-parallel peers.
        assert len(tree) >= (4 if (os.cpu_count() or 1) > 1 else 3), tree

    os.kill(server_pid, signal.SIGKILL)  # the server alone: its children are not signalled
    live.proc.wait(5)
    live.proc = None
    wait_for(lambda: not any(alive(pid) for pid in tree), 2,
             f"the server's processes to exit: {sorted(p for p in tree if alive(p))}")
    written = checkpoint.stat().st_mtime_ns
    time.sleep(1)  # a writer left behind would show
    assert checkpoint.stat().st_mtime_ns == written

    live.start()
    with httpx.Client(base_url=live.url, timeout=30) as client:
        run = client.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted"
        assert client.post(f"/api/runs/{run_id}/resume").status_code == 200
        events = read_events(client, run_id)
        assert [e["event"] for e in events].count("done") == 1
        assert events[-1]["event"] == "done" and events[-1]["data"]["status"] == "completed"
        history = client.get(f"/api/runs/{run_id}").json()["history"]
        assert [m["epoch"] for m in history] == list(range(1, MNIST_RUN["epochs"] + 1))
        models = [m for m in client.get("/api/models").json() if m["run_id"] == run_id]
        assert len(models) == 1
    # Every model directory is one the library knows: no orphan finished the run on its own.
    assert {p.name for p in (live.data_dir / "models").iterdir()} == {models[0]["id"]}


def test_a_worker_killed_alone_leaves_its_run_interrupted_and_resumable(live):
    live.start()
    with httpx.Client(base_url=live.url, timeout=30) as client:
        run_id = client.post("/api/runs", json=SMALL_RUN).json()["id"]
        checkpoint = checkpoint_path(live.data_dir / "runs" / run_id)
        wait_for(checkpoint.exists, 60, "a first checkpoint")
        server = live.proc.pid
        (worker,) = descendants(server) - set(child_map()[server])  # the forkserver's one child
        os.kill(worker, signal.SIGKILL)  # as the out-of-memory killer does
        run = wait_for(lambda: (r := client.get(f"/api/runs/{run_id}").json())["status"] in LEFT_RUNNING and r,
                       30, "the run to end")
        assert run["status"] == "interrupted", run
        assert "SIGKILL" in run["error"] and "likely out of memory" in run["error"]
        assert client.post(f"/api/runs/{run_id}/resume").status_code == 200
        events = read_events(client, run_id)
        assert events[-1]["event"] == "done" and events[-1]["data"]["status"] == "completed"
        running = [e["data"] for e in events if e["event"] == "status" and e["data"]["status"] == "running"]
        assert len(running) == 2 and running[1]["epochs_done"] >= 1  # resumed from its checkpoint
        run = client.get(f"/api/runs/{run_id}").json()
        assert [m["epoch"] for m in run["history"]] == list(range(1, SMALL_RUN["epochs"] + 1))
        assert run["status"] == "completed" and run["error"] is None
