"""A practitioner sets up two-factor sign-in in Chromium, from the QR page's key, then signs in with a code."""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_content_security_policy import Violations


def test_a_practitioner_sets_up_two_factor_and_signs_in_with_a_code(open_page_as, practitioner, shot):
    page = open_page_as(practitioner)
    violations = Violations(page)
    violations.visit("/account")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    violations.check("the set-up page")
    shot(page, "set-up")

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, "recovery-codes")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email", exact=True).fill(practitioner.email)
    page.get_by_label("Password", exact=True).fill(factories.TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    violations.check("the code page")
    shot(page, "code-step")

    # The set-up used the current code; a phone a little ahead shows the next one.
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/monitor")
    expect(page.get_by_role("heading", name="Monitor")).to_be_visible()
