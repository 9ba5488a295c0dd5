"""No server string is ever written into the pages as HTML (issue #14, stored XSS): a model
imported with script payloads for its name and class names is shown on `/` (the draw
panel picks the newest MNIST model by itself) and on `/inspect`, in Chromium; the
payloads must show as the literal text and never run."""

from __future__ import annotations

import pytest

from mlp_engine import MLP, LayerSpec, ModelConfig, model_to_zip
from tests.app.browser import draw_stroke, open_page
from tests.app.test_draw import vertical_line

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PAYLOAD = '<img src=x onerror="window.__xss=1">'
CLASSES = [f"{k}{PAYLOAD}" for k in range(10)]
NAME = f"<b>bold</b>{PAYLOAD}"


def import_hostile_model(api) -> str:
    """An MNIST-shaped model (784-16-10) whose name and class names are script payloads."""
    model = MLP(ModelConfig(784, (LayerSpec(16, "relu"),), 10, seed=0))
    dataset = {"name": "mnist", "task": "multiclass", "classes": CLASSES, "input_shape": [28, 28],
               "n_features": 784, "n_outputs": 10, "train_size": 60000, "test_size": 10000,
               "feature_names": [], "standardization": None, "description": PAYLOAD}
    blob = model_to_zip(model, {"name": NAME, "dataset": "mnist", "metrics": {"test": {"accuracy": 0.1}, "dataset": dataset}})
    response = api.post("/api/models/import", files={"file": ("m.zip", blob, "application/zip")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def trap(page) -> list[str]:
    """Dialogs the page opens (an alert() payload) land in the returned list."""
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()
    page.on("dialog", on_dialog)
    return dialogs


def assert_no_script_ran(page, dialogs) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0  # no payload became an element
    assert dialogs == []
    assert page.console.errors == []  # the payload's <img src=x> would 404


def test_draw_panel_shows_class_names_as_text(page, server, api):
    model_id = import_hostile_model(api)
    dialogs = trap(page)
    open_page(page, server.url + "/")
    expect(page.locator("#draw")).to_have_attribute("data-state", "ready")
    expect(page.locator("#draw-model")).to_have_value(model_id)
    expect(page.locator(f"#draw-model option[value='{model_id}']")).to_contain_text(NAME)
    expect(page.locator("#draw-probs .prob-digit")).to_have_text(CLASSES)
    vertical_line(page)  # the prediction's label is a class name too
    page.wait_for_function("() => document.querySelector('#draw').dataset.predicted === 'true'")
    assert page.text_content("#draw-digit") in CLASSES
    assert page.get_attribute("#draw-probs li.top", "data-digit") in CLASSES
    assert_no_script_ran(page, dialogs)


def test_inspect_page_shows_names_as_text(page, server, api, mnist_dir):
    model_id = import_hostile_model(api)
    dialogs = trap(page)
    page.goto(f"{server.url}/inspect?model={model_id}&split=test&index=0&stage=output")
    page.wait_for_selector("#main[data-ready=true]")
    expect(page.locator(f"#model option[value='{model_id}']")).to_have_text(f"{NAME} · {model_id}")
    expect(page.locator("#draw-label option")).to_have_text(CLASSES)
    expect(page.locator("#stage")).to_have_attribute("data-stage", "output")
    expect(page.locator("#prob-bars .bar-label")).to_have_text(CLASSES)
    expect(page.locator("#result-line")).to_contain_text(PAYLOAD)  # "label 7<img ...>"
    expect(page.locator("#confusion-panel")).to_have_attribute("data-state", "ready", timeout=30_000)
    assert_no_script_ran(page, dialogs)
    # A drawing traced by the same model: its label picker and result line are class names.
    page.check("input[name=source][value=draw]")
    draw_stroke(page, "#pad", [(0.5, 0.15), (0.5, 0.85)])
    page.select_option("#draw-label", "1")
    page.click("#trace-drawing")
    expect(page.locator("#stage")).to_have_attribute("data-example", "image")
    expect(page.locator("#result-line")).to_contain_text(f"label {CLASSES[1]}")
    assert_no_script_ran(page, dialogs)
    expect(page.locator("#pad-input")).to_have_attribute("data-drawn", "true")


def test_every_string_of_an_imported_model_is_text(page, server, api):
    """A 2-input model whose every string (name, dataset, classes, feature names, description)
    is a payload: the inspect page lists it, and its dataset cannot be loaded, so the page
    shows the server's error details, which quote the payload."""
    model = MLP(ModelConfig(2, (LayerSpec(4, "tanh"),), 2, seed=0))
    dataset = {"name": PAYLOAD, "task": "multiclass", "classes": [PAYLOAD, "<script>window.__xss=2</script>"],
               "input_shape": [2], "feature_names": [PAYLOAD, PAYLOAD], "description": PAYLOAD}
    blob = model_to_zip(model, {"name": NAME, "dataset": PAYLOAD, "metrics": {"test": {"accuracy": 0.5}, "dataset": dataset}})
    response = api.post("/api/models/import", files={"file": ("m.zip", blob, "application/zip")})
    assert response.status_code == 201, response.text
    model_id = response.json()["id"]
    dialogs = trap(page)
    page.console.allow(r"status of (4\d\d|500)")
    page.goto(f"{server.url}/inspect?model={model_id}")
    page.wait_for_selector("#main[data-ready=true]")
    expect(page.locator(f"#model option[value='{model_id}']")).to_have_text(f"{NAME} · {model_id}")
    expect(page.locator("#trace-error")).to_contain_text(PAYLOAD)  # "the dataset '<img ...>' is not available"
    expect(page.locator("#confusion-message")).to_contain_text(PAYLOAD)
    assert_no_script_ran(page, dialogs)
