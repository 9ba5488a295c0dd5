"""The inspect page in a real browser against the real server (Playwright, Debian's
Chromium): walk one example through every stage by keyboard, check the numbers the
page shows against the trace, the gradient check, the confusion matrix and its gallery.
Screenshots go to tests/screenshots/inspect-*.png."""

from __future__ import annotations

import httpx
import pytest

from tests.app.helpers import XOR_RUN
from tests.app.live_server import LiveServer
from tests.app.test_inspect_api import MNIST_RUN, train
from tests.app.browser import PAINTED, PHONE, UNLABELLED, draw_stroke, shoot

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One server for the module, with a quick XOR model."""
    server = LiveServer(tmp_path_factory.mktemp("inspect-page") / "data").start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield {"server": server, "api": client, "xor": train(client, XOR_RUN)}
    server.stop()


@pytest.fixture(scope="module")
def mnist_model(trained, mnist_dir):
    """A quick MNIST model (a few seconds) on the same server; skipped without MNIST."""
    return train(trained["api"], MNIST_RUN)


def open_inspect(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#main[data-ready=true]")


def walk(page, trace: dict, shots: dict[str, str] | None = None) -> None:
    """Step through every stage with → and check what each one shows against the trace."""
    stages = trace["stages"]
    expect(page.locator("#stage")).to_have_attribute("data-stage", stages[0]["name"])
    page.locator("#stage-title").click()  # focus on the page, not on a form field
    for i, stage in enumerate(stages):
        if i:
            page.keyboard.press("ArrowRight")
        panel = page.locator("#stage")
        expect(panel).to_have_attribute("data-stage", stage["name"])
        expect(page.locator("#stage-count")).to_have_text(f"{i + 1} of {len(stages)}")
        assert page.text_content("#stage-title").strip(), stage["name"]
        expect(page.locator("#stage-formula")).to_have_text(stage["formula"])
        shapes = page.text_content("#stage-shapes")
        if "shapes" in stage:
            assert shapes == stage["shapes"], (stage["name"], shapes)
        else:
            assert "(" in shapes, (stage["name"], shapes)
        expect(page.locator("#stage-phase")).to_have_text(stage["phase"])
        expect(page.locator(f"#stage-list [aria-current=step][data-i='{i}']")).to_have_count(1)
        if stage["name"] == "output":
            probs = page.locator("#prob-bars")
            assert abs(float(probs.get_attribute("data-sum")) - 1.0) < 1e-4
        if stage["name"] == "loss":
            expect(page.locator("#stage-body")).to_contain_text(f"{stage['value']:.6g}"[:6])
        if stage["name"].startswith("dW"):
            expect(page.locator("#stage-body .check.ok")).to_have_count(2)  # engine check, gradient check
        if stage["name"] == "update":
            expect(page.locator("#loss-bars")).to_be_visible()
        if shots and stage["name"] in shots:
            shoot(panel, shots[stage["name"]])
    page.keyboard.press("ArrowRight")  # the last stage stays
    expect(page.locator("#stage")).to_have_attribute("data-stage", stages[-1]["name"])
    expect(page.locator("#next-stage")).to_be_disabled()
    page.keyboard.press("Home")
    expect(page.locator("#stage")).to_have_attribute("data-stage", stages[0]["name"])


def check_gradient_table(page, trace: dict) -> None:
    rows = page.locator("#gradcheck tbody tr")
    expect(rows).to_have_count(len(trace["gradient_check"]))
    expect(page.locator("#gradcheck tbody td.check-cell.ok")).to_have_count(len(trace["gradient_check"]))
    assert set(page.locator("#gradcheck tbody td.check-cell").all_text_contents()) == {"✓"}
    # The relative error says how it is computed, floor included.
    expect(page.locator("#gradcheck").locator("xpath=../preceding-sibling::p")).to_contain_text(
        "max(|analytic| + |numeric|, 1e-4)")
    for row, cell in zip(trace["gradient_check"], page.locator("#gradcheck tbody td[data-floored]").all()):
        floored = abs(row["analytic"]) + abs(row["numeric"]) < 1e-4
        assert cell.get_attribute("data-floored") == str(floored).lower(), (row, cell.text_content())
        assert "max(|a| + |n|, 1e-4)" in cell.get_attribute("title")
        assert cell.text_content().endswith("*") == floored


def test_no_model_yet(page, server):
    open_inspect(page, server.url + "/inspect")
    message = page.locator("#page-message")
    expect(message).to_contain_text("no trained model yet")
    expect(message.locator("a[href='/']")).to_be_visible()
    assert page.console.errors == []


def test_xor_step_through(page, trained):
    api, xor = trained["api"], trained["xor"]
    body = {"dataset_index": 1, "split": "test", "optimizer": {"name": "sgd", "lr": 0.01}}
    trace = api.post(f"/api/models/{xor}/trace", json=body).json()
    open_inspect(page, f"{trained['server'].url}/inspect?model={xor}&index=1&split=test")
    expect(page.locator("#model")).to_have_value(xor)
    expect(page.locator("#stage")).to_have_attribute("data-example", "test:1")
    expect(page.locator("#draw-choice")).to_be_hidden()  # drawing is for MNIST models
    walk(page, trace)
    check_gradient_table(page, trace)

    # z1: every weight of the 2x4 W1 as a heat map; the arrow keys read it out, not step.
    page.keyboard.press("ArrowRight")
    expect(page.locator("#stage")).to_have_attribute("data-stage", "z1")
    heat = page.locator("#stage-body canvas.heat").first
    expect(heat).to_have_attribute("data-rows", "2")
    heat.focus()
    page.keyboard.press("ArrowRight")
    w = trace["stages"][1]["W"]["values"]
    expect(page.locator("#hover-readout")).to_have_text(f"W1[0, 1] = {w[0][1]!r} (row 0, column 1)")
    expect(page.locator("#stage")).to_have_attribute("data-stage", "z1")
    shoot(page, "inspect-xor-1280x800.png")

    # The confusion matrix of the four XOR points.
    expect(page.locator("#confusion-panel")).to_have_attribute("data-state", "ready")
    expect(page.locator("#confusion tbody tr")).to_have_count(2)

    # Next example by button; a bad index shows the server's detail.
    page.click("#next-example")
    expect(page.locator("#stage")).to_have_attribute("data-example", "test:2")
    expect(page.locator("#stage")).to_have_attribute("data-stage", "z1")  # the same stage, new numbers
    assert "index=2" in page.url and "stage=z1" in page.url
    page.fill("#index", "7")  # past the end: the page keeps to 0..3
    page.press("#index", "Tab")
    expect(page.locator("#stage")).to_have_attribute("data-example", "test:3")
    assert page.evaluate(UNLABELLED) == []

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"

    # A deep link to an example that is not there shows the server's detail.
    page.console.allow(r"status of 422")
    open_inspect(page, f"{trained['server'].url}/inspect?model={xor}&index=99&split=test")
    expect(page.locator("#trace-error")).to_contain_text("dataset_index 99 is out of range")
    assert page.console.errors == []


def test_mnist_step_through_and_confusion(page, trained, mnist_model):
    api, mnist = trained["api"], mnist_model
    body = {"dataset_index": 0, "split": "test", "optimizer": {"name": "adam", "lr": 0.001}}
    trace = api.post(f"/api/models/{mnist}/trace", json=body).json()
    open_inspect(page, f"{trained['server'].url}/inspect?model={mnist}&index=0&split=test&opt=adam&lr=0.001")
    expect(page.locator("#optimizer")).to_have_value("adam")
    expect(page.locator("#draw-choice")).to_be_visible()
    walk(page, trace, shots={"z1": "inspect-mnist-z1.png", "output": "inspect-mnist-output.png",
                             "dW1": "inspect-mnist-dW1.png", "update": "inspect-mnist-update.png"})
    check_gradient_table(page, trace)

    # The input as a 28x28 image whose pixels read out on hover.
    image = page.locator("#stage-body canvas.heat.image")
    expect(image).to_have_attribute("data-cols", "28")
    box = image.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#hover-readout")).to_contain_text("pixel[14, 14] = ")

    # Adam's numbers on the update stage; switching the optimizer traces again.
    page.keyboard.press("End")
    page.locator("#stage-list [data-i]").nth(len(trace["stages"]) - 2).click()
    expect(page.locator("#stage")).to_have_attribute("data-stage", "update")
    expect(page.locator("#stage-body")).to_contain_text("m̂")
    expect(page.locator("#stage-body")).to_contain_text("Bias correction")
    page.select_option("#optimizer", "momentum")
    expect(page.locator("#stage-formula")).to_contain_text("μ·v")
    expect(page.locator("#stage-body")).to_contain_text("velocity")

    # The confusion matrix, and a mistake opened in the step-through.
    expect(page.locator("#confusion-panel")).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(page.locator("#confusion tbody tr")).to_have_count(10)
    expect(page.locator("#confusion thead th")).to_have_count(13)  # corner, 10 classes, acc., n
    thumbs = page.locator("#gallery .thumb")
    evaluation = api.get(f"/api/models/{mnist}/evaluation", params={"limit": 100}).json()
    if evaluation["n_misclassified"]:
        expect(thumbs.first.locator("canvas")).to_have_count(1)
        shoot(page.locator("#confusion-panel"), "inspect-mnist-confusion.png")
        first = evaluation["misclassified"][0]
        thumbs.first.click()
        expect(page.locator("#stage")).to_have_attribute("data-example", f"test:{first['index']}")
        expect(page.locator("#index")).to_have_value(str(first["index"]))
        expect(page.locator("#result-line")).to_contain_text(f"predicted {first['predicted']}")
        # A cell of the matrix filters the gallery to that mistake.
        pair = evaluation["most_confused"][0]
        page.click(f"#confusion button[data-true='{pair['true']}'][data-pred='{pair['predicted']}']")
        expect(page.locator("#gallery-filter")).to_contain_text(f"True {pair['true']} predicted as {pair['predicted']}")
        # A cell lists all its own mistakes, not only those among the 100 most confident overall.
        top = [(m["true"], m["predicted"]) for m in evaluation["misclassified"]]
        cells = [(t, p, n) for t, row in enumerate(evaluation["confusion"]) for p, n in enumerate(row)
                 if t != p and 0 < n <= 24 and top.count((t, p)) < n]
        if cells:
            t, p, n = max(cells, key=lambda c: c[2] - top.count(c[:2]))
            page.click(f"#confusion button[data-true='{t}'][data-pred='{p}']")
            expect(page.locator("#gallery-filter")).to_contain_text(f"True {t} predicted as {p}: all {n} listed")
            # Only this cell's thumbnails, even when the previous cell's drawing finishes later.
            expect(thumbs.filter(has_text=f"{t}→{p}")).to_have_count(n)
            expect(thumbs).to_have_count(n)

    # A digit drawn on the pad, with its label.
    page.check("input[name=source][value=draw]")
    expect(page.locator("#clear-pad")).to_be_disabled()
    draw_stroke(page, "#pad", [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])
    expect(page.locator("#pad")).to_have_attribute("data-strokes", "1")
    page.select_option("#draw-label", "7")
    page.click("#trace-drawing")
    expect(page.locator("#stage")).to_have_attribute("data-example", "image")
    expect(page.locator("#result-line")).to_contain_text("your drawing")
    # The pad shows what the network got: the drawing as its 28x28 input image.
    expect(page.locator("#pad-input")).to_have_attribute("data-drawn", "true")
    assert page.eval_on_selector("#pad-input", PAINTED) == 28 * 28
    # Undo takes the stroke away; tracing an empty pad asks for a drawing first.
    page.click("#undo-pad")
    expect(page.locator("#pad")).to_have_attribute("data-strokes", "0")
    expect(page.locator("#pad-input")).to_have_attribute("data-drawn", "false")
    assert page.eval_on_selector("#pad", PAINTED) == 0
    page.click("#trace-drawing")
    expect(page.locator("#trace-error")).to_have_text("Draw a digit on the pad first.")
    assert "index=" not in page.url
    assert page.evaluate(UNLABELLED) == []

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "inspect-390x844.png")
    assert page.console.errors == []
