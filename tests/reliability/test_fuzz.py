"""Schemathesis over the whole OpenAPI spec against a real server: generated and mutated
requests, stateful sequences (create a run, then pause, stop, delete it...). No answer may
be a server error, and every answer must be as the spec documents it (status, content
type, body schema, ``Allow`` on a 405).

A short run here (``MLP_FUZZ_EXAMPLES``, default 5 per operation); ``make fuzz`` runs 100.
The server's limits are tiny so that generated runs train in no time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.app.live_server import LiveServer

SMALL_RUNS = {"MLP_MAX_EPOCHS": "3", "MLP_MAX_UNITS": "32", "MLP_MAX_HIDDEN_LAYERS": "2", "MLP_MAX_BATCH_SIZE": "64"}
#: A request the schema allows may still be refused by the engine (dataset parameters,
#: an unknown model id), so "schema-valid data is accepted" is not a check here.
CHECKS = ["--checks", "all", "--exclude-checks", "positive_data_acceptance"]


def test_fuzzing_the_api_finds_no_server_error_and_no_undocumented_answer(tmp_path):
    examples = os.environ.get("MLP_FUZZ_EXAMPLES", "5")
    server = LiveServer(tmp_path / "data", env=SMALL_RUNS).start()
    try:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "run", f"{server.url}/openapi.json", *CHECKS,
             "--max-examples", examples, "--workers", "1", "--seed", "1", "--no-color"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    finally:
        server.stop()
    report = result.stdout[-6000:]
    assert result.returncode == 0, report
    assert "passed" in report and "failed" not in report.lower().split("summary")[-1], report
