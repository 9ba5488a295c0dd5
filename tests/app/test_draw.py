"""The draw panel in a real browser against the real server (Playwright, Debian's
Chromium): draw digits with the mouse and watch a trained MNIST model read them,
with what the network sees, the ten probabilities and the hidden units; and, with
no model yet, train a quick one in one click. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from app.config import Settings
from tests.app.helpers import read_events
from tests.app.browser import PAINTED, PHONE, UNLABELLED, open_page, shoot

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

# A small MNIST model the API trains in seconds (~94% test accuracy).
MNIST_RUN = {"dataset": "mnist", "dataset_params": {"train_subset": 10000},
             "layers": [{"units": 256, "activation": "relu"}], "epochs": 2}

pytestmark = pytest.mark.skipif(Settings().mnist_dir is None or not Path(Settings().mnist_dir).is_dir(),
                                reason="no MNIST files: set MLP_MNIST_DIR")


def train_model(api, spec=MNIST_RUN) -> str:
    response = api.post("/api/runs", json=spec)
    assert response.status_code == 201, response.text
    events = read_events(api, response.json()["id"])
    assert events[-1]["event"] == "done" and events[-1]["data"]["status"] == "completed", events[-1]
    return events[-1]["data"]["model_id"]


# -- drawing with the mouse ------------------------------------------------------------------

def stroke(page, points, pause_ms=0, pause_every=0):
    """One stroke through `points`, given in the canvas's own 280x280 pixels."""
    page.eval_on_selector("#draw-canvas", "c => c.getBoundingClientRect().bottom > innerHeight && "
                                          "c.scrollIntoView({block: 'center'})")
    box = page.locator("#draw-canvas").bounding_box()
    # nothing (a sticky bar, say) lies over the canvas where the stroke goes
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).id",
                         [box["x"] + box["width"] / 2, box["y"] + 10]) == "draw-canvas"
    scale = box["width"] / 280

    def at(p):
        return box["x"] + p[0] * scale, box["y"] + p[1] * scale

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for i, p in enumerate(points[1:], 1):
        page.mouse.move(*at(p), steps=3)
        if pause_every and i % pause_every == 0:
            page.wait_for_timeout(pause_ms)
    page.mouse.up()


def vertical_line(page, **kw):
    stroke(page, [(140, 40 + 10 * i) for i in range(21)], **kw)


def ellipse(page, **kw):
    stroke(page, [(140 + 65 * math.sin(t), 140 - 95 * math.cos(t))
                  for t in (2 * math.pi * i / 40 for i in range(42))], **kw)


def strokes(page) -> int:
    return int(page.get_attribute("#draw-canvas", "data-strokes"))


def scroll_to(page, selector):
    """Put `selector` at the top of the viewport, below the controls where they stick (phones)."""
    page.eval_on_selector(selector, """el => {
      const bar = document.querySelector('.controls');
      const below = getComputedStyle(bar).position === 'sticky' ? bar.offsetHeight : 0;
      window.scrollBy(0, el.getBoundingClientRect().top - below - 8);
    }""")
    page.wait_for_timeout(200)


def digit(page):
    return expect(page.locator("#draw-digit"))


# -- the tests ----------------------------------------------------------------------------------

def test_draw_digits_live(page, server, api):
    model_id = train_model(api)
    predicts = []  # (start, end) of each predict request, in ms, as the browser's network stack timed them
    # Each send starts by encoding the drawing: count those moments, in the page's own clock. The
    # network's start times trail them by the encoding time, which varies by tens of ms on a busy machine.
    page.add_init_script("""(() => {
      window.drawingSends = [];
      const toDataURL = HTMLCanvasElement.prototype.toDataURL;
      HTMLCanvasElement.prototype.toDataURL = function (...args) {
        if (this.id === "draw-canvas") window.drawingSends.push(performance.now());
        return toDataURL.apply(this, args);
      };
    })()""")

    def finished(request):
        if "/predict" in request.url:
            t = request.timing
            predicts.append((t["startTime"], t["startTime"] + t["responseEnd"]))
    page.on("requestfinished", finished)
    page.on("requestfailed", finished)

    open_page(page, server.url + "/")
    panel = page.locator("#draw")
    expect(panel).to_have_attribute("data-state", "ready")
    expect(page.locator("#draw-model")).to_have_value(model_id)
    expect(page.locator("#draw-model option")).to_have_count(1)
    expect(page.locator("#draw-model option")).to_contain_text("mnist 784-256-10")
    expect(page.locator("#draw-status")).to_contain_text("Draw a digit")
    expect(page.locator("#draw-undo")).to_be_disabled()
    expect(page.locator("#draw-clear")).to_be_disabled()

    # A vertical line, drawn slowly: the prediction follows the pen, paced by the throttle.
    vertical_line(page, pause_ms=120, pause_every=4)
    digit(page).to_have_text("1")
    expect(page.locator("#draw-digit")).to_have_attribute("data-digit", "1")
    expect(page.locator("#draw-status")).to_have_text("")
    assert strokes(page) == 1
    for _ in range(50):  # the last request of the stroke comes back
        sends = page.evaluate("window.drawingSends")
        if len(predicts) == len(sends):
            break
        page.wait_for_timeout(100)
    assert len(sends) == len(predicts), (sends, predicts)
    assert len(predicts) >= 3, predicts  # while drawing, not only at the end
    predicts.sort()
    for (start, end), (next_start, _) in zip(predicts, predicts[1:]):
        assert next_start >= end, predicts  # never two in flight
    gaps = [b - a for a, b in zip(sends, sends[1:])]
    assert min(gaps) >= 95, gaps  # at most one every 100 ms (a ms or two for a GC pause)

    # What the network sees, the ten bars and one heat-map cell per hidden unit.
    preview = page.locator("#draw-input")
    expect(preview).to_have_attribute("data-drawn", "true")
    assert page.eval_on_selector("#draw-input", PAINTED) == 28 * 28
    line_ink = float(preview.get_attribute("data-ink"))
    assert line_ink > 10
    assert preview.bounding_box()["width"] == 140
    assert page.eval_on_selector("#draw-input", "c => getComputedStyle(c).imageRendering") == "pixelated"
    expect(page.locator("#draw-probs li")).to_have_count(10)
    expect(page.locator("#draw-probs li.top")).to_have_attribute("data-digit", "1")
    heights = page.eval_on_selector_all("#draw-probs .prob-fill", "els => els.map(e => parseFloat(e.style.height))")
    assert abs(sum(heights) - 100) < 1 and max(heights) == heights[1], heights
    grid = page.locator("#draw-layers canvas.act-grid")
    expect(grid).to_have_count(1)
    expect(grid).to_have_attribute("data-units", "256")
    expect(grid).to_have_attribute("data-cells", "256")
    rows, cols = int(grid.get_attribute("data-rows")), int(grid.get_attribute("data-cols"))
    assert rows * cols == 256
    assert page.eval_on_selector("#draw-layers canvas.act-grid", PAINTED) > 1000
    expect(page.locator(".act-readout")).to_contain_text("of 256 units fire")
    box = grid.bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)  # hover the first cell
    expect(page.locator(".act-readout")).to_contain_text("unit 0:")

    # Clear: back to the friendly hint (no request, so no 422 in the console).
    page.click("#draw-clear")
    digit(page).to_have_text("–")
    expect(page.locator("#draw-status")).to_contain_text("Draw a digit")
    expect(preview).to_have_attribute("data-drawn", "false")
    expect(grid).to_have_attribute("data-cells", "0")
    assert strokes(page) == 0 and page.eval_on_selector("#draw-canvas", PAINTED) == 0
    expect(page.locator("#draw-undo")).to_be_disabled()

    # A closed loop reads as 0, and the network sees another picture.
    ellipse(page)
    digit(page).to_have_text("0")
    expect(page.locator("#draw-probs li.top")).to_have_attribute("data-digit", "0")
    expect(preview).to_have_attribute("data-drawn", "true")
    zero_ink = float(preview.get_attribute("data-ink"))
    assert abs(zero_ink - line_ink) > 5, (zero_ink, line_ink)
    zero_pixels = page.eval_on_selector("#draw-canvas", PAINTED)

    # A second stroke changes the picture; Undo takes it away again.
    stroke(page, [(40, 140), (240, 140)])
    assert strokes(page) == 2
    page.wait_for_function(f"() => document.querySelector('#draw-input').dataset.ink !== '{zero_ink:.2f}'")
    assert page.eval_on_selector("#draw-canvas", PAINTED) > zero_pixels
    page.click("#draw-undo")
    assert strokes(page) == 1
    digit(page).to_have_text("0")
    assert abs(page.eval_on_selector("#draw-canvas", PAINTED) - zero_pixels) < 0.02 * zero_pixels
    page.wait_for_function(
        f"() => Math.abs(+document.querySelector('#draw-input').dataset.ink - {zero_ink}) < 0.05 * {zero_ink}")

    # Ctrl+Z on the focused canvas undoes too; the brush size has a label and a readout.
    page.focus("#draw-canvas")
    page.keyboard.press("Control+z")
    assert strokes(page) == 0
    digit(page).to_have_text("–")
    page.fill("#draw-brush", "30")
    expect(page.locator("#draw-brush-value")).to_have_text("30")
    page.fill("#draw-brush", "20")
    assert page.evaluate(UNLABELLED) == []

    # Screenshots with a digit on the canvas: desktop, then phone width.
    ellipse(page)
    digit(page).to_have_text("0")
    scroll_to(page, "#draw")
    shoot(page, "draw-1280x800.png")

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(400)  # the heat map follows the new width
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    assert page.locator("#draw-canvas").bounding_box()["width"] <= PHONE["width"] - 20
    grid_box = grid.bounding_box()
    assert grid_box["x"] + grid_box["width"] <= PHONE["width"]
    # Draw on the phone-sized canvas as well.
    page.click("#draw-clear")
    page.eval_on_selector("#draw-canvas", "c => c.scrollIntoView({block: 'center'})")
    vertical_line(page)
    digit(page).to_have_text("1")
    scroll_to(page, "#draw")
    shoot(page, "draw-390x844.png")
    scroll_to(page, "#draw-activations")
    shoot(page, "draw-390x844-activations.png")
    assert page.console.errors == []


def test_one_click_quick_model_then_new_models_appear(page, server):
    """No MNIST model: one click trains a quick one with progress and selects it;
    a model trained later from the builder shows up in the picker by itself."""
    open_page(page, server.url + "/")
    panel = page.locator("#draw")
    expect(panel).to_have_attribute("data-state", "empty")
    expect(page.locator("#draw-empty")).to_be_visible()
    expect(page.locator("#draw-prediction")).to_be_hidden()
    expect(page.locator("#draw-model")).to_be_disabled()
    expect(page.locator("#draw-train-hint")).to_contain_text("mnist-default")
    expect(page.locator("#draw-train-hint")).to_contain_text("2 epochs instead of 10")
    scroll_to(page, "#draw")
    shoot(page, "draw-empty-1280x800.png")

    # Draw while it trains: the guess appears as soon as the model is there.
    page.click("#draw-train")
    expect(page.locator("#draw-train-progress")).to_be_visible()
    expect(page.locator("#draw-train-text")).to_contain_text("ETA", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#draw-train-progress').value > 0")
    expect(page.locator("#draw-train")).to_be_disabled()
    expect(page.locator("#run-list .run")).to_have_count(1)  # the page's run list knows the run
    scroll_to(page, "#draw")
    shoot(page, "draw-training-1280x800.png")
    vertical_line(page)
    expect(panel).to_have_attribute("data-state", "ready", timeout=120_000)
    expect(page.locator("#draw-model option")).to_have_count(1)
    expect(page.locator("#draw-model option")).to_contain_text("mnist 784-512-10")
    digit(page).to_have_text("1")
    expect(page.locator("#draw-layers canvas.act-grid")).to_have_attribute("data-cells", "512")
    expect(page.locator("#draw-train-text")).to_contain_text("test accuracy")
    expect(page.locator("#run-list .run .badge")).to_have_text("completed")
    quick_model = page.input_value("#draw-model")

    # A run of an MNIST model from the builder: when it completes, the picker gets it.
    page.goto(server.url + "/#dataset=mnist&p.train_subset=2000&layers=32:relu&epochs=1&batch=128")
    page.wait_for_selector("#main[data-ready=true]")
    expect(panel).to_have_attribute("data-state", "ready")
    page.click("#train")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator("#draw-model option")).to_have_count(2)
    expect(page.locator("#draw-model option").first).to_contain_text("mnist 784-32-10")
    expect(page.locator("#draw-layers canvas.act-grid")).to_have_attribute("data-units", "32")
    assert page.input_value("#draw-model") != quick_model
    # The learner can go back to the other one.
    page.select_option("#draw-model", quick_model)
    expect(page.locator("#draw-layers canvas.act-grid")).to_have_attribute("data-units", "512")
    expect(page.locator("#draw-layers canvas.act-grid")).to_have_attribute("data-cells", "512")
    digit(page).to_have_text("1")
    scroll_to(page, "#draw")
    shoot(page, "draw-512-units-1280x800.png")
    assert page.console.errors == []
