"""Browser fixtures: one headless Chromium for all the browser tests, one context per person.

Every test here drives Debian's Chromium through playwright against the app on a real server
(`live_server`). Without Chromium the tests skip, except on CI (CI=true), where a missing
browser fails them: a CI run that silently skipped every browser test would prove nothing.

Each test keeps full-page screenshots of what it saw under tests/artifacts/<test name>/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests import factories

BROWSER_TESTS = Path(__file__).resolve().parent
ARTIFACTS = BROWSER_TESTS.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "Chromium is not installed: browser tests skipped"
# Playwright's own default is 30 s; a step here takes well under a second, so 10 s is ample
# for a slow shared runner and still fails fast enough to be useful.
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

T = TypeVar("T")


def find_chromium() -> str | None:
    """Debian's Chromium, or any `chromium` on PATH."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected test, not only this folder's.
    for item in items:
        if BROWSER_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def chromium_path() -> str:
    """Where Chromium is; skips (or on CI fails) every browser test when it is missing."""
    path = find_chromium()
    if path is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("Chromium is not installed, and on CI (CI=true) the browser tests must run")
        pytest.skip(NO_CHROMIUM)
    return path


# One driver and one Chromium for the whole run of browser tests. They are package-scoped, not
# session-scoped, so both stop as soon as the last browser test is done: the sync driver keeps
# an asyncio loop marked as running on this thread, and every later test that calls
# asyncio.run() (the FCM provider does) would fail while it lives.
@pytest.fixture(scope="package")
def playwright_driver(chromium_path: str) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


class Screenshots:
    """`shot(page, "what")` saves a full-page screenshot as <nn>-<what>.png, numbered in order."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.taken = 0

    def __call__(self, page: Page, what: str) -> Path:
        self.taken += 1
        path = self.folder / f"{self.taken:02d}-{_slug(what)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "page"


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Screenshots:
    """Screenshots for this test, in tests/artifacts/<test name>/ (emptied first)."""
    folder = ARTIFACTS / _slug(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Screenshots(folder)


@pytest.fixture
def open_page_as(
    browser: Browser, live_server: str, shot: Screenshots
) -> Iterator[Callable[..., Page]]:
    """Sign `user` in, in a browser context of their own, and return the page they land on.

    Two calls are two people on two devices: cookies and storage are never shared. Whatever
    each page shows when the test ends is screenshotted too, which is what one wants to see
    when a test fails.
    """
    opened: list[tuple[BrowserContext, Page, str]] = []

    def open_page(user, *, viewport: dict[str, int] | None = None) -> Page:
        context = browser.new_context(base_url=live_server, viewport=viewport or DESKTOP)
        context.set_default_timeout(TIMEOUT_MS)
        # htmx announces its WebSocket opening; tests wait on this before relying on live updates.
        context.add_init_script(
            "document.addEventListener('htmx:wsOpen', () => { document.documentElement.dataset.liveInbox = 'open'; });"
        )
        page = context.new_page()
        who = user.role.value
        opened.append((context, page, who))
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill(user.email)
        page.get_by_label("Password", exact=True).fill(factories.TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: urlsplit(url).path != "/login", timeout=TIMEOUT_MS)
        shot(page, f"{who}-signed-in")
        return page

    yield open_page
    for context, page, who in opened:
        if not page.is_closed():
            with contextlib.suppress(Exception):  # a crashed page must not hide the test's failure
                shot(page, f"{who}-at-end")
        context.close()


def wait_for_live_inbox(page: Page) -> None:
    """Wait until the patient's page has its live WebSocket open. A marker in the DOM, not
    `wait_for_function`: Playwright evaluates that predicate as a string on every poll, which the
    page's CSP (no 'unsafe-eval') refuses whenever the first check is not already true."""
    expect(page.locator("html")).to_have_attribute("data-live-inbox", "open", timeout=TIMEOUT_MS)


def eventually(read: Callable[[], T], *, seconds: float = 15.0, interval: float = 0.05) -> T:
    """Call `read` until it returns something truthy; return that, or the last falsy answer."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def badge_count(page: Page) -> int:
    return int(page.locator("#unread-badge [data-count]").inner_text())


def expect_badge(page: Page, count: int) -> None:
    expect(page.locator("#unread-badge [data-count]")).to_have_text(str(count), timeout=TIMEOUT_MS)


def choose_patient(page: Page, typed: str, name: str) -> None:
    """Type into the compose form's patient search and click the matching suggestion."""
    page.wait_for_load_state()  # htmx binds the search box when the page has loaded
    page.get_by_role("combobox", name="Patient").fill(typed)
    page.locator(".suggestion", has_text=name).click()
    expect(page.get_by_role("combobox", name="Patient")).to_have_value(name)


def send_message(
    sender,
    patients,
    *,
    title: str,
    channels: tuple[str, ...] = ("in_app",),
    body: str = "Rest well after today's session.",
):
    """Create a send the way Compose does, without a browser (deliver it with `run_worker`)."""
    return factories.create_send(sender=sender, recipients=patients, channels=channels, title=title, body=body)
