"""One run spec: the API's schema, its defaults and the page's form all come from the
engine's declarations (mlp_engine.fields), so a default or bound is written once."""

from __future__ import annotations

from mlp_engine import Experiment
from tests.app.helpers import XOR_RUN, assert_error


def test_the_spec_route_gives_the_engines_defaults_bounds_and_choices(app_client):
    spec = app_client.get("/api/spec").json()
    assert spec["defaults"] == Experiment().to_dict() | {"layers": [{"units": 4, "activation": "tanh"}]}
    optimizer = spec["fields"]["optimizer"]["fields"]
    assert optimizer["lr"] == {"doc": "Base learning rate.", "nullable": False, "gt": 0, "default": 0.001}
    assert optimizer["name"]["choices"] == ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]
    assert spec["fields"]["augment"]["fields"]["max_rotation"]["le"] == 30
    assert spec["fields"]["early_stopping"]["nullable"] is True
    assert spec["limits"]["max_epochs"] == 1000


def test_the_openapi_schema_is_made_from_the_same_declarations(app_client):
    schemas = app_client.get("/openapi.json").json()["components"]["schemas"]
    run = schemas["RunCreate"]["properties"]
    fields = app_client.get("/api/spec").json()["fields"]
    assert run["epochs"]["default"] == fields["epochs"]["default"] == 10
    assert run["validation_split"]["exclusiveMaximum"] == fields["validation_split"]["lt"] == 1
    assert schemas["ScheduleIn"]["properties"]["gamma"]["maximum"] == fields["schedule"]["fields"]["gamma"]["le"]


def test_a_bad_nested_field_is_refused_where_it_is(app_client):
    body = assert_error(app_client.post("/api/runs", json={**XOR_RUN, "optimizer": {"name": "sgd", "momentum": 1.0}}),
                        422, "optimizer.momentum")
    assert body["errors"][0]["loc"] == ["body", "optimizer", "momentum"]
    body = assert_error(app_client.post("/api/runs", json={**XOR_RUN, "validation_split": 0.1, "early_stopping": 0}),
                        422, "early_stopping")
    assert body["errors"][0]["loc"] == ["body", "early_stopping"]


def test_a_validation_split_that_leaves_no_training_data_is_refused_up_front(app_client):
    body = assert_error(app_client.post("/api/runs", json={**XOR_RUN, "validation_split": 0.999999}), 422,
                        "validation_split=0.999999 of 4 training examples leaves none to train on")
    assert body["errors"][0]["loc"] == ["body", "validation_split"]
    assert not any(r["spec"]["validation_split"] == 0.999999 for r in app_client.get("/api/runs").json()["runs"])
