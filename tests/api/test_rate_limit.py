"""Each API key has its own request budget (API_RATE_LIMIT); past it, 429 with Retry-After."""

from tests.api.conftest import assert_problem


def test_a_key_over_its_limit_gets_429_with_retry_after_and_another_key_does_not(use_settings, api, api_with):
    use_settings(API_RATE_LIMIT="3 per minute")
    for _ in range(3):
        assert api.get("/notifications").status_code == 200
    response = api.get("/notifications")
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert api_with("read").get("/notifications").status_code == 200
