"""The per-account throttle's own rules, below the sign-in page."""

from redis import Redis

from app.services import sign_in_throttle as throttle


def test_sign_in_goes_on_without_the_throttle_when_redis_is_unreachable(app, monkeypatch):
    monkeypatch.setitem(app.extensions, "redis", Redis(unix_socket_path="/nonexistent/redis.socket"))
    account = throttle.account_key("priya@clinic.test")
    throttle.record_failure(account, None)
    assert throttle.seconds_to_wait(account, None) == 0
    assert throttle.record_success(account, None) is None


def test_accounts_are_named_without_their_email(app, redis):
    account = throttle.account_key("Priya@Clinic.test")
    assert account == throttle.account_key("priya@clinic.test")
    throttle.record_failure(account, None)
    assert all(b"priya" not in key.lower() for key in redis.keys("*"))


def test_a_device_remembers_its_latest_accounts_only(app):
    device = throttle.KnownDevice()
    for n in range(throttle.KNOWN_DEVICE_MAX_ACCOUNTS + 2):
        device = device.with_account(f"account-{n}")
    read = throttle.read_known_device(throttle.device_cookie(device))
    assert read == device
    assert len(read.accounts) == throttle.KNOWN_DEVICE_MAX_ACCOUNTS
    assert read.knows(f"account-{throttle.KNOWN_DEVICE_MAX_ACCOUNTS + 1}") and not read.knows("account-0")


def test_a_device_cookie_signed_with_another_key_is_not_believed(app, use_settings):
    cookie = throttle.device_cookie(throttle.KnownDevice().with_account("a"))
    use_settings(SECRET_KEY="another-secret-key-of-enough-length-0123456789")
    assert throttle.read_known_device(cookie) is None
