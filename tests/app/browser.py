"""Browser-test helpers: Debian's Chromium for Playwright, viewports, screenshots,
console-error collection, and page probes."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = os.environ.get("MLP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = REPO_ROOT / "tests" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# How many pixels of a canvas are painted (alpha > 0).
PAINTED = """canvas => {
  const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;
}"""

# Form controls with no accessible name (no <label>, aria-label or text).
UNLABELLED = """() => [...document.querySelectorAll('input, select, button, textarea')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
  .map(e => e.id || e.outerHTML.slice(0, 80))"""


class Console:
    """Collects console errors and uncaught page errors; some may be expected
    (the browser logs every 4xx response and every refused connection)."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []
        page.on("console", lambda m: m.type == "error" and self._add(f"console: {m.text}"))
        page.on("pageerror", lambda e: self._add(f"pageerror: {e}"))

    def _add(self, text: str) -> None:
        if not any(p.search(text) for p in self.allowed):
            self.errors.append(text)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#main[data-ready=true]")


def shoot(target, name: str, **options) -> Path:
    """Screenshot a page or an element into tests/screenshots/name."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    target.screenshot(path=str(path), **options)
    return path


def draw_stroke(page, selector: str, points, steps: int = 8) -> None:
    """One mouse stroke on the canvas `selector` through `points`, as fractions (0..1) of its box."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()

    def at(p):
        return box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"]

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p), steps=steps)
    page.mouse.up()
