"""Every request is bounded before a route parses it, and every answer carries the
security headers (issue #14 items 8 and 9, and the Content-Security-Policy)."""

from __future__ import annotations

from tests.app.helpers import assert_error

PREDICT = "/api/models/no-such-model/predict"


def test_a_json_body_past_the_limit_is_refused_before_parsing(shared_api):
    body = b'{"inputs": [' + b"0," * (4 * 2**20) + b"0]}"  # 8 MiB + a little
    response = shared_api.post(PREDICT, content=body, headers={"content-type": "application/json"})
    assert_error(response, 413, "8388608-byte limit", "MLP_MAX_BODY_BYTES")


def test_a_chunked_body_past_the_limit_is_refused_as_it_arrives(shared_api):
    def chunks():
        yield b'{"inputs": ['
        for _ in range(9):
            yield b"0," * 2**19  # 1 MiB
        yield b"0]}"

    response = shared_api.post(PREDICT, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "MLP_MAX_BODY_BYTES")


def test_validation_errors_echo_only_a_prefix_of_the_input(shared_api):
    response = shared_api.post("/api/runs", json={"dataset": "x" * 200_000, "layers": [{"units": 4}]})
    assert_error(response, 422, "dataset", "200002 characters")
    assert len(response.content) < 2000


def test_query_numbers_past_what_storage_holds_are_a_422(shared_api):
    assert_error(shared_api.get("/api/runs", params={"offset": 2**63}), 422, "offset")
    assert shared_api.get("/api/runs", params={"offset": 2**63 - 1}).json()["runs"] == []
    assert_error(shared_api.get("/api/runs/none/events", params={"after": 2**63}), 422, "after")


def test_pages_and_api_answers_carry_the_security_headers(shared_api):
    for path in ("/", "/inspect", "/api/datasets", "/static/js/api.js", "/api/runs/none"):
        headers = shared_api.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "frame-ancestors 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
