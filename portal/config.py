"""Configuration: safe development defaults, overridden by ``PORTAL_*`` environment variables.

Every variable is documented in the README. Production refuses to start with a missing or
default secret; development generates its keys once and keeps them under ``instance/``.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "testing", "production")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

#: Variables production cannot run without, and what each protects.
REQUIRED_IN_PRODUCTION = {
    "SECRET_KEY": "signs session cookies and CSRF tokens",
    "ENCRYPTION_KEYS": "encrypts Kaltura App Tokens at rest",
    "DATABASE_URL": "where the portal keeps its data",
}


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message names the variable to set."""


def defaults(instance_path: Path) -> dict[str, Any]:
    """The settings every environment starts from."""
    return {
        "ENV": "development",
        "SECRET_KEY": None,
        "ENCRYPTION_KEYS": None,
        "DATABASE_URL": f"sqlite:///{instance_path / 'portal.sqlite3'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        # The Redis every worker shares (issue 13): the Kaltura session cache, and the rate limits
        # when RATELIMIT_STORAGE_URI is left at memory://. None: each process keeps its own.
        "REDIS_URL": None,
        # Failed sign-ins: from one address (any account); against one account from one address;
        # and against one account from everywhere, a ceiling far above the second that browsers
        # which signed in to the account before are exempt from, so nobody can lock its owner out.
        "LOGIN_LIMIT_PER_ADDRESS": "20 per 5 minutes",
        "LOGIN_LIMIT_PER_ACCOUNT": "5 per 5 minutes",
        "LOGIN_LIMIT_ACCOUNT_CEILING": "100 per hour",
        "TRUSTED_HOSTS": None,
        "PROXY_HOPS": 0,
        "SESSION_HOURS": 12,
        "PASSWORD_HASH_METHOD": "scrypt",
        # Kaltura gateway (issue 4): which hosts an admin may point a hub at.
        "KALTURA_ALLOWED_HOSTS": None,
        "KALTURA_HTTP_HOSTS": None,
        "KALTURA_PRIVATE_HOSTS": None,
        "KALTURA_CUSTOM_HOSTS": False,
        # The deadline for one Kaltura call, all of it (connect, headers and body). "Test connection"
        # also stops after portal.kaltura.diagnostics.CHECK_BUDGET (30) seconds in total.
        "KALTURA_TIMEOUT": 10.0,
        "KALTURA_SANDBOX_URL": None,
        # Live checks ("Test connection") running at once: each holds a worker for up to 30 s.
        "KALTURA_CHECKS_PER_HUB": 2,
        "KALTURA_CHECKS_PER_USER": 1,
        # Security events of one kind by someone not signed in, recorded per client address per five
        # minutes; more are logged only, so nobody can fill the audit table from outside.
        "AUDIT_ANONYMOUS_BUDGET": 50,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "text",
        # Requests larger than this are refused (413) before they are read: the portal's forms
        # hold a few kilobytes, and media goes from the browser straight to Kaltura.
        "MAX_REQUEST_BYTES": 1024 * 1024,
        # The embedded picker (issue 11): launch tokens, picker sessions, JWKS fetching.
        "EMBED_AUDIENCE": "kaltura-hub-portal",
        "EMBED_SECRET_GRACE_HOURS": 24,
        "EMBED_LAUNCH_LIMIT": "30 per minute",
        "EMBED_JWKS_HTTP_HOSTS": None,
        "EMBED_JWKS_PRIVATE_HOSTS": None,
        "PICKER_IDLE_MINUTES": 30,
        "PICKER_MAX_HOURS": 4,
        # All the Kaltura calls of one picker request end within this many seconds (retries
        # included), so a slow Kaltura answers with the picker's error state instead of holding a
        # worker; well inside gunicorn's worker timeout (gunicorn.conf.py).
        "PICKER_KALTURA_BUDGET": 15.0,
        # Uploads from the picker (issue 12). The operator's maximum file size in MB: a hub admin may
        # set a lower limit on the hub's Embedding tab, never a higher one.
        "UPLOAD_MAX_MB": 20480,
        # The upload plan the browser gets: first chunk size (the chunk pump adapts it within its
        # bounds), chunks in flight, and how long the browser's upload session lives (it asks for a
        # fresh one when Kaltura says it expired).
        "UPLOAD_CHUNK_BYTES": 8 * 1024 * 1024,
        "UPLOAD_MIN_CHUNK_BYTES": 1024 * 1024,
        "UPLOAD_MAX_CHUNK_BYTES": 64 * 1024 * 1024,
        "UPLOAD_PARALLELISM": 4,
        "UPLOAD_SESSION_SECONDS": 3600,
        # An upload whose bytes have not moved in Kaltura for this long is shown as interrupted.
        "UPLOAD_STALL_SECONDS": 20,
    }


def load(instance_path: Path, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge defaults, the environment and explicit overrides, then check them."""
    config = defaults(instance_path)
    config.update(_from_environment(config))
    config.update(overrides or {})
    if config["ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {config['ENV']!r}.")
    if config.get("REDIS_URL") and str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        # One Redis for everything workers share, unless the rate limits are given their own.
        config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]
    _check_common(config)
    if config["ENV"] == "production":
        _check_production(config)
    else:
        _fill_development_keys(config, instance_path)
    return config


def _from_environment(config: Mapping[str, Any]) -> dict[str, Any]:
    """Read ``PORTAL_<NAME>`` for every known setting, converted to the default's type."""
    found: dict[str, Any] = {}
    for name, default in config.items():
        raw = os.environ.get(f"PORTAL_{name}")
        if raw is None:
            continue
        if isinstance(default, bool):
            found[name] = raw.strip().lower() in {"1", "true", "yes", "on"}
        elif isinstance(default, int):
            found[name] = int(raw)
        elif isinstance(default, float):
            found[name] = float(raw)
        else:
            found[name] = raw
    return found


def _check_production(config: dict[str, Any]) -> None:
    """Refuse to start production with a missing secret, naming the variable to set."""
    env_names = {name: f"PORTAL_{name}" for name in REQUIRED_IN_PRODUCTION}
    for name, purpose in REQUIRED_IN_PRODUCTION.items():
        if not os.environ.get(env_names[name]) and not config.get(name):
            raise ConfigError(f"Set {env_names[name]}: it {purpose}, and production has no default.")
    if len(str(config["SECRET_KEY"])) < 32:
        raise ConfigError("PORTAL_SECRET_KEY is too short: use at least 32 random characters.")
    if str(config["DATABASE_URL"]).startswith("sqlite"):
        raise ConfigError("PORTAL_DATABASE_URL points at SQLite; production needs PostgreSQL.")
    if str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        raise ConfigError(
            "PORTAL_RATELIMIT_STORAGE_URI is memory://, which counts sign-in attempts separately in each "
            "worker process, so the limits do not hold. Set PORTAL_REDIS_URL (or PORTAL_RATELIMIT_STORAGE_URI) "
            "to your Redis, e.g. redis://redis:6379/0."
        )


def _check_common(config: dict[str, Any]) -> None:
    """Settings every environment must get right, each refused with the variable to fix."""
    from portal.kaltura.diagnostics import CHECK_BUDGET

    if config["LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(f"PORTAL_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {config['LOG_FORMAT']!r}.")
    if str(config["LOG_LEVEL"]).upper() not in LOG_LEVELS:
        raise ConfigError(f"PORTAL_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {config['LOG_LEVEL']!r}.")
    config["LOG_LEVEL"] = str(config["LOG_LEVEL"]).upper()
    for name in ("KALTURA_CHECKS_PER_HUB", "KALTURA_CHECKS_PER_USER", "UPLOAD_MAX_MB", "UPLOAD_SESSION_SECONDS"):
        if int(config[name]) < 1:
            raise ConfigError(f"PORTAL_{name} must be at least 1, not {config[name]!r}.")
    if int(config["AUDIT_ANONYMOUS_BUDGET"]) < 0:
        raise ConfigError(f"PORTAL_AUDIT_ANONYMOUS_BUDGET must be 0 or more, not {config['AUDIT_ANONYMOUS_BUDGET']!r}.")
    redis_url = config.get("REDIS_URL")
    if redis_url and not str(redis_url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"PORTAL_REDIS_URL must start with redis://, rediss:// or unix://, not {redis_url!r}.")
    budget = float(config["PICKER_KALTURA_BUDGET"])
    if not 0 < budget <= 60:
        raise ConfigError(
            f"PORTAL_PICKER_KALTURA_BUDGET must be more than 0 and at most 60 seconds (gunicorn's worker timeout "
            f"is 75), not {config['PICKER_KALTURA_BUDGET']!r}."
        )
    _check_upload_plan(config)
    timeout = float(config["KALTURA_TIMEOUT"])
    if not 0 < timeout <= CHECK_BUDGET:
        # One call must fit in the connection test's budget, which fits in gunicorn's worker timeout.
        raise ConfigError(
            f"PORTAL_KALTURA_TIMEOUT must be more than 0 and at most {CHECK_BUDGET:g} seconds, "
            f"not {config['KALTURA_TIMEOUT']!r}."
        )


def _check_upload_plan(config: dict[str, Any]) -> None:
    """The upload plan's bounds, as static/js/chunk_pump.js accepts them (1 to 8 chunks in flight,
    the first chunk within the adapted size's bounds)."""
    if not 1 <= int(config["UPLOAD_PARALLELISM"]) <= 8:
        raise ConfigError(f"PORTAL_UPLOAD_PARALLELISM must be 1 to 8, not {config['UPLOAD_PARALLELISM']!r}.")
    low, first, high = (
        int(config["UPLOAD_MIN_CHUNK_BYTES"]),
        int(config["UPLOAD_CHUNK_BYTES"]),
        int(config["UPLOAD_MAX_CHUNK_BYTES"]),
    )
    if not 64 * 1024 <= low <= first <= high:
        raise ConfigError(
            "PORTAL_UPLOAD_MIN_CHUNK_BYTES (at least 65536) ≤ PORTAL_UPLOAD_CHUNK_BYTES ≤ "
            f"PORTAL_UPLOAD_MAX_CHUNK_BYTES must hold, not {low} ≤ {first} ≤ {high}."
        )


def _fill_development_keys(config: dict[str, Any], instance_path: Path) -> None:
    """Generate development keys once and keep them under ``instance/`` so restarts keep sessions."""
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance_path / "secret_key", lambda: secrets.token_urlsafe(48))
    if not config.get("ENCRYPTION_KEYS"):
        config["ENCRYPTION_KEYS"] = _instance_secret(instance_path / "encryption_keys", _new_keyring)


def _new_keyring() -> str:
    return "dev1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _instance_secret(path: Path, make: Any) -> str:
    # The instance folder holds the development keys and database: owner-only from the start.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        # Written owner-only: these keys decrypt the development database's App Tokens.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()
