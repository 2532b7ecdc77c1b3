"""The patient's pages speak the patient's language; staff pages stay English."""

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import _parse_mapping_toml
from babel.messages.pofile import read_po

from app.extensions import db
from tests import factories
from tests.pages import one, text, texts

PROJECT = Path(__file__).resolve().parents[2]
CATALOGUES = PROJECT / "app" / "translations"


def words_to_translate() -> set[str]:
    """Every message the patient's pages and the vocabulary mark, as `make translations-update` finds them."""
    with open(PROJECT / "pyproject.toml", "rb") as config:
        method_map, options_map = _parse_mapping_toml(config, style="pyproject.toml")
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}  # as the Makefile's `pybabel extract -k`
    return {message for _file, _line, message, *_ in extract_from_dir(PROJECT, method_map, options_map, keywords)}


def catalogue(language: str):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


@pytest.fixture
def hindi_patient(practitioner):
    return factories.create_patient(name="Meera Iyer", email="meera@clinic.test", practitioner=practitioner,
                                    locale="hi")


def test_the_hindi_catalogue_translates_every_marked_word():
    hindi = catalogue("hi")
    untranslated = sorted(word for word in words_to_translate() if not (hindi.get(word) and hindi.get(word).string))
    assert untranslated == []


def test_the_hindi_catalogue_has_no_guessed_translations():
    assert [message.id for message in catalogue("hi") if message.id and message.fuzzy] == []


def test_a_hindi_speaking_patient_reads_their_inbox_in_hindi(client_request, hindi_patient):
    page = client_request.login(hindi_patient).get("/inbox")
    assert page.html["lang"] == "hi"
    assert text(one(page, "h1")) == "इनबॉक्स"
    assert text(one(page, "#inbox-empty")).startswith("अभी यहाँ कुछ नहीं है")
    assert "साइन आउट" in texts(page, "header button")


def test_an_item_shows_its_type_and_sender_in_the_patients_language(client_request, run_worker, practitioner,
                                                                     hindi_patient):
    factories.create_send(sender=practitioner, recipients=[hindi_patient], title="Dose", body="Take it.",
                          type="medication_reminder")
    run_worker()
    page = client_request.login(hindi_patient).get("/inbox")
    assert text(one(page, "#inbox-items .tag")) == "दवा रिमाइंडर"
    assert text(one(page, "#inbox-items .sender")) == f"{practitioner.name} से"
    assert text(one(page, "#inbox-items button")).startswith("पढ़ा हुआ चिह्नित करें")


def test_an_english_speaking_patient_reads_english(client_request, patient):
    page = client_request.login(patient).get("/inbox")
    assert page.html["lang"] == "en"
    assert text(one(page, "h1")) == "Inbox"


def test_staff_pages_stay_english_for_staff_who_chose_hindi(client_request, practitioner):
    practitioner.locale = "hi"
    db.session.commit()
    page = client_request.login(practitioner).get("/compose")
    assert page.html["lang"] == "en"
    assert "Sign out" in texts(page, "header button")



def test_a_hindi_speaking_patient_sets_their_preferences_in_hindi(client_request, hindi_patient):
    pages = client_request.login(hindi_patient)
    page = pages.get("/inbox/preferences")
    assert text(one(page, "h1")) == "हम आप तक कैसे पहुँचें"
    refused = pages.post("/inbox/preferences", data={"quiet_start": "21:00", "quiet_end": ""}, expected_status=422)
    assert "शांत समय का शुरू और अंत दोनों दें, या कोई भी नहीं" in text(one(refused, ".error-summary"))


def test_staff_see_a_hindi_speaking_patients_preferences_in_english(client_request, practitioner, hindi_patient):
    page = client_request.login(practitioner).get(f"/patients/{hindi_patient.id}/preferences")
    assert text(one(page, "h1")) == f"How the clinic reaches {hindi_patient.name}"
    assert texts(page, "table.channel-grid th[scope=col]") == ["Type", "SMS", "Email", "Push"]
