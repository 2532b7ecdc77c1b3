"""Configuration comes only from the environment, and every setting is documented."""

import re
import secrets
from pathlib import Path

import pytest
from dotenv import dotenv_values

from app import create_app
from app.config import environment_spelling, load_settings, secret_key_problem, setting_names
from tests.conftest import base_settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert set(setting_names()) <= documented


def test_empty_values_mean_the_default():
    assert load_settings({"MAX_ATTEMPTS": ""})["MAX_ATTEMPTS"] == 5


def test_values_are_parsed_from_the_environment():
    settings = load_settings({"MAX_ATTEMPTS": "7", "SMTP_STARTTLS": "false", "RETRY_BASE_SECONDS": "1.5"})
    assert (settings["MAX_ATTEMPTS"], settings["SMTP_STARTTLS"], settings["RETRY_BASE_SECONDS"]) == (7, False, 1.5)


def test_links_follow_the_port_when_no_public_address_is_set():
    assert load_settings({"PORT": "5302"})["PUBLIC_BASE_URL"] == "http://127.0.0.1:5302"
    assert load_settings({})["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_a_public_address_that_is_set_wins_over_the_port():
    settings = load_settings({"PORT": "5302", "PUBLIC_BASE_URL": "https://notify.clinic.example"})
    assert settings["PUBLIC_BASE_URL"] == "https://notify.clinic.example"


def test_a_local_env_made_from_the_example_lets_links_follow_the_port():
    """`make run` writes .env from .env.example; `PORT=5302 make run` must then link to 5302."""
    environ = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    environ["PORT"] = "5302"
    assert load_settings(environ)["PUBLIC_BASE_URL"] == "http://127.0.0.1:5302"


def test_settings_given_to_the_app_are_not_mixed_with_the_environment(monkeypatch, database_url, redis_url):
    monkeypatch.setenv("MAX_RECIPIENTS", "1")
    monkeypatch.setenv("CLINIC_NAME", "Exported in a shell")
    app = create_app(base_settings(database_url, redis_url))
    assert (app.config["MAX_RECIPIENTS"], app.config["CLINIC_NAME"]) == (10000, "Sutra Ayurveda Clinic")


def test_the_app_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "", "DATABASE_URL": "sqlite://"})


@pytest.mark.parametrize("key, problem", [
    ("change-me", "is the placeholder 'change-me'"),
    ("CHANGE-ME", "is the placeholder 'CHANGE-ME'"),
    ("a-31-byte-key-that-is-too-short", "is 31 bytes; use at least 32"),
    ("0" * 64, "repeats a few characters"),
])
def test_the_app_refuses_a_placeholder_or_short_secret_key(key, problem):
    with pytest.raises(RuntimeError, match=re.escape(problem)) as caught:
        create_app({"SECRET_KEY": key, "DATABASE_URL": "sqlite://"})
    assert "secrets.token_hex(32)" in str(caught.value)


def test_a_random_key_of_32_bytes_is_accepted():
    assert secret_key_problem(secrets.token_hex(16)) is None


def test_the_example_configuration_ships_no_usable_secret_key():
    example = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.M))
    assert secret_key_problem(example["SECRET_KEY"]) is not None


@pytest.mark.parametrize("name", ["PORT", "MAX_BODY_CHARS", "MAX_RECIPIENTS"])
def test_the_example_configuration_explains_each_limit_and_the_port(name):
    lines = (ROOT / ".env.example").read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
    assert lines[index - 1].startswith("# "), f"{name} has no comment above it"


def test_no_secret_is_written_in_the_code():
    pattern = re.compile(r"(SECRET_KEY|AUTH_TOKEN|API_KEY|PASSWORD)\s*=\s*['\"][^'\"]{8,}['\"]")
    # The demo clinic's shared login is printed by `make run` for anyone to use: not a secret.
    demo = ROOT / "app" / "services" / "demo_data.py"
    offenders = [str(p) for p in (ROOT / "app").rglob("*.py") if p != demo and pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("raw", ["24,2", "48", "none", "1.5,0.25"])
def test_a_setting_spelled_for_a_child_process_reads_back_the_same(raw):
    name = "APPOINTMENT_REMINDER_HOURS"
    value = load_settings({name: raw})[name]
    assert load_settings({name: environment_spelling(value)})[name] == value


@pytest.mark.parametrize("raw", ["0", "-2", "24,soon", "721"])
def test_reminder_hours_out_of_range_or_unreadable_are_refused(raw):
    with pytest.raises(ValueError):
        load_settings({"APPOINTMENT_REMINDER_HOURS": raw})
