"""The app's gateways, built once from configuration and fetched by views through one helper.

Tests build the app with other settings (for example a sandbox URL) instead of patching code.
"""

from __future__ import annotations

from flask import Flask, current_app

from portal.kaltura import KalturaGateway
from portal.kaltura.sessions import RedisSessionStore, shared_cache_key
from portal.kaltura.vault import TokenVault
from portal.secrets import Keyring
from portal.status.recording import DatabaseRecorder, recording_engine


def init_app(app: Flask) -> None:
    keyring = Keyring.parse(app.config["ENCRYPTION_KEYS"])
    vault = TokenVault(keyring)
    # With Redis, every worker shares the Kaltura sessions any of them minted (encrypted with the
    # keyring); without it each process keeps its own.
    redis_url = app.config.get("REDIS_URL")
    shared = RedisSessionStore.from_url(redis_url, keyring) if redis_url else None
    # Each call's outcome, code and duration, per hub, in the database every worker shares (issue 10).
    recorder = DatabaseRecorder(recording_engine(app.extensions["db"].kw["bind"]))
    app.extensions["kaltura_recorder"] = recorder
    # The gateway holds the vault: saved tokens are unsealed inside it, for the call that needs them.
    app.extensions["kaltura"] = KalturaGateway.from_config(
        app.config,
        vault=vault,
        shared_sessions=shared,
        cache_key=shared_cache_key(app.config["SECRET_KEY"]) if shared else None,
        recorder=recorder,
    )
    app.extensions["kaltura_vault"] = vault


def kaltura() -> KalturaGateway:
    """The process-wide Kaltura gateway (pooled connections, session cache)."""
    return current_app.extensions["kaltura"]


def recorder() -> DatabaseRecorder:
    """Records each Kaltura call per hub; ``recorder().flush()`` before reading this process's latest figures."""
    return current_app.extensions["kaltura_recorder"]


def vault() -> TokenVault:
    """Seals App Tokens with the configured keyring (the gateway unseals them)."""
    return current_app.extensions["kaltura_vault"]
