"""The app's gateways, built once from configuration and fetched by views through one helper.

Tests build the app with other settings (for example a sandbox URL) instead of patching code.
"""

from __future__ import annotations

from flask import Flask, current_app

from portal.kaltura import KalturaGateway
from portal.kaltura.vault import TokenVault
from portal.secrets import Keyring


def init_app(app: Flask) -> None:
    gateway = KalturaGateway.from_config(app.config)
    app.extensions["kaltura"] = gateway
    app.extensions["kaltura_vault"] = TokenVault(Keyring.parse(app.config["ENCRYPTION_KEYS"]))


def kaltura() -> KalturaGateway:
    """The process-wide Kaltura gateway (pooled connections, session cache)."""
    return current_app.extensions["kaltura"]


def vault() -> TokenVault:
    """Seals and unseals App Tokens with the configured keyring."""
    return current_app.extensions["kaltura_vault"]
