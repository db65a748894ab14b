"""Configuration: development makes and keeps its keys; production refuses unsafe settings."""

from __future__ import annotations

import pytest

from portal.config import ConfigError, load


def test_development_generates_keys_once_and_keeps_them(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    for name in ("PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "PORTAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    first = load(tmp_path, None)
    second = load(tmp_path, None)
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["ENCRYPTION_KEYS"] == second["ENCRYPTION_KEYS"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["DATABASE_URL"].startswith("sqlite:///")


@pytest.mark.parametrize("missing", ["PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "PORTAL_DATABASE_URL"])
def test_production_refuses_to_start_without_each_secret(tmp_path, monkeypatch, missing):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://portal@db/portal")
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        load(tmp_path, None)
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_a_short_secret_and_sqlite(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://portal@db/portal")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="too short"):
        load(tmp_path, None)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PORTAL_DATABASE_URL", "sqlite:///portal.sqlite3")
    with pytest.raises(ConfigError, match="PostgreSQL"):
        load(tmp_path, None)


def test_environment_values_are_typed(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTAL_SESSION_HOURS", "3")
    monkeypatch.setenv("PORTAL_KALTURA_CUSTOM_HOSTS", "true")
    config = load(tmp_path, None)
    assert config["SESSION_HOURS"] == 3 and config["KALTURA_CUSTOM_HOSTS"] is True


def test_unknown_environment_is_refused(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTAL_ENV", "staging")
    with pytest.raises(ConfigError, match="PORTAL_ENV must be one of"):
        load(tmp_path, None)


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("KALTURA_TIMEOUT", 45.0, "PORTAL_KALTURA_TIMEOUT"),  # longer than the whole test's budget
        ("KALTURA_TIMEOUT", 0.0, "PORTAL_KALTURA_TIMEOUT"),
        ("LOG_FORMAT", "xml", "PORTAL_LOG_FORMAT"),
        ("LOG_LEVEL", "LOUD", "PORTAL_LOG_LEVEL"),
        ("KALTURA_CHECKS_PER_HUB", 0, "PORTAL_KALTURA_CHECKS_PER_HUB"),
        ("AUDIT_ANONYMOUS_BUDGET", -1, "PORTAL_AUDIT_ANONYMOUS_BUDGET"),
        ("UPLOAD_MAX_MB", 0, "PORTAL_UPLOAD_MAX_MB"),
        ("UPLOAD_PARALLELISM", 9, "PORTAL_UPLOAD_PARALLELISM"),
        ("UPLOAD_CHUNK_BYTES", 1024, "PORTAL_UPLOAD_CHUNK_BYTES"),
        ("UPLOAD_MAX_CHUNK_BYTES", 2 * 1024 * 1024, "PORTAL_UPLOAD_MAX_CHUNK_BYTES"),
        ("UPLOAD_SESSION_SECONDS", 0, "PORTAL_UPLOAD_SESSION_SECONDS"),
    ],
)
def test_settings_out_of_range_are_refused_by_name(tmp_path, setting, value, named):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=named):
        load(tmp_path, {"ENV": "testing", setting: value})


def test_production_refuses_memory_rate_limit_storage_and_names_the_setting(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://portal@db/portal")
    with pytest.raises(ConfigError, match="PORTAL_RATELIMIT_STORAGE_URI is memory://"):
        load(tmp_path, None)
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URI", "redis://redis:6379/0")
    assert load(tmp_path, None)["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
