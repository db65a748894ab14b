"""The production profile's settings: one Redis for what workers share, and the picker's time budget."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import ConfigError, load
from portal.kaltura.sessions import RedisSessionStore

PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "x" * 40,
    "ENCRYPTION_KEYS": "k1:" + "A" * 43 + "=",
    "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
}


@pytest.fixture(autouse=True)
def no_portal_environment(monkeypatch):  # type: ignore[no-untyped-def]
    for name in ("PORTAL_REDIS_URL", "PORTAL_RATELIMIT_STORAGE_URI", "PORTAL_PICKER_KALTURA_BUDGET", "PORTAL_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_redis_url_gives_the_rate_limits_their_shared_storage(tmp_path):  # type: ignore[no-untyped-def]
    config = load(tmp_path, {**PRODUCTION, "REDIS_URL": "redis://redis.internal:6379/0"})
    assert config["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/0"


def test_a_separate_rate_limit_storage_is_kept(tmp_path):  # type: ignore[no-untyped-def]
    config = load(
        tmp_path,
        {**PRODUCTION, "REDIS_URL": "redis://a:6379/0", "RATELIMIT_STORAGE_URI": "redis://b:6379/1"},
    )
    assert config["RATELIMIT_STORAGE_URI"] == "redis://b:6379/1"


def test_production_without_any_redis_is_refused_naming_the_variable(tmp_path):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, PRODUCTION)
    assert "PORTAL_REDIS_URL" in str(refused.value)


def test_redis_url_from_the_environment(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTAL_REDIS_URL", "rediss://cache.example:6380/2")
    assert load(tmp_path, PRODUCTION)["REDIS_URL"] == "rediss://cache.example:6380/2"


@pytest.mark.parametrize(
    ("setting", "value", "names"),
    [
        ("REDIS_URL", "http://redis:6379", "PORTAL_REDIS_URL"),
        ("PICKER_KALTURA_BUDGET", 0, "PORTAL_PICKER_KALTURA_BUDGET"),
        ("PICKER_KALTURA_BUDGET", 90, "PORTAL_PICKER_KALTURA_BUDGET"),
    ],
)
def test_bad_values_are_refused(tmp_path, setting, value, names):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, {"ENV": "testing", setting: value})
    assert names in str(refused.value)


def test_the_gateway_shares_sessions_only_with_redis(tmp_path, database_url):  # type: ignore[no-untyped-def]
    common = {"ENV": "testing", "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path)}
    alone = create_app(common)
    shared = create_app({**common, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    try:
        assert alone.extensions["kaltura"].sessions.cache.shared is None
        store = shared.extensions["kaltura"].sessions.cache.shared
        assert isinstance(store, RedisSessionStore)
        # Every worker derives the same cache key from the secret key; without Redis it is random.
        again = create_app({**common, "REDIS_URL": "redis://127.0.0.1:6379/15"})
        assert again.extensions["kaltura"].sessions.cache._key == shared.extensions["kaltura"].sessions.cache._key
        assert alone.extensions["kaltura"].sessions.cache._key != shared.extensions["kaltura"].sessions.cache._key
        again.extensions["kaltura"].close()
        again.extensions["db"].kw["bind"].dispose()
    finally:
        for app in (alone, shared):
            app.extensions["kaltura"].close()
            app.extensions["db"].kw["bind"].dispose()
