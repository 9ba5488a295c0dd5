"""The playground page in a real browser against the real server (Playwright,
Debian's Chromium): build a network, train it, watch it learn, and keep the
setup in the URL. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

from tests.app.browser import PAINTED, PHONE, UNLABELLED, Console, open_page, shoot  # noqa: E402

# Every builder input's value, keyed by its data-path: the setup as the page shows it.
FIELD_VALUES = """() => Object.fromEntries([...document.querySelectorAll('#builder [data-path]')]
  .map(i => [i.dataset.path, i.type === 'checkbox' ? i.checked : i.value]))"""


def test_train_xor_live(page, server):
    expect = playwright_api.expect
    open_page(page, server.url + "/")
    page.select_option("#preset", "xor")
    expect(page.locator("#f-layers-0-units")).to_have_value("4")
    expect(page.locator("#param-total")).to_have_text("17")  # W1 2x4 + b1 4 + W2 4x1 + b2 1

    # Bad values: the server's 422 lands beside each field.
    page.console.allow(r"status of 422")
    page.fill("#f-optimizer-lr", "-1")
    page.fill("#f-layers-0-units", "0")
    page.click("#train")
    expect(page.locator('[data-error-for="optimizer.lr"]')).to_contain_text("greater than 0")
    expect(page.locator('[data-error-for="layers.0.units"]')).to_contain_text("greater than or equal to 1")
    expect(page.locator("#f-optimizer-lr")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-error")).to_contain_text("Not started")
    page.fill("#f-optimizer-lr", "0.05")
    expect(page.locator('[data-error-for="optimizer.lr"]')).to_be_empty()
    page.fill("#f-layers-0-units", "4")
    # A 422 with only a `detail` (a server limit) still finds its field.
    page.fill("#f-epochs", "5000")
    page.click("#train")
    expect(page.locator('[data-error-for="epochs"]')).to_contain_text("over this server's limit")
    page.fill("#f-epochs", "300")

    # Train and watch: the loss chart fills and falls, histograms and the boundary get drawn.
    page.click("#train")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "completed", timeout=40_000)
    loss = page.locator("#loss-chart")
    expect(loss).to_have_attribute("data-points", "300")
    first, last = float(loss.get_attribute("data-first-loss")), float(loss.get_attribute("data-last-loss"))
    assert last < first / 10, (first, last)
    assert page.locator("#loss-chart canvas").count() == 1
    expect(page.locator("#status-line")).to_contain_text("completed after 300 epochs")
    for canvas in ("#histogram", "#boundary"):
        expect(page.locator(canvas)).to_have_attribute("data-drawn", "true")
        assert page.eval_on_selector(canvas, PAINTED) > 1000, canvas
    expect(page.locator("#histogram")).to_have_attribute("data-epochs", "300")
    expect(page.locator("#boundary")).to_have_attribute("data-epoch", "300")
    expect(page.locator("#layer-stats tr")).to_have_count(2)
    expect(page.locator("#run-list .run")).to_have_count(1)
    expect(page.locator("#run-list .run .badge")).to_have_text("completed")
    page.select_option("#hist-kind", "gradients")
    assert page.eval_on_selector("#histogram", PAINTED) > 1000
    page.evaluate("document.querySelector('#builder').scrollTop = 0; window.scrollTo(0, 0)")
    shoot(page, "page-1280x800.png")
    shoot(page, "page-1280-full.png", full_page=True)

    # The link reopens the finished run from its history.
    assert "run=" in page.url
    page.reload()
    page.wait_for_selector("#main[data-ready=true]")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "completed")
    expect(page.locator("#loss-chart")).to_have_attribute("data-points", "300")
    expect(page.locator("#boundary")).to_have_attribute("data-drawn", "true")

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # let the canvases follow the new width
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    page.locator(".controls").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, document.querySelector('.controls').getBoundingClientRect().top - 8)")
    page.wait_for_timeout(200)
    shoot(page, "page-390x844.png")
    shoot(page, "page-390-full.png", full_page=True)
    assert page.console.errors == []


def test_url_state_round_trips(page, server, mnist_dir):  # mnist_dir: the MNIST preset needs the files
    expect = playwright_api.expect
    open_page(page, server.url + "/")
    page.select_option("#f-dataset", "moons")
    page.fill("#f-dataset_params-noise", "0.3")
    page.click("#add-layer")
    page.fill("#f-layers-1-units", "8")
    page.select_option("#f-layers-1-activation", "relu")
    page.select_option("#f-optimizer-name", "momentum")
    expect(page.locator("#f-optimizer-momentum")).to_be_visible()
    expect(page.locator("#f-optimizer-beta1")).to_be_hidden()
    page.fill("#f-optimizer-lr", "0.2")
    page.fill("#f-optimizer-momentum", "0.8")
    page.select_option("#f-schedule-name", "cosine")
    page.fill("#f-schedule-min_lr", "0.001")
    page.fill("#f-epochs", "25")
    page.fill("#f-batch_size", "16")
    page.fill("#f-clip_norm", "1.5")
    page.fill("#f-validation_split", "0.2")
    page.fill("#f-early_stopping", "3")
    page.select_option("#f-init", "xavier")
    page.uncheck("#log-scale")
    setup = page.evaluate(FIELD_VALUES)
    total = page.text_content("#param-total")
    url = page.url
    assert "dataset=moons" in url and "layers=4:tanh,8:relu" in url

    other = page.context.new_page()
    other.console = Console(other)
    open_page(other, url)
    assert other.evaluate(FIELD_VALUES) == setup

    # The MNIST preset's augmentation shows in its fields (images only) and in the link.
    page.select_option("#preset", "mnist-default")
    expect(page.locator("#f-augment-max_shift")).to_have_value("1")
    expect(page.locator("#f-augment-max_rotation")).to_have_value("8")
    assert "shift=1" in page.url and "rotate=8" in page.url
    page.select_option("#f-dataset", "xor")
    expect(page.locator("#f-augment-max_shift")).to_be_hidden()
    assert "shift=" not in page.url  # switched off with the dataset: XOR has no images
    assert other.text_content("#param-total") == total == "61"  # 2x4+4 + 4x8+8 + 8x1+1
    assert other.is_checked("#log-scale") is False
    expect(other.locator("#network-diagram circle")).to_have_count(2 + 4 + 8 + 1)
    assert other.url == url
    assert other.evaluate(UNLABELLED) == []
    # A hash pasted into the address bar is taken as the new setup.
    other.evaluate("location.hash = '#dataset=circle&layers=3:relu&lr=0.3'")
    expect(other.locator("#f-dataset")).to_have_value("circle")
    expect(other.locator("#f-optimizer-lr")).to_have_value("0.3")
    expect(other.locator("#param-total")).to_have_text("13")  # 2x3+3 + 3x1+1
    assert page.console.errors == [] and other.console.errors == []


def test_pause_resume_stop_reconnect_compare(page, server, api):
    """The controls drive the run; when the server goes away mid-run, the page says
    so, reconnects by itself, and the interrupted run resumes from its checkpoint."""
    expect = playwright_api.expect
    open_page(page, server.url + "/#dataset=moons&layers=16:relu&lr=0.01&epochs=400&batch=4")
    points = page.locator("#loss-chart")
    page.focus("#train")  # by keyboard
    page.keyboard.press("Enter")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "running")
    page.wait_for_function("() => +document.querySelector('#loss-chart').dataset.points >= 2")

    page.focus("#pause")
    page.keyboard.press("Space")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "paused")
    expect(page.locator("#resume")).to_be_enabled()
    page.wait_for_timeout(200)  # an epoch event that came just before the pause gets drawn
    paused_at = int(points.get_attribute("data-points"))
    page.wait_for_timeout(600)
    assert int(points.get_attribute("data-points")) == paused_at
    page.click("#resume")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "running")
    page.wait_for_function(f"() => +document.querySelector('#loss-chart').dataset.points > {paused_at}")

    # The server dies mid-run (workers too) and comes back on the same port.
    page.console.allow(r"net::ERR_|Failed to load resource")
    server.stop(hard=True)
    expect(page.locator("#connection-line")).to_contain_text("reconnecting")
    server.start()
    expect(page.locator("#run-status")).to_have_attribute("data-status", "interrupted", timeout=20_000)
    expect(page.locator("#connection-line")).to_contain_text("back")
    before = int(points.get_attribute("data-points"))
    page.click("#resume")
    page.wait_for_function(f"() => +document.querySelector('#loss-chart').dataset.points > {before}", timeout=20_000)
    expect(page.locator("#run-status")).to_have_attribute("data-status", "running")
    page.click("#stop")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "stopped")
    expect(page.locator("#status-line")).to_contain_text("stopped")
    expect(page.locator("#stop")).to_be_disabled()

    # A second run (made through the API), then both runs' loss on one chart.
    xor = {"dataset": "xor", "layers": [{"units": 4, "activation": "tanh"}], "optimizer": {"name": "adam", "lr": 0.05},
           "epochs": 30, "batch_size": 4}
    assert api.post("/api/runs", json=xor).status_code == 201
    page.click("#refresh-runs")
    expect(page.locator("#run-list .run")).to_have_count(2)
    expect(page.locator("#run-list .run").first.locator(".badge")).to_have_text("completed", timeout=20_000)
    for box in page.locator("#run-list input[type=checkbox]").all():
        box.check()
    expect(page.locator("#compare-chart")).to_have_attribute("data-series", "2")
    assert page.locator("#compare-chart canvas").count() == 1
    # Opening a run from the list shows its history and puts its setup in the builder.
    page.locator("#run-list button[data-open]").first.click()
    expect(page.locator("#run-status")).to_have_attribute("data-status", "completed")
    expect(page.locator("#loss-chart")).to_have_attribute("data-points", "30")
    expect(page.locator("#f-dataset")).to_have_value("xor")
    expect(page.locator("#boundary")).to_have_attribute("data-drawn", "true")
    assert page.console.errors == []


def test_a_big_network_says_it_trains_on_every_core(page, tmp_path, mnist_dir):
    """With one run at a time, MNIST's 784-512-10 trains tensor-parallel, and the page says so."""
    import os

    from tests.app.live_server import LiveServer

    cores = os.cpu_count() or 1
    if cores < 2:
        pytest.skip("one core: nothing to split over")
    expect = playwright_api.expect
    live = LiveServer(tmp_path / "data", env={"MLP_MAX_CONCURRENT_RUNS": "1"}).start()
    try:
        open_page(page, live.url + "/")
        page.select_option("#preset", "mnist-default")
        page.click("#train")
        expect(page.locator("#status-line")).to_contain_text(f"on {cores} cores", timeout=30_000)
        expect(page.locator("#run-status")).to_have_attribute("data-status", "running")
        shoot(page.locator("#status-line").locator(".."), "status-tensor-parallel.png")
        page.click("#stop")
        expect(page.locator("#run-status")).to_have_attribute("data-status", "stopped", timeout=30_000)
        assert page.console.errors == []
    finally:
        live.stop()
