"""Every page works offline: nothing is requested from another host by the playground,
the inspect page, or the API explorers (/docs, /redoc), whose assets the app serves
itself; and every page keeps the Content-Security-Policy, explorers included."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def visit(page, url: str) -> list[str]:
    """Open `url`; return the URLs the page asked of any other host (refused, as offline)."""
    own = urlsplit(url).netloc
    elsewhere: list[str] = []

    def route(r):
        if urlsplit(r.request.url).netloc in (own, "") or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return elsewhere


@pytest.mark.parametrize("path", ["/", "/inspect", "/docs", "/redoc"])
def test_no_request_leaves_the_server(page, shared_server, path):
    assert visit(page, shared_server.url + path) == []


def test_swagger_ui_renders_the_operations_under_the_csp(page, shared_server, shared_api):
    csp = shared_api.get("/docs").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert visit(page, shared_server.url + "/docs") == []
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    paths = shared_api.get("/openapi.json").json()["paths"]
    assert page.locator(".opblock").count() == sum(len(ops) for ops in paths.values())
    expect(page.locator(".opblock-summary-path", has_text="/api/runs").first).to_be_visible()
    assert page.console.errors == []


def test_redoc_renders_under_the_csp(page, shared_server, shared_api):
    assert "content-security-policy" in shared_api.get("/redoc").headers
    # ReDoc's side menu always shows Redocly's logo from its CDN: the CSP refuses it in the
    # browser (no request goes out) and ReDoc then leaves the image out.
    page.console.allow(r"cdn\.redoc\.ly/redoc/logo-mini\.svg' violates")
    assert visit(page, shared_server.url + "/redoc") == []
    expect(page.locator("h1", has_text="MLP Playground")).to_be_visible(timeout=15_000)
    expect(page.locator("[data-section-id^='operation/']").first).to_be_attached()
    assert page.console.errors == []


def test_explorer_screenshots(page, shared_server):
    from tests.app.browser import shoot

    for path, ready in (("/docs", ".opblock"), ("/redoc", "[data-section-id^='operation/']")):
        page.goto(shared_server.url + path)
        page.wait_for_selector(ready)
        shoot(page, f"explorer{path.replace('/', '-')}.png")
