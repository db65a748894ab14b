"""Building the gateway from the portal's ``KALTURA_*`` settings (no network)."""

from __future__ import annotations

import pytest

from portal.kaltura.errors import OutboundBlocked
from portal.kaltura.gateway import GatewaySettings, KalturaGateway
from portal.kaltura.outbound import SAAS_REGIONS


def test_defaults_allow_the_saas_regions_only() -> None:
    with KalturaGateway.from_config({}) as gateway:
        assert [url for url, _ in gateway.service_url_choices()] == [region.url for region in SAAS_REGIONS]
        with pytest.raises(OutboundBlocked):
            gateway.check_service_url("http://127.0.0.1:8765")


def test_the_development_sandbox_url_is_allowed_as_given() -> None:
    config = {"KALTURA_SANDBOX_URL": "http://127.0.0.1:8765/", "KALTURA_TIMEOUT": 7.5}

    settings = GatewaySettings.from_config(config)
    with KalturaGateway(settings) as gateway:
        target = gateway.check_service_url("http://127.0.0.1:8765")

    assert target.origin == "http://127.0.0.1:8765" and target.allow_private
    assert settings.timeouts.read == 7.5 and settings.timeouts.connect <= 7.5
    assert ("http://127.0.0.1:8765", "127.0.0.1:8765") in KalturaGateway(settings).service_url_choices()


def test_operator_lists_from_configuration() -> None:
    config = {
        "KALTURA_ALLOWED_HOSTS": "saas,kaltura.example.edu",
        "KALTURA_HTTP_HOSTS": "kaltura-dev.example.edu:8080",
        "KALTURA_PRIVATE_HOSTS": "kaltura-dev.example.edu",
        "KALTURA_CUSTOM_HOSTS": True,
    }

    with KalturaGateway.from_config(config) as gateway:
        assert gateway.check_service_url("https://kaltura.example.edu").allow_private is False
        assert gateway.check_service_url("http://kaltura-dev.example.edu:8080").allow_private is True
        assert gateway.check_service_url("https://api.eu.kaltura.com").label == "European Union (Ireland)"
        assert gateway.check_service_url("https://videos.example.org").label == "videos.example.org"


def test_a_bad_operator_entry_fails_at_startup() -> None:
    with pytest.raises(ValueError, match="not a host"):
        KalturaGateway.from_config({"KALTURA_ALLOWED_HOSTS": "kaltura.example.edu/path"})
