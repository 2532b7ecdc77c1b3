"""The page-reading client the view tests use: it fails loudly, saying what came back."""

import pytest

from tests.pages import field_error, one, text


def test_an_unexpected_status_fails_with_what_the_page_said(client_request):
    with pytest.raises(AssertionError, match=r"GET /inbox answered 302, not 200"):
        client_request.get("/inbox")


def test_a_form_post_needs_the_page_its_form_is_on_first(client_request):
    with pytest.raises(AssertionError, match="get the page its form is on first"):
        client_request.post("/login", data={"email": "someone@clinic.test"})


def test_a_redirect_elsewhere_than_expected_fails(client_request, patient):
    client_request.get("/login")
    with pytest.raises(AssertionError, match="went to '/', not '/inbox'"):
        client_request.post("/login", data={"email": patient.email, "password": "correct horse battery"},
                            expected_redirect="/inbox")


def test_a_refused_form_is_read_by_its_fields(client_request):
    client_request.get("/login")
    page = client_request.post("/login", data={"email": ""}, expected_status=422)
    assert field_error(page, "email") == "Enter your email"
    assert text(one(page, "h1")) == "Sign in"
