"""GET /api/v1/stats: the admin's delivery stats and queue health, for a reading key."""

from tests import factories
from tests.api.conftest import assert_problem


def test_stats_count_deliveries_per_channel_and_queues(api, admin, patient, run_worker):
    factories.create_send(sender=admin, recipients=[patient])
    run_worker()
    body = api.get("/stats").get_json()
    in_app = next(c for c in body["channels"] if c["channel"] == "in_app")
    assert in_app["delivered"] == 1 and body["overall"]["delivered"] == 1
    assert {q["name"] for q in body["queues"]} >= {"high", "default", "low"}


def test_a_backwards_range_is_a_field_error(api):
    body = assert_problem(api.get("/stats", query_string={"from": "2026-03-10", "to": "2026-03-01"}), 422)
    assert body["errors"][0]["field"] == "to"


def test_an_unexpected_failure_is_a_500_problem_too(app, api):
    from redis import Redis

    saved = app.extensions["redis"]
    app.extensions["redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)  # nothing listens there
    try:
        body = assert_problem(api.get("/stats"), 500)
    finally:
        app.extensions["redis"] = saved
    assert "Traceback" not in body["detail"]
