"""The gateway against the Kaltura sandbox over real HTTP: sessions, caching, listings, users, 4K, faults."""

from __future__ import annotations

import logging
import re
import uuid

import pytest

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura.client import RetryPolicy, Timeouts
from portal.kaltura.errors import KalturaApiError, KalturaUnavailable, NotFound
from portal.kaltura.gateway import KalturaGateway
from portal.kaltura.tokens import AppToken
from portal.kaltura.types import PICKER_STATUSES, EntryStatus, MediaType, SessionType
from tests.integration.kaltura.conftest import settings_for

USER = "ada@northwind.example"
MINTING = {"session.startwidgetsession": 1, "apptoken.startsession": 1}


def kaltura_calls(sandbox: SandboxProcess) -> dict[str, int]:
    return {key: count for key, count in sandbox.calls().items() if count}


# --- sessions ------------------------------------------------------------------------------


def test_a_session_starts_with_each_demo_token(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    client = gateway.start_session(sandbox.url, client_token, USER, session_type=SessionType.USER)
    server = gateway.start_session(sandbox.url, server_token)

    assert client.user_id == USER and client.partner_id == client_token.partner_id
    assert client.session_type is SessionType.USER
    assert client.privileges.enables_entitlement and client.privileges.value("apptoken") == client_token.id
    assert server.privileges.disables_entitlement and server.partner_id == server_token.partner_id
    assert client.expiry is not None and server.expiry is not None
    assert client.ks and client.ks != server.ks and client.ks not in repr(client)


def test_n_listings_cost_two_minting_calls_plus_n_list_calls(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    sandbox.control("calls/reset")

    for page in range(1, 6):
        gateway.list_media(sandbox.url, client_token, USER, page=page, page_size=10)

    assert kaltura_calls(sandbox) == {**MINTING, "media.list": 5}


def test_each_user_gets_a_session_of_their_own(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    sandbox.control("calls/reset")

    for user in (USER, "grace@northwind.example", USER):
        gateway.count_entries(sandbox.url, client_token, user)

    assert kaltura_calls(sandbox) == {"session.startwidgetsession": 2, "apptoken.startsession": 2, "media.list": 3}


def test_an_expired_session_is_reminted_once_and_the_call_retried(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    first = gateway.list_media(sandbox.url, client_token, USER, page_size=5)
    sandbox.control("expire_sessions")
    sandbox.control("calls/reset")

    again = gateway.list_media(sandbox.url, client_token, USER, page_size=5)

    assert again.total_count == first.total_count
    # the rejected list call, a new session (two calls), and the retried list call
    assert kaltura_calls(sandbox) == {**MINTING, "media.list": 2}


def test_a_wrong_token_secret_is_kalturas_hash_error(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    wrong = AppToken(
        id=client_token.id, token="0" * 32, partner_id=client_token.partner_id, hash_type=client_token.hash_type
    )

    with pytest.raises(KalturaApiError) as raised:
        gateway.start_session(sandbox.url, wrong, USER)

    assert raised.value.code == "INVALID_APP_TOKEN_HASH"
    assert raised.value.call == "appToken.startSession"


def test_an_unknown_token_id_is_not_found(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    unknown = AppToken(
        id="0_zzzzzzzz", token=client_token.token, partner_id=client_token.partner_id, hash_type=client_token.hash_type
    )

    with pytest.raises(NotFound) as raised:
        gateway.start_session(sandbox.url, unknown)

    assert raised.value.code == "APP_TOKEN_ID_NOT_FOUND"
    assert raised.value.error_args.get("ID") == "0_zzzzzzzz"


def test_an_unknown_partner_is_an_invalid_widget(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    other = AppToken(id=client_token.id, token=client_token.token, partner_id=99, hash_type=client_token.hash_type)

    with pytest.raises(KalturaApiError) as raised:
        gateway.start_session(sandbox.url, other)

    assert raised.value.code == "INVALID_WIDGET_ID"
    assert "service URL" in raised.value.explain()


# --- media -----------------------------------------------------------------------------------


def test_list_media_returns_typed_entries_and_the_total(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    page = gateway.list_media(sandbox.url, client_token, USER, page_size=20)

    assert len(page.entries) == 20 and page.total_count >= 20 and page.has_next
    assert all(entry.id and entry.name for entry in page.entries)
    assert {entry.status for entry in page.entries} <= set(PICKER_STATUSES)
    assert {entry.media_type for entry in page.entries} <= set(MediaType)
    created = [entry.created_at or 0 for entry in page.entries]
    assert created == sorted(created, reverse=True)


def test_listing_includes_entries_that_are_not_ready_yet(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    everything = gateway.count_entries(sandbox.url, client_token, USER)
    ready = gateway.count_entries(sandbox.url, client_token, USER, statuses=[EntryStatus.READY])

    assert everything >= ready > 0


def test_paging_walks_distinct_entries(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    first = gateway.list_media(sandbox.url, client_token, USER, page=1, page_size=7)
    second = gateway.list_media(sandbox.url, client_token, USER, page=2, page_size=7)

    assert not {e.id for e in first.entries} & {e.id for e in second.entries}
    assert first.total_count == second.total_count


def test_filters_by_media_type_and_free_text(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    images = gateway.list_media(sandbox.url, client_token, USER, media_types=[MediaType.IMAGE], page_size=50)
    word = gateway.list_media(sandbox.url, client_token, USER, page_size=1).entries[0].name.split()[0]
    matching = gateway.list_media(sandbox.url, client_token, USER, free_text=word, page_size=50)

    assert images.entries and all(entry.media_type is MediaType.IMAGE for entry in images.entries)
    assert matching.total_count >= 1
    assert matching.total_count <= gateway.count_entries(sandbox.url, client_token, USER)


def test_count_entries_agrees_with_the_listing(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    assert (
        gateway.count_entries(sandbox.url, client_token, USER)
        == gateway.list_media(sandbox.url, client_token, USER, page_size=3).total_count
    )


# --- users -----------------------------------------------------------------------------------


def test_users_are_looked_up_and_added_with_the_server_token(
    gateway: KalturaGateway, sandbox: SandboxProcess, server_token: AppToken
) -> None:
    user_id = f"new-{uuid.uuid4().hex[:8]}@example.org"

    assert gateway.get_user(sandbox.url, server_token, user_id) is None
    added = gateway.add_user(sandbox.url, server_token, user_id, email=user_id, first_name="New", last_name="User")
    found = gateway.get_user(sandbox.url, server_token, user_id)

    assert added.id == user_id and added.is_active and not added.login_enabled and not added.is_admin
    assert found is not None and found.email == user_id and found.last_name == "User"


def test_adding_an_existing_user_is_kalturas_duplicate_error_and_is_sent_once(
    gateway: KalturaGateway, sandbox: SandboxProcess, server_token: AppToken
) -> None:
    user_id = f"dup-{uuid.uuid4().hex[:8]}@example.org"
    gateway.add_user(sandbox.url, server_token, user_id)
    sandbox.control("calls/reset")

    with pytest.raises(KalturaApiError) as raised:
        gateway.add_user(sandbox.url, server_token, user_id)

    assert raised.value.code == "DUPLICATE_USER_BY_ID"
    assert kaltura_calls(sandbox) == {"user.add": 1}


# --- conversion profiles and 4K --------------------------------------------------------------


def test_4k_is_detected_from_the_default_profile(
    gateway: KalturaGateway, sandbox: SandboxProcess, server_token: AppToken
) -> None:
    profile = gateway.default_conversion_profile(sandbox.url, server_token)
    params = gateway.flavor_params(sandbox.url, server_token, profile.flavor_params_ids)
    result = gateway.check_4k(sandbox.url, server_token)

    assert profile.flavor_params_ids and params
    assert {p.id for p in params} <= set(profile.flavor_params_ids)
    assert result.supported is True and result.uhd_flavors
    assert set(result.uhd_flavors) == {p.name for p in params if p.is_uhd}


def test_an_account_without_4k_is_reported(
    gateway: KalturaGateway, sandbox: SandboxProcess, server_token: AppToken
) -> None:
    sandbox.control("partner", has_4k=False)

    result = gateway.check_4k(sandbox.url, server_token)

    assert result.supported is False and "no 4K" in result.reason


def test_4k_could_not_be_verified_when_the_session_is_forbidden(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    result = gateway.check_4k(sandbox.url, client_token)

    assert result.supported is None
    assert result.error_code == "SERVICE_FORBIDDEN"
    assert "could not be verified" in result.reason


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http_500", "http_503", "drop"])
def test_a_transient_transport_fault_on_a_read_is_retried(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, kind: str
) -> None:
    gateway.count_entries(sandbox.url, client_token, USER)  # session cached first
    sandbox.control("fault", action="media.list", count=1, kind=kind)
    sandbox.control("calls/reset")

    assert gateway.count_entries(sandbox.url, client_token, USER) > 0
    assert kaltura_calls(sandbox) == {"media.list": 2}


@pytest.mark.parametrize(
    ("kind", "reason", "status"),
    [("http_500", "http_status", 500), ("http_503", "http_status", 503), ("drop", "dropped", None)],
)
def test_a_lasting_transport_fault_is_unavailable_after_the_retries(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, kind: str, reason: str, status: int | None
) -> None:
    gateway.count_entries(sandbox.url, client_token, USER)
    sandbox.control("fault", action="media.list", count=10, kind=kind)
    sandbox.control("calls/reset")

    with pytest.raises(KalturaUnavailable) as raised:
        gateway.list_media(sandbox.url, client_token, USER)

    assert (raised.value.reason, raised.value.status) == (reason, status)
    assert kaltura_calls(sandbox) == {"media.list": 3}


def test_an_in_band_transient_error_is_retried(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    gateway.count_entries(sandbox.url, client_token, USER)
    sandbox.control("fault", action="media.list", count=1, kind="api_error", code="INTERNAL_SERVERL_ERROR")

    assert gateway.count_entries(sandbox.url, client_token, USER) > 0


def test_an_in_band_error_keeps_kalturas_code(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    gateway.count_entries(sandbox.url, client_token, USER)
    sandbox.control("fault", action="media.list", count=1, kind="api_error", code="SERVICE_FORBIDDEN")
    sandbox.control("calls/reset")

    with pytest.raises(KalturaApiError) as raised:
        gateway.list_media(sandbox.url, client_token, USER)

    assert raised.value.code == "SERVICE_FORBIDDEN" and raised.value.is_forbidden
    assert kaltura_calls(sandbox) == {"media.list": 1}


def test_a_create_call_is_not_retried_after_a_5xx(
    gateway: KalturaGateway, sandbox: SandboxProcess, server_token: AppToken
) -> None:
    gateway.get_user(sandbox.url, server_token, "warm-up@example.org")
    sandbox.control("fault", action="user.add", count=1, kind="http_503")
    sandbox.control("calls/reset")

    with pytest.raises(KalturaUnavailable):
        gateway.add_user(sandbox.url, server_token, f"once-{uuid.uuid4().hex[:8]}@example.org")

    assert kaltura_calls(sandbox) == {"user.add": 1}


def test_a_stalled_call_times_out(sandbox: SandboxProcess, client_token: AppToken) -> None:
    settings = settings_for(sandbox, timeouts=Timeouts(connect=2.0, read=0.5), retry=RetryPolicy(attempts=1))
    with KalturaGateway(settings) as gateway:
        gateway.count_entries(sandbox.url, client_token, USER)
        sandbox.control("fault", action="media.list", count=1, kind="stall", seconds=3)

        with pytest.raises(KalturaUnavailable) as raised:
            gateway.list_media(sandbox.url, client_token, USER)

    assert raised.value.reason == "timeout"


def test_latency_beyond_the_read_timeout_times_out(sandbox: SandboxProcess, client_token: AppToken) -> None:
    settings = settings_for(sandbox, timeouts=Timeouts(connect=2.0, read=0.5), retry=RetryPolicy(attempts=1))
    sandbox.control("latency", seconds=1.5, action="media.list")
    with KalturaGateway(settings) as gateway, pytest.raises(KalturaUnavailable) as raised:
        gateway.list_media(sandbox.url, client_token, USER)

    assert raised.value.reason == "timeout"


def test_ping(gateway: KalturaGateway, sandbox: SandboxProcess) -> None:
    gateway.ping(sandbox.url)
    sandbox.control("fault", action="system.ping", count=1, kind="http_503")

    with pytest.raises(KalturaUnavailable):
        gateway.ping(sandbox.url, retry=False)


# --- no secret in the logs ---------------------------------------------------------------------


def test_no_token_ks_or_hash_reaches_the_logs(
    gateway: KalturaGateway,
    sandbox: SandboxProcess,
    client_token: AppToken,
    server_token: AppToken,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="portal.kaltura")
    session = gateway.start_session(sandbox.url, client_token, USER, session_type=SessionType.USER)
    gateway.list_media(sandbox.url, client_token, USER)
    sandbox.control("expire_sessions")
    gateway.list_media(sandbox.url, client_token, USER)
    gateway.check_4k(sandbox.url, client_token)
    gateway.check_4k(sandbox.url, server_token)
    sandbox.control("fault", action="media.list", count=5, kind="http_500")
    with pytest.raises(KalturaUnavailable):
        gateway.list_media(sandbox.url, client_token, USER)
    wrong = AppToken(id=client_token.id, token="f" * 32, partner_id=client_token.partner_id, hash_type="SHA256")
    with pytest.raises(KalturaApiError):
        gateway.start_session(sandbox.url, wrong)

    text = caplog.text
    assert "media.list" in text and "INVALID_KS" in text
    for secret in (client_token.token, server_token.token, session.ks, "f" * 32):
        assert secret not in text
    assert "djJ8" not in text
    assert not re.search(r"[0-9a-f]{40,}", text)  # no token hash (SHA1/SHA256/SHA512 hex) either
