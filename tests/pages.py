"""Pages as a browser gets them: requested, their status checked, parsed as HTML.

View tests ask for a page and read it by its structure (a heading, a table's rows, a field's
error, a link's target) instead of searching the markup for substrings, so they say what the
page shows and keep passing when its markup is only reformatted.
"""

from __future__ import annotations

import json
from typing import Any

from bs4 import BeautifulSoup, Tag
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import TEST_PASSWORD

Page = BeautifulSoup


class ClientRequest:
    """A test client whose every request states the status it expects and returns the page.

    A POST carries the CSRF token of the last page this client got, as a browser submits a form
    from the page it shows: get the page first (or pass `csrf=False` to leave the token out).
    """

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf_token: str | None = None  # the last page's, which a form from it would carry

    def login(self, user: Any, password: str = TEST_PASSWORD) -> ClientRequest:
        """Sign `user` in through the sign-in form; return self, signed in."""
        self.get("/login")
        self.post("/login", data={"email": user.email, "password": password}, expected_status=302)
        self.csrf_token = None  # a sign-in starts a new session, with a token of its own
        return self

    def get(self, path: str, *, expected_status: int = 200, htmx: bool = False, **kwargs: Any) -> Page:
        """GET `path` (as htmx does, for a fragment, with `htmx=True`); return the page."""
        if htmx:
            kwargs["headers"] = {"HX-Request": "true", **kwargs.get("headers", {})}
        return self._page(self.client.get(path, **kwargs), expected_status)

    def post(
        self,
        path: str,
        *,
        data: dict[str, Any] | None = None,
        expected_status: int = 302,
        expected_redirect: str | None = None,
        csrf: bool = True,
        **kwargs: Any,
    ) -> Page:
        """POST a form to `path`; a form that worked redirects (302), to `expected_redirect` if given."""
        form = dict(data or {})
        if csrf:
            assert self.csrf_token, f"POST {path}: get the page its form is on first (it has the CSRF token)"
            form.setdefault("csrf_token", self.csrf_token)
        response = self.client.post(path, data=form, **kwargs)
        if expected_redirect is not None:
            assert response.headers.get("Location") == expected_redirect, (
                f"POST {path} went to {response.headers.get('Location')!r}, not {expected_redirect!r}"
            )
        return self._page(response, expected_status)

    def _page(self, response: TestResponse, expected_status: int) -> Page:
        html = response.get_data(as_text=True)
        assert response.status_code == expected_status, (
            f"{response.request.method} {response.request.path} answered {response.status_code}, "
            f"not {expected_status}:\n{html[:2000]}"
        )
        page = BeautifulSoup(html, "html.parser")
        token = page.select_one('input[name="csrf_token"]')
        body = page.select_one("body[hx-headers]")
        if token is not None:
            self.csrf_token = str(token["value"])
        elif body is not None:
            self.csrf_token = json.loads(str(body["hx-headers"]))["X-CSRFToken"]
        return page


def text(element: Tag | None) -> str:
    """What a reader sees of `element`: its text with runs of whitespace made one space."""
    assert element is not None, "no such element on the page"
    return " ".join(element.get_text(" ").split())


def texts(page: Tag, selector: str) -> list[str]:
    """The text of every element `selector` finds, in page order."""
    return [text(element) for element in page.select(selector)]


def one(page: Tag, selector: str) -> Tag:
    """The only element `selector` finds (failing when there is none or more than one)."""
    found = page.select(selector)
    assert len(found) == 1, f"{selector!r} found {len(found)} elements, not 1"
    return found[0]


def href_of(page: Tag, link_text: str) -> str:
    """Where the one link reading `link_text` leads."""
    found = [a for a in page.select("a[href]") if text(a) == link_text]
    assert len(found) == 1, f"{len(found)} links read {link_text!r}, not 1"
    return str(found[0]["href"])


def field_error(page: Tag, field: str) -> str:
    """The error shown under form field `field`."""
    return text(one(page, f"#{field}-error"))


def error_summary(page: Tag) -> dict[str, str]:
    """The problems listed at the top of a form: {field anchor: message}."""
    return {str(link["href"]).removeprefix("#"): text(link) for link in page.select(".error-summary a")}
