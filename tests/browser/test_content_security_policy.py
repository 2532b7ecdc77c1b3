"""Under the Content-Security-Policy the main pages work and the browser reports no violation.

Chromium logs every blocked script, style, frame or connection to the console (of whichever
frame it happened in, the sandboxed email frames included); each test collects those messages
and the page's `securitypolicyviolation` events while it walks the pages, and expects none.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, choose_patient, send_message, wait_for_live_inbox

REPORT_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}: ${e.sample || ""}`);
});
"""


class Violations:
    """What the browser refused on a page, from its console and its violation events."""

    def __init__(self, page: Page):
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text or "Refused to" in text:
            self.console.append(f"{message.type}: {text}")

    def visit(self, path: str) -> None:
        self.page.goto(path)
        self.page.wait_for_load_state("load")
        self.check(path)

    def check(self, where: str) -> None:
        events = self.page.evaluate("window.cspViolations || []")
        assert not self.console and not events, f"on {where}: {self.console + events}"


@pytest.fixture
def delivered(practitioner, patient, run_worker):
    """An email and an in-app message to Priya, delivered through the console providers."""
    result = send_message(practitioner, [patient], title="Rest after Basti", channels=("in_app", "email"))
    run_worker()
    return result


def email_frame_body(page: Page, selector: str):
    return page.frame_locator(selector).locator("body")


def test_the_login_page_runs_without_violations(browser, live_server):
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        violations = Violations(context.new_page())
        violations.visit("/login")
        expect(violations.page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        context.close()


def test_compose_and_its_email_preview_work_without_violations(open_page_as, shot, practitioner, patient):
    page = open_page_as(practitioner)
    violations = Violations(page)
    violations.visit("/compose")
    choose_patient(page, "Priya", patient.name)
    page.get_by_label("Choose channels").check()
    page.get_by_label("Email").check()
    page.get_by_label("Title").fill("Diet during Virechana")
    page.get_by_label("Message", exact=True).fill("Take only rice gruel for three days.")
    preview = email_frame_body(page, "iframe.email-frame")
    expect(preview).to_contain_text("Take only rice gruel for three days.", timeout=TIMEOUT_MS)
    # The email's own inline style applies inside the sandboxed frame (allowed by its hash).
    assert "sans-serif" in preview.evaluate("body => getComputedStyle(body).fontFamily")
    shot(page, "compose-email-preview")
    violations.check("/compose with the email preview")


def test_monitor_a_notification_and_a_send_work_without_violations(open_page_as, shot, practitioner, delivered):
    page = open_page_as(practitioner)
    violations = Violations(page)
    violations.visit("/monitor")
    email = next(item for item in delivered.items if item.channel.value == "email")
    violations.visit(f"/notifications/{email.notification_id}")
    expect(email_frame_body(page, "iframe.email-frame")).to_contain_text("Rest well", timeout=TIMEOUT_MS)
    violations.visit(f"/sends/{delivered.group_id}")
    # The progress bar's widths come from data attributes, set by the site's own script.
    done = page.locator(".progress .done")
    expect(done).to_have_attribute("data-percent", "100.0")
    assert done.evaluate("bar => bar.style.width") == "100%"
    assert done.bounding_box()["width"] > 0
    shot(page, "send-progress")
    violations.check("the send page")


def test_the_inbox_with_its_live_socket_works_without_violations(open_page_as, patient, delivered):
    page = open_page_as(patient)
    violations = Violations(page)
    violations.visit("/inbox")
    wait_for_live_inbox(page)  # the socket to this site is allowed (connect-src 'self')
    page.locator("article.inbox-item").first.get_by_role("link").first.click()
    page.wait_for_load_state("load")
    violations.check("an inbox item")


def test_the_admin_pages_work_without_violations(open_page_as, admin, patient, delivered):
    page = open_page_as(admin)
    violations = Violations(page)
    for path in ("/admin/log", "/admin/stats", "/admin/queues", "/admin/users", f"/admin/users/{patient.id}",
                 "/admin/users/new", "/admin/outbox"):
        violations.visit(path)
    expect(email_frame_body(page, "iframe.outbox-html").first).to_contain_text("Rest well", timeout=TIMEOUT_MS)
