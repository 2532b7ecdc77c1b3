"""Where sign-in leads afterwards: only to a path on this site, whatever `next` holds."""

from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.urls import iri_to_uri

from app.views.safe_redirect import local_path
from tests import factories
from tests.conftest import csrf_token_from


def sign_in_with_next(client, user, target: str):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    form = {"email": user.email, "password": factories.TEST_PASSWORD, "csrf_token": token}
    return client.post("/login", query_string={"next": target}, data=form)


@pytest.mark.parametrize("target", ["/inbox\r\nSet-Cookie: x=1", "/inbox\n", "/in\x00box", "/\t/evil.example"])
def test_a_next_with_control_characters_leads_home_instead_of_failing(client, patient, target):
    response = sign_in_with_next(client, patient, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\\evil.example", "/\\/evil.example", "//evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "inbox"])
def test_a_next_a_browser_would_read_as_another_site_leads_home(client, patient, target):
    assert sign_in_with_next(client, patient, target).headers["Location"] == "/"


def test_a_next_with_a_query_string_is_kept(client, patient):
    assert sign_in_with_next(client, patient, "/inbox?before=12").headers["Location"] == "/inbox?before=12"


@pytest.mark.parametrize("target", ["/inbox", "/notifications/abc?x=1", "/admin/log?patient=Priya%20S"])
def test_local_paths_are_kept(target):
    assert local_path(target) == target


@pytest.mark.parametrize("target", [None, "", "inbox", "//x", "/\\x", "http://x/", "/a\rb", "/a\u2028b"])
def test_anything_else_is_not_a_local_path(target):
    assert local_path(target) is None


NEXT_VALUES = st.one_of(st.text(), st.text().map(lambda s: "/" + s), st.text().map(lambda s: "/\\" + s))


@settings(max_examples=500, deadline=None)
@given(target=NEXT_VALUES)
def test_a_local_path_can_never_lead_off_the_site(target):
    path = local_path(target)
    assert path is None or (path == target and path.startswith("/") and path.isprintable()
                            and not path.startswith("//") and "\\" not in path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=NEXT_VALUES)
def test_sign_in_never_fails_whatever_next_holds(app, use_settings, practitioner, target):
    use_settings(LOGIN_RATE_LIMIT="10000 per minute")
    client = app.test_client()
    response = sign_in_with_next(client, practitioner, target)
    assert response.status_code == 302
    location = response.headers["Location"]  # werkzeug percent-encodes what a URL may not hold
    assert location == "/" or unquote(location) == unquote(iri_to_uri(target))
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
