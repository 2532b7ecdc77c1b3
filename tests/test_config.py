"""Configuration comes only from the environment, and every setting is documented."""

import re
from pathlib import Path

import pytest

from app import create_app
from app.config import load_settings, setting_names

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert set(setting_names()) <= documented


def test_empty_values_mean_the_default():
    assert load_settings({"MAX_ATTEMPTS": ""})["MAX_ATTEMPTS"] == 5


def test_values_are_parsed_from_the_environment():
    settings = load_settings({"MAX_ATTEMPTS": "7", "SMTP_STARTTLS": "false", "RETRY_BASE_SECONDS": "1.5"})
    assert (settings["MAX_ATTEMPTS"], settings["SMTP_STARTTLS"], settings["RETRY_BASE_SECONDS"]) == (7, False, 1.5)


def test_the_app_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "", "DATABASE_URL": "sqlite://"})


def test_no_secret_is_written_in_the_code():
    pattern = re.compile(r"(SECRET_KEY|AUTH_TOKEN|API_KEY|PASSWORD)\s*=\s*['\"][^'\"]{8,}['\"]")
    # The demo clinic's shared login is printed by `make run` for anyone to use: not a secret.
    demo = ROOT / "app" / "services" / "demo_data.py"
    offenders = [str(p) for p in (ROOT / "app").rglob("*.py") if p != demo and pattern.search(p.read_text())]
    assert offenders == []
