"""Per-account sign-in throttling, on Redis so every web process shares it.

Limits per client address (Flask-Limiter on /login) lock a whole clinic out together, and never
stop a slow attacker who rotates addresses. So failures are also counted per account: after
`LOGIN_ACCOUNT_FREE_FAILURES` of them, each further attempt for that account must wait, 30 s
doubling up to 15 minutes by default, before its password is even checked.

Failures are counted per place they come from: a browser that signed in to the account before
(it holds a signed "known device" cookie naming the account) keeps a count of its own, so an
attacker elsewhere cannot lock the real user out. Accounts are keyed by an HMAC of the typed
email, so Redis holds no addresses, and an unknown email is throttled exactly like a real one
(nobody learns which accounts exist). Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from redis.commands.core import Script
from redis.exceptions import RedisError

from app.clock import utcnow
from app.extensions import get_redis
from app.services.contact import normalise_email

log = logging.getLogger(__name__)

KEY_PREFIX = "sign-in-throttle:"
# Failures are forgotten a day after the last one.
FORGET_AFTER = timedelta(days=1)
KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_LIFETIME = timedelta(days=365)
KNOWN_DEVICE_MAX_ACCOUNTS = 10  # a shared clinic computer knows several staff accounts

# Both scripts run atomically in Redis. BEGIN says how long to wait (0: go ahead); once an account
# is in the waiting regime, an attempt that goes ahead claims the next wait at once, so guesses
# sent in parallel get one try per wait, not one each. FAIL counts a failure in the bucket. Both
# count failed attempts, refused ones too, in the account's tally: what the user is told after
# their next successful sign-in.
_BEGIN = """
local now, free, base, cap, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
    tonumber(ARGV[4]), tonumber(ARGV[5])
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local wait_until = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < wait_until then
  redis.call('HINCRBY', KEYS[2], 'count', 1)
  redis.call('HSETNX', KEYS[2], 'since', tostring(now))
  redis.call('EXPIRE', KEYS[2], ttl)
  return math.ceil(wait_until - now)
end
if failures >= free then
  redis.call('HSET', KEYS[1], 'until', tostring(now + math.min(base * 2 ^ (failures + 1 - free), cap)))
  redis.call('EXPIRE', KEYS[1], ttl)
end
return 0
"""
_FAIL = """
local now, free, base, cap, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
    tonumber(ARGV[4]), tonumber(ARGV[5])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if failures >= free then
  local wait_until = math.max(tonumber(redis.call('HGET', KEYS[1], 'until') or '0'),
                              now + math.min(base * 2 ^ (failures - free), cap))
  redis.call('HSET', KEYS[1], 'until', tostring(wait_until))
end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('HINCRBY', KEYS[2], 'count', 1)
redis.call('HSETNX', KEYS[2], 'since', tostring(now))
redis.call('EXPIRE', KEYS[2], ttl)
return failures
"""


@dataclass(frozen=True)
class KnownDevice:
    """This browser, and the accounts it has signed in to (most recent first)."""

    id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    accounts: tuple[str, ...] = ()

    def knows(self, account: str) -> bool:
        return account in self.accounts

    def with_account(self, account: str) -> KnownDevice:
        others = tuple(a for a in self.accounts if a != account)
        return KnownDevice(id=self.id, accounts=(account, *others)[:KNOWN_DEVICE_MAX_ACCOUNTS])


@dataclass(frozen=True)
class FailedAttempts:
    """Failed sign-ins on an account since its last successful one."""

    count: int
    since: datetime


def account_key(email: str) -> str:
    """The account's name in Redis and in device cookies: an HMAC of the email as sign-in
    matches it (normalised, any case), so neither holds the address."""
    try:
        address = normalise_email(email)
    except ValueError:
        address = email.strip()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, address.lower().encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def seconds_to_wait(account: str, device: KnownDevice | None) -> int:
    """How long before this attempt may be checked (0: check it now, and count it as begun)."""
    try:
        return int(_script(_BEGIN)(keys=[_bucket(account, device), _tally(account)], args=_limits()))
    except RedisError:
        log.warning("sign-in throttle unavailable (Redis); attempt allowed")
        return 0


def record_failure(account: str, device: KnownDevice | None) -> None:
    try:
        _script(_FAIL)(keys=[_bucket(account, device), _tally(account)], args=_limits())
    except RedisError:
        log.warning("sign-in throttle unavailable (Redis); a failure was not counted")


def record_success(account: str, device: KnownDevice | None) -> FailedAttempts | None:
    """Clear this place's failures; return the account's tally when it is worth telling."""
    try:
        with get_redis().pipeline() as pipe:
            pipe.hgetall(_tally(account))
            pipe.delete(_tally(account), _bucket(account, device))
            tally, _ = pipe.execute()
    except RedisError:
        log.warning("sign-in throttle unavailable (Redis); failures not cleared")
        return None
    count = int(tally.get(b"count", 0))
    if count < current_app.config["LOGIN_ACCOUNT_FREE_FAILURES"]:
        return None
    return FailedAttempts(count=count, since=datetime.fromtimestamp(float(tally[b"since"]), UTC))


def read_known_device(cookie: str | None) -> KnownDevice | None:
    """The device a signed cookie names; None for no cookie, an old one, or a forged one."""
    if not cookie:
        return None
    try:
        data = _device_signer().loads(cookie, max_age=int(KNOWN_DEVICE_LIFETIME.total_seconds()))
        device_id, accounts = data["id"], data["accounts"]
    except (BadSignature, KeyError, TypeError):
        return None
    if not isinstance(device_id, str) or not isinstance(accounts, list):
        return None
    return KnownDevice(id=device_id, accounts=tuple(a for a in accounts if isinstance(a, str)))


def device_cookie(device: KnownDevice) -> str:
    return _device_signer().dumps({"id": device.id, "accounts": list(device.accounts)})


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _bucket(account: str, device: KnownDevice | None) -> str:
    place = f"device:{device.id}" if device is not None and device.knows(account) else "elsewhere"
    return f"{KEY_PREFIX}{account}:{place}"


def _tally(account: str) -> str:
    return f"{KEY_PREFIX}{account}:tally"


def _limits() -> list:
    config = current_app.config
    return [
        utcnow().timestamp(),
        config["LOGIN_ACCOUNT_FREE_FAILURES"],
        config["LOGIN_ACCOUNT_DELAY_SECONDS"],
        config["LOGIN_ACCOUNT_MAX_DELAY_SECONDS"],
        int(FORGET_AFTER.total_seconds()),
    ]


def _script(source: str) -> Script:
    """Runs by its SHA-1 (EVALSHA), loading it into Redis only when Redis does not know it."""
    return get_redis().register_script(source)
