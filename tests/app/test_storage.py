"""Storage on a real SQLite file: ids, runs, their numbered events, models."""

from __future__ import annotations

import os
import threading

import pytest

from app.storage import Storage

SPEC = {"dataset": "xor", "epochs": 5, "layers": [{"units": 4, "activation": "tanh"}]}


@pytest.fixture
def storage(tmp_path):
    store = Storage(tmp_path / "playground.sqlite3")
    yield store
    store.close()


def add_model(storage: Storage, dataset: str = "xor") -> str:
    model_id = storage.new_id()
    storage.create_model(model_id, run_id=None, name=f"{dataset} 2-4-1", dataset=dataset, source="imported",
                         architecture={"input_dim": 2}, metrics={"test": {"accuracy": 1.0}}, n_params=17)
    return model_id


def test_ids_are_fresh_and_short():
    ids = {Storage.new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 12 and int(i, 16) >= 0 for i in ids)


def test_a_new_run_is_queued_with_its_spec(storage):
    run_id = storage.create_run(SPEC)
    run = storage.get_run(run_id)
    assert run["status"] == "queued" and run["spec"] == SPEC
    assert (run["dataset"], run["epochs_total"], run["epochs_done"], run["last_seq"]) == ("xor", 5, 0, 0)
    assert run["model_id"] is None and run["test_metrics"] is None
    assert storage.get_run("nope") is None


def test_events_are_numbered_and_update_the_run_in_the_same_write(storage):
    run_id = storage.create_run(SPEC)
    assert storage.append_event(run_id, "status", {"status": "running"}, {"status": "running"}) == 1
    for epoch in (1, 2):
        assert storage.append_event(run_id, "epoch", {"epoch": epoch, "train_loss": 1 / epoch},
                                    {"epochs_done": epoch}) == epoch + 1
    done = {"status": "completed", "test_metrics": {"accuracy": 1.0}}
    assert storage.append_event(run_id, "done", done, {"status": "completed", "test_metrics": done["test_metrics"]}) == 4

    run = storage.get_run(run_id)
    assert (run["status"], run["epochs_done"], run["last_seq"]) == ("completed", 2, 4)
    assert run["test_metrics"] == {"accuracy": 1.0}  # stored as JSON, read back as a dict
    assert [(seq, type_) for seq, type_, _ in storage.events_after(run_id, 0)] == [
        (1, "status"), (2, "epoch"), (3, "epoch"), (4, "done")]
    assert [seq for seq, _, _ in storage.events_after(run_id, 2)] == [3, 4]
    assert storage.epoch_history(run_id) == [{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}]


def test_writes_from_many_threads_get_one_number_each(storage):
    run_id = storage.create_run(SPEC)
    seqs: list[int] = []
    lock = threading.Lock()

    def write():
        for _ in range(25):
            seq = storage.append_event(run_id, "progress", {})
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(1, 101))
    assert storage.get_run(run_id)["last_seq"] == 100


def test_runs_newest_first_by_page_and_by_status(storage):
    ids = [storage.create_run(SPEC) for _ in range(5)]
    storage.append_event(ids[1], "status", {}, {"status": "running"})
    storage.append_event(ids[3], "status", {}, {"status": "paused"})

    runs, total = storage.list_runs(limit=2, offset=0)
    assert total == 5 and [r["id"] for r in runs] == ids[::-1][:2]
    assert [r["id"] for r in storage.list_runs(limit=10, offset=3)[0]] == ids[1::-1]
    assert [r["id"] for r in storage.runs_with_status("running", "paused")] == [ids[1], ids[3]]
    assert [r["id"] for r in storage.runs_with_status("queued")] == [ids[0], ids[2], ids[4]]


def test_deleting_a_run_deletes_its_events(storage):
    run_id = storage.create_run(SPEC)
    storage.append_event(run_id, "epoch", {"epoch": 1})
    storage.delete_run(run_id)
    assert storage.get_run(run_id) is None
    assert storage.events_after(run_id, 0) == [] and storage.epoch_history(run_id) == []


def test_models_by_dataset_and_delete(storage):
    xor, moons = add_model(storage), add_model(storage, "moons")
    record = storage.get_model(xor)
    assert record["architecture"] == {"input_dim": 2} and record["metrics"]["test"]["accuracy"] == 1.0
    assert (record["name"], record["source"], record["n_params"], record["run_id"]) == ("xor 2-4-1", "imported", 17, None)
    assert [m["id"] for m in storage.list_models()] == [moons, xor]
    assert [m["id"] for m in storage.list_models("moons")] == [moons]
    storage.delete_model(xor)
    assert storage.get_model(xor) is None and [m["id"] for m in storage.list_models()] == [moons]


def test_everything_is_on_disk_after_a_reopen(tmp_path):
    path = tmp_path / "playground.sqlite3"
    first = Storage(path)
    run_id = first.create_run(SPEC)
    first.append_event(run_id, "epoch", {"epoch": 1}, {"epochs_done": 1})
    model_id = add_model(first)
    first.close()

    again = Storage(path)
    try:
        assert again.get_run(run_id)["epochs_done"] == 1
        assert again.epoch_history(run_id) == [{"epoch": 1}]
        assert again.get_model(model_id)["name"] == "xor 2-4-1"
    finally:
        again.close()


def _open_db_files(path) -> int:
    """File descriptors of this process open on the database (or its -wal)."""
    fds = [os.path.join("/proc/self/fd", fd) for fd in os.listdir("/proc/self/fd")]
    return sum(1 for fd in fds if _target(fd).startswith(str(path)))


def _target(fd: str) -> str:
    try:
        return os.readlink(fd)
    except OSError:  # closed while listing
        return ""


def test_reads_from_threads_that_end_leave_no_connection_open(tmp_path):
    """The server's thread pool retires idle threads: a connection per thread stayed open
    after its thread ended (until a garbage collection). Reads borrow from a pool instead."""
    path = tmp_path / "db.sqlite3"
    storage = Storage(path)
    run_id = storage.create_run({"dataset": "xor", "epochs": 1})

    def read_in_a_thread():
        thread = threading.Thread(target=lambda: storage.get_run(run_id))
        thread.start()
        thread.join()

    read_in_a_thread()
    after_one = _open_db_files(path)
    for _ in range(20):
        read_in_a_thread()
    assert _open_db_files(path) == after_one
    storage.close()
    assert _open_db_files(path) == 0
