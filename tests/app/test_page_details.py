"""Details of the playground page a learner tripped over (issue 15): chart labels that
fit, a legend that follows the dataset, one class palette, no stale ETA."""

from __future__ import annotations

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

from tests.app.browser import open_page, shoot  # noqa: E402

# Records every text a canvas draws, with where its left edge lands (uPlot draws its ticks on canvas).
RECORD_CANVAS_TEXT = """
window.__canvasText = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
  const width = this.measureText(text).width;
  const left = this.textAlign === 'right' || this.textAlign === 'end' ? x - width
             : this.textAlign === 'center' ? x - width / 2 : x;
  window.__canvasText.push({ text: String(text), left, right: left + width, canvasWidth: this.canvas.width });
  return fillText.call(this, text, x, y, ...rest);
};
"""


def test_log_scale_tick_labels_are_drawn_whole(page, shared_server):
    page.add_init_script(RECORD_CANVAS_TEXT)
    open_page(page, shared_server.url + "/")
    page.evaluate("""async () => {
      const { lineChart } = await import('/static/js/charts.js');
      const el = document.createElement('div');
      el.id = 'tick-probe'; el.style.width = '400px';
      document.body.prepend(el);
      window.__canvasText.length = 0;
      const chart = lineChart(el, { series: [{ label: 'loss', stroke: '#000' }], yLog: true });
      chart.setData([[1, 2, 3, 4], [1.2e-4, 3e-6, 4e-8, 1.1e-9]]);
    }""")
    drawn = page.evaluate("window.__canvasText")
    ticks = [t for t in drawn if "e-" in t["text"]]
    assert ticks, drawn
    clipped = [t["text"] for t in ticks if t["left"] < 0]
    assert not clipped, f"tick labels cut at the canvas's left edge: {clipped}"
    shoot(page.locator("#tick-probe"), "log-ticks.png")


def test_the_empty_boundary_panel_follows_the_chosen_dataset(page, shared_server, shared_api, mnist_dir):
    expect = playwright_api.expect
    classes = {d["name"]: d["classes"] for d in shared_api.get("/api/datasets").json()}
    open_page(page, shared_server.url + "/")  # XOR, before any run
    legend = page.locator("#boundary-legend")
    expect(legend.locator(".swatch-item")).to_have_count(len(classes["xor"]))
    page.select_option("#f-dataset", "spiral")
    expect(legend.locator(".swatch-item")).to_have_text([f" {c}" for c in classes["spiral"]])
    expect(page.locator("#boundary-title")).to_have_text("Decision boundary")
    page.select_option("#f-dataset", "mnist")
    expect(page.locator("#boundary-title")).to_have_text("Prediction")
    expect(legend).to_contain_text("mnist has 784 inputs")
    page.select_option("#f-dataset", "sine")
    expect(page.locator("#boundary-title")).to_have_text("Fitted curve")


def test_class_k_has_one_colour_in_every_task(page, shared_server):
    expect = playwright_api.expect
    open_page(page, shared_server.url + "/")
    swatches = page.locator("#boundary-legend .swatch")
    page.select_option("#f-dataset", "xor")  # two classes
    expect(swatches).to_have_count(2)
    binary = swatches.evaluate_all("els => els.map(e => e.style.background)")
    page.select_option("#f-dataset", "spiral")  # three classes
    expect(swatches).to_have_count(3)
    multiclass = swatches.evaluate_all("els => els.map(e => e.style.background)")
    assert multiclass[:2] == binary, (binary, multiclass)
    assert len(set(multiclass)) == 3


def test_no_eta_once_the_run_is_paused_or_stopped(page, shared_server):
    expect = playwright_api.expect
    open_page(page, shared_server.url + "/#dataset=moons&layers=16:relu&lr=0.01&epochs=400&batch=4")
    progress = page.locator("#epoch-progress-text")
    for start, halt, status in (("#train", "#pause", "paused"), ("#resume", "#stop", "stopped")):
        page.click(start)
        expect(progress).to_contain_text("ETA", timeout=20_000)
        page.click(halt)
        expect(page.locator("#run-status")).to_have_attribute("data-status", status)
        expect(progress).to_contain_text(status)
        expect(progress).not_to_contain_text("ETA")
        expect(progress).not_to_contain_text("samples/s")


# Every text the run's status badge and sentence show, in order.
WATCH_STATUS = """() => {
  window.__statusSeen = [];
  const watch = (el) => new MutationObserver(() => window.__statusSeen.push(el.textContent))
    .observe(el, { childList: true, characterData: true, subtree: true });
  watch(document.querySelector('#run-status'));
  watch(document.querySelector('#status-line'));
}"""


def test_a_run_on_an_idle_server_is_never_shown_queued(page, server):
    expect = playwright_api.expect
    open_page(page, server.url + "/")  # a server of its own: nothing else runs
    page.evaluate(WATCH_STATUS)
    page.click("#train")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "completed", timeout=40_000)
    seen = page.evaluate("window.__statusSeen")
    assert not [s for s in seen if "queued" in s], seen
    assert any("Starting" in s for s in seen), seen


@pytest.mark.parametrize("viewport", [{"width": 1400, "height": 900}, {"width": 390, "height": 844}])
def test_the_letters_preview_shows_every_column(page, shared_server, shared_api, viewport):
    expect = playwright_api.expect
    page.set_viewport_size(viewport)
    open_page(page, shared_server.url + "/#dataset=letters")
    table = page.locator("#dataset-preview .preview-table")
    expect(table.locator("thead th")).to_have_count(27)  # label, A..Z
    expect(table.locator("thead th").last).to_have_text("Z")
    scroller = page.locator("#dataset-preview .table-scroll")
    last, box = table.locator("thead th").last.bounding_box(), scroller.bounding_box()
    assert last["x"] + last["width"] <= box["x"] + box["width"] + 1, (last, box)  # Z in sight, no scrolling
    shoot(page.locator("#dataset-preview"), f"letters-preview-{viewport['width']}.png")
    # A table too wide to fit (spam's long column names) says so: overlay scrollbars show nothing.
    spam = next(d for d in shared_api.get("/api/datasets").json() if d["name"] == "spam")
    page.select_option("#f-dataset", "spam")
    expect(page.locator("#dataset-preview-caption")).to_contain_text(
        f"Scroll the table sideways for all {spam['n_features']} columns")


def test_without_mnist_files_its_presets_and_quick_model_are_off(page, tmp_path):
    from tests.app.live_server import LiveServer

    expect = playwright_api.expect
    (tmp_path / "no-mnist").mkdir()
    server = LiveServer(tmp_path / "data", env={"MLP_MNIST_DIR": str(tmp_path / "no-mnist")}).start()
    try:
        open_page(page, server.url + "/")
        presets = page.locator("#preset option")
        mnist_presets = [o for o in presets.all() if o.get_attribute("value") in ("mnist-default", "from-scratch")]
        assert mnist_presets
        for option in mnist_presets:
            assert option.is_disabled(), option.text_content()
        expect(page.locator("#preset option[value=xor]")).to_be_enabled()
        expect(page.locator("#preset-hint")).to_contain_text("this server has no mnist files")
        page.locator("#draw").scroll_into_view_if_needed()
        expect(page.locator("#draw-train")).to_be_disabled()
        expect(page.locator("#draw-train-hint")).to_contain_text("no MNIST files")
        expect(page.locator("#draw-empty")).to_contain_text("none can be trained here")
        shoot(page.locator("#draw"), "draw-without-mnist.png")
    finally:
        server.stop()


def test_a_refusal_no_field_can_show_is_not_called_marked(page, shared_server):
    import json

    expect = playwright_api.expect
    page.console.allow(r"status of 422")
    refusal = {"detail": "the server's own limit", "errors": [{"loc": ["body", "no_such_field"], "msg": "too big"}]}
    page.route("**/api/runs", lambda r: r.fulfill(status=422, content_type="application/json", body=json.dumps(refusal))
               if r.request.method == "POST" else r.continue_())
    open_page(page, shared_server.url + "/")
    page.click("#train")
    expect(page.locator("#form-error")).to_contain_text("the server refused the settings")
    expect(page.locator("#form-error")).not_to_contain_text("marked")
    assert page.console.errors == []
