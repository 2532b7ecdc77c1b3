"""Authenticator codes: which moments' codes count, and that none counts twice."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from app.services import two_factor
from app.services.sealed_secrets import seal, unseal
from tests import factories

NOW = datetime(2026, 12, 2, 9, 30, 10, tzinfo=UTC)


@pytest.fixture
def at_now(monkeypatch):
    monkeypatch.setattr(two_factor, "utcnow", lambda: NOW)


def code(secret: str, seconds: float) -> str:
    return pyotp.TOTP(secret).at(NOW + timedelta(seconds=seconds))


@pytest.fixture
def enrolled(practitioner, monkeypatch) -> str:
    """A practitioner's secret, set up five minutes before NOW, so every code near NOW is unused."""
    monkeypatch.setattr(two_factor, "utcnow", lambda: NOW - timedelta(minutes=5))
    secret = two_factor.pending_secret(practitioner)
    two_factor.confirm_enrolment(practitioner, code(secret, -300))
    monkeypatch.setattr(two_factor, "utcnow", lambda: NOW)
    return secret


@pytest.mark.parametrize("seconds", [-30, 0, 30])
def test_a_code_one_step_either_side_of_now_counts_for_clocks_that_drift(practitioner, enrolled, seconds):
    assert two_factor.check_code(practitioner, code(enrolled, seconds)) is two_factor.CodeKind.AUTHENTICATOR


@pytest.mark.parametrize("seconds", [-90, 90])
def test_a_code_further_away_does_not(practitioner, enrolled, seconds):
    assert two_factor.check_code(practitioner, code(enrolled, seconds)) is None


def test_after_a_code_is_used_an_older_one_no_longer_counts(practitioner, enrolled):
    assert two_factor.check_code(practitioner, code(enrolled, 0))
    assert two_factor.check_code(practitioner, code(enrolled, -30)) is None


def test_the_code_that_confirmed_the_set_up_cannot_sign_in(practitioner, at_now):
    secret = two_factor.pending_secret(practitioner)
    two_factor.confirm_enrolment(practitioner, code(secret, 0))
    assert two_factor.check_code(practitioner, code(secret, 0)) is None


def test_a_user_without_two_factor_has_no_code_that_counts(practitioner):
    assert two_factor.check_code(practitioner, "123456") is None


def test_patients_cannot_set_it_up(patient):
    from app.services.errors import Forbidden

    with pytest.raises(Forbidden):
        two_factor.pending_secret(patient)


def test_setting_up_a_new_app_keeps_the_old_one_working_until_confirmed(practitioner):
    old = factories.enrol_two_factor(practitioner)
    new_secret = two_factor.pending_secret(practitioner)
    assert new_secret != old.secret
    assert two_factor.check_code(practitioner, factories.code_for(old.secret)) is two_factor.CodeKind.AUTHENTICATOR


def test_confirming_a_new_app_replaces_the_recovery_codes(practitioner):
    old = factories.enrol_two_factor(practitioner)
    new_secret = two_factor.pending_secret(practitioner)
    two_factor.confirm_enrolment(practitioner, factories.code_for(new_secret, seconds_from_now=30))
    assert two_factor.check_code(practitioner, old.recovery_codes[0]) is None


def test_a_sealed_secret_opens_only_under_the_same_secret_key(app):
    sealed = seal("JBSWY3DPEHPK3PXP")
    assert unseal(sealed) == "JBSWY3DPEHPK3PXP"
    app.config["SECRET_KEY"] = "another-secret-key-of-enough-length-0123456789"
    assert unseal(sealed) is None
