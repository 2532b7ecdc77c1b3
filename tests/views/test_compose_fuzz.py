"""Compose under any input: never a 5xx, and a refused submit writes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import Notification, NotificationEvent, NotificationGroup
from app.vocabulary import Channel, NotificationType
from tests.conftest import csrf_token_from
from tests.strategies import FUZZ, choice_or_odd, odd_date, odd_text, odd_time

TYPES = [t.value for t in NotificationType]
CHANNELS = [c.value for c in Channel]


@pytest.fixture
def staff(login, practitioner):
    return login(practitioner)


@pytest.fixture
def token(staff) -> str:
    return csrf_token_from(staff.get("/compose").get_data(as_text=True))


def written() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (NotificationGroup, Notification, NotificationEvent))


def compose_fields(patient_id: int) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "recipient_mode": choice_or_odd("one", "all_my_patients", "all_patients"),
        "patient_id": st.one_of(st.just(str(patient_id)), odd_text(30)),
        "patient_search": odd_text(),
        "type": choice_or_odd(*TYPES),
        "channel_mode": choice_or_odd("preferences", "choose"),
        "channels": st.lists(choice_or_odd(*CHANNELS), max_size=3),
        "content_mode": choice_or_odd("text", "template"),
        "title": odd_text(),
        "body": st.one_of(st.just("Rest well after Abhyanga."), odd_text(80)),
        "send_mode": choice_or_odd("now", "later"),
        "send_date": odd_date(),
        "send_time": odd_time(),
        "idempotency_key": odd_text(30),
        "data_when": odd_text(),
        "data_therapy": odd_text(),
        "data_note": odd_text(),
        "data_medicine": odd_text(),
        "data_message": odd_text(),
    })


@FUZZ
@given(data=st.data())
def test_compose_answers_any_form_without_a_server_error_and_writes_nothing_it_refuses(
    staff, token, patient, templates, data
):
    fields = data.draw(compose_fields(patient.id))
    before = written()
    response = staff.post("/compose", data={**fields, "csrf_token": token})
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert written() == before


@FUZZ
@given(data=st.data())
def test_the_preview_answers_any_form(staff, token, patient, templates, data):
    fields = data.draw(compose_fields(patient.id))
    assert staff.post("/compose/preview", data={**fields, "csrf_token": token}).status_code == 200


@FUZZ
@given(term=odd_text(130))
def test_the_patient_search_answers_anything_typed(staff, token, patient, term):
    response = staff.post("/compose/patients", data={"patient_search": term}, headers={"X-CSRFToken": token})
    assert response.status_code == 200


@FUZZ
@given(patient_id=odd_text(30), type_=odd_text(20))
def test_compose_links_open_whatever_they_carry(staff, patient, patient_id, type_):
    assert staff.get("/compose", query_string={"patient": patient_id}).status_code == 200
    assert staff.get("/compose/fields", query_string={"type": type_}).status_code == 200
