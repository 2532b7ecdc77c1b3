"""`flask send` and `flask create-user` under any options: a result or a one-line refusal,
never a traceback, and nothing written when refused."""

from __future__ import annotations

import json

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import Notification, NotificationGroup, User
from app.vocabulary import Channel, NotificationType
from tests.strategies import FUZZ, FUZZ_SLOW, choice_or_odd, json_values_of, odd_moment, odd_text

TYPES = [t.value for t in NotificationType]
CHANNELS = [c.value for c in Channel]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def finished_cleanly(result) -> None:
    """Either it worked, or click printed one error and exited: no exception escaped."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output


def option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    """`--name value`, or the option left out."""
    return st.one_of(st.just([]), values.map(lambda value: [name, value]))


@FUZZ
@given(data=st.data())
def test_send_answers_any_options_with_a_result_or_a_one_line_refusal(app, patient, templates, data):
    args = ["send"]
    for recipient in data.draw(st.lists(st.one_of(st.sampled_from([patient.email, str(patient.id), "all"]),
                                                  odd_text(30)), min_size=1, max_size=2)):
        args += ["--to", recipient]
    args += ["--type", data.draw(choice_or_odd(*TYPES))]
    for channel in data.draw(st.lists(choice_or_odd(*CHANNELS), max_size=2)):
        args += ["--channel", channel]
    args += data.draw(option("--title", odd_text()))
    args += data.draw(option("--body", st.one_of(st.just("Rest well."), odd_text(60))))
    args += data.draw(option("--data", st.one_of(json_values_of(odd_text(20)).map(json.dumps), odd_text())))
    args += data.draw(option("--at", odd_moment()))
    args += data.draw(option("--idempotency-key", odd_text()))
    before = (count(NotificationGroup), count(Notification))
    result = app.test_cli_runner().invoke(args=args)
    finished_cleanly(result)
    if result.exit_code != 0:
        assert (count(NotificationGroup), count(Notification)) == before


@FUZZ_SLOW
@given(data=st.data())
def test_create_user_answers_any_options_with_a_user_or_a_one_line_refusal(app, practitioner, data):
    args = ["create-user", "--role", data.draw(choice_or_odd("patient", "practitioner", "admin")),
            "--name", data.draw(st.one_of(st.just("Kavya Rao"), odd_text()))]
    args += data.draw(option("--email", st.one_of(st.emails().map(str), odd_text())))
    args += data.draw(option("--phone", st.one_of(st.just("+91 98765 43210"), odd_text(20))))
    args += data.draw(option("--timezone", choice_or_odd("Asia/Kolkata", "UTC")))
    args += data.draw(option("--locale", choice_or_odd("en", "hi")))
    args += data.draw(option("--practitioner", st.one_of(st.just(practitioner.email), odd_text())))
    args += ["--password", data.draw(st.one_of(st.just("a long enough password"), odd_text()))]
    before = count(User)
    result = app.test_cli_runner().invoke(args=args)
    finished_cleanly(result)
    assert count(User) == before + (1 if result.exit_code == 0 else 0)
