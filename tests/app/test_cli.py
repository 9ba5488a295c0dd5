"""The Python client (app/client.py) and the ``mlp-playground`` CLI (app/cli.py),
against the real server: one for the module, whose runs the tests share."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys

import httpx
import pytest

from app.cli import LiveLine, fmt_status, main
from app.client import Client, ClientError
from tests.app.helpers import XOR_RUN
from tests.app.live_server import REPO_ROOT

XOR_FLAGS = ["--dataset", "xor", "--layers", "4:tanh", "--epochs", "150", "--batch-size", "4", "--lr", "0.05"]


@pytest.fixture(scope="module")
def url(shared_server) -> str:
    return shared_server.url


@pytest.fixture(scope="module")
def client(url):
    with Client(url) as c:
        yield c


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_follow_prints_falling_loss_then_predict(client, url, capsys):
    code, out, err = run_cli(capsys, "train", *XOR_FLAGS, "--follow", "--url", url)
    assert code == 0, err
    epochs = [(int(e), float(loss)) for e, loss in re.findall(r"^epoch (\d+)/150  train loss ([\d.]+)", out, re.M)]
    assert [e for e, _ in epochs] == list(range(1, 151))
    assert epochs[-1][1] < epochs[0][1] / 5
    assert re.search(r"^epoch \d+/150  batch 1/1  loss [\d.]+  [\d,]+ samples/s  ETA \d+:\d\d$", out, re.M)
    done = re.search(r"^completed after 150 epochs; model (\w+); test loss [\d.]+  acc 1\.000$", out, re.M)
    assert done, out
    model_id, run_id = done[1], re.match(r"run (\w+): xor, 150 epochs", out)[1]

    code, out, _ = run_cli(capsys, "predict", model_id, "--inputs", "[[0,0],[0,1],[1,0],[1,1]]", "--url", url)
    assert code == 0
    assert re.findall(r"-> (\d)  p=", out) == ["0", "1", "1", "0"]

    code, out, _ = run_cli(capsys, "watch", run_id, "--url", url)  # a finished run replays
    assert code == 0 and done[0] in out and out.count("train loss") == 150
    _, out, _ = run_cli(capsys, "runs", "--url", url)
    assert re.search(rf"^{run_id}\s+completed\s+xor\s+150/150\s+{model_id}", out, re.M)
    _, out, _ = run_cli(capsys, "models", "--url", url)
    assert re.search(rf"^{model_id}\s+xor 2-4-1\s+trained", out, re.M)


def test_bad_input_exits_2_with_one_line(client, url, capsys):
    runs_before = client.runs()["total"]
    code, out, err = run_cli(capsys, "train", "--layers", "4:swish", "--url", url)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "layers.0.activation" in err and "'tanh'" in err, err
    assert client.runs()["total"] == runs_before  # nothing was queued

    for argv in (["train", "--layers", "x"], ["train", "--param", "noise"], ["predict", "m", "--inputs", "[[0"]):
        code, _, err = run_cli(capsys, *argv, "--url", "http://127.0.0.1:9")  # parsing fails before any request
        assert code == 2 and err.count("\n") == 1 and "error: argument" in err, err
    assert "'x' is not UNITS[:ACTIVATION]" in run_cli(capsys, "train", "--layers", "x")[2]

    code, _, err = run_cli(capsys, "stop", "nope", "--url", url)  # server errors print its detail
    assert code == 1 and "no run with id 'nope'" in err


def test_events_resume_after_last_event_id_and_errors(client):
    run_id = client.create_run({**XOR_RUN, "epochs": 20})["id"]
    events = list(client.events(run_id))
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["event"] == "done" and events[-1]["data"]["status"] == "completed"

    middle = events[len(events) // 2]["id"]
    assert list(client.events(run_id, last_event_id=middle)) == events[middle:]
    assert list(client.events(run_id, last_event_id=events[-1]["id"])) == []

    with pytest.raises(ClientError) as exc:
        client.run("nope")
    assert exc.value.status_code == 404 and "no run with id 'nope'" in exc.value.detail
    with pytest.raises(ClientError) as exc:
        list(client.events("nope"))
    assert exc.value.status_code == 404


class DropFirstStream(httpx.HTTPTransport):
    """Cuts the first event stream after ``keep`` events, as a dropped connection would."""

    def __init__(self, keep: int):
        super().__init__()
        self.keep, self.last_event_ids = keep, []

    def handle_request(self, request):
        response = super().handle_request(request)
        if request.url.path.endswith("/events"):
            self.last_event_ids.append(request.headers.get("last-event-id"))
            if len(self.last_event_ids) == 1:
                response.stream = _Cut(response.stream, self.keep)
        return response


class _Cut(httpx.SyncByteStream):
    def __init__(self, inner, keep):
        self.inner, self.keep = inner, keep

    def __iter__(self):
        received = b""
        for chunk in self.inner:
            received += chunk.replace(b"\r\n", b"\n")
            events = received.split(b"\n\n")
            if len(events) > self.keep:
                yield b"\n\n".join(events[: self.keep]) + b"\n\n"
                raise httpx.ReadError("connection dropped (test)")
        yield received

    def close(self):
        self.inner.close()


def test_events_reconnect_with_last_event_id_after_a_drop(client, url):
    run_id = client.create_run({**XOR_RUN, "epochs": 20})["id"]
    transport = DropFirstStream(keep=3)
    with Client(url, transport=transport) as flaky:
        events = list(flaky.events(run_id))
    assert transport.last_event_ids == [None, "3"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))  # no gap, no repeat
    assert events[-1]["event"] == "done"


@pytest.mark.timeout(60)
def test_ctrl_c_detaches_and_the_run_goes_on(client, url):
    argv = ["train", "--dataset", "circle", "--layers", "32", "--epochs", "1000", "--batch-size", "1", "--follow"]
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *argv, "--url", url], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = re.match(r"run (\w+):", proc.stdout.readline())[1]
    for line in proc.stdout:
        if line.startswith("epoch 2/1000  train"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert f"detached from run {run_id}" in err and "Traceback" not in err
    assert client.run(run_id)["status"] == "running"
    client.stop(run_id)
    assert list(client.events(run_id))[-1]["data"]["status"] == "stopped"


def test_heartbeat_comments_are_not_events():
    """httpx-sse 0.4 turns a ``: ping`` after an ``id:`` into an empty event; the client skips it."""
    body = (b'id: 1\r\nevent: status\r\ndata: {"status": "running"}\r\n\r\n: ping\r\n\r\n'
            b'id: 2\r\nevent: done\r\ndata: {"status": "completed"}\r\n\r\n')
    transport = httpx.MockTransport(lambda request: httpx.Response(
        200, content=body, headers={"content-type": "text/event-stream"}))
    with Client("http://test", transport=transport) as c:
        assert [(e["id"], e["event"]) for e in c.events("r1")] == [(1, "status"), (2, "done")]


def test_progress_rewrites_one_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    live = LiveLine(out)
    live.progress("batch 1")
    live.progress("batch 2")
    live.line("epoch 1")
    assert out.getvalue() == "\r\x1b[Kbatch 1\r\x1b[Kbatch 2\r\x1b[Kepoch 1\n"


def test_an_interrupted_run_says_why_and_how_to_resume():
    line = fmt_status({"status": "interrupted", "message": "the training process was killed by SIGKILL"})
    assert "killed by SIGKILL" in line and "mlp-playground resume RUN" in line
    assert fmt_status({"status": "queued", "position": 2}) == "status: queued (position 2 in the queue)"
