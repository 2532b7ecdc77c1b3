"""`make run` gives the clinic its browser-push (VAPID) key pair once, and keeps it after."""

from dotenv import dotenv_values
from py_vapid import Vapid

from app.devserver import _ensure_vapid_keys


def test_the_first_run_writes_a_working_key_pair_into_env(tmp_path, monkeypatch):
    monkeypatch.delenv("VAPID_PRIVATE_KEY", raising=False)
    env = tmp_path / ".env"
    env.write_text("SECRET_KEY=kept\nVAPID_PUBLIC_KEY=\nVAPID_PRIVATE_KEY=\n")
    _ensure_vapid_keys(env)
    values = dotenv_values(env)
    assert values["SECRET_KEY"] == "kept"
    assert Vapid.from_string(values["VAPID_PRIVATE_KEY"]).public_key is not None
    assert len(values["VAPID_PUBLIC_KEY"]) == 87  # 65 bytes, base64url: what browsers take


def test_a_later_run_keeps_the_pair_browsers_subscribed_with(tmp_path, monkeypatch):
    monkeypatch.delenv("VAPID_PRIVATE_KEY", raising=False)
    env = tmp_path / ".env"
    env.write_text("")
    _ensure_vapid_keys(env)
    first = dotenv_values(env)
    _ensure_vapid_keys(env)
    assert dotenv_values(env) == first
