"""Live checks (issue 4, item 5) against the sandbox: the rows an admin sees after "Test connection"."""

from __future__ import annotations

import socket

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura.client import RetryPolicy, Timeouts
from portal.kaltura.diagnostics import CheckRow, run_live_checks
from portal.kaltura.gateway import GatewaySettings, KalturaGateway
from portal.kaltura.tokens import AppToken
from tests.integration.kaltura.conftest import settings_for

USER = "ada@northwind.example"
KEYS = [
    "service",
    "client_session",
    "server_session",
    "client_privileges",
    "server_privileges",
    "partner",
    "entries",
    "four_k",
    "users_read",
    "users_add",
]


def rows_by_key(rows: list[CheckRow]) -> dict[str, CheckRow]:
    assert [row.key for row in rows] == KEYS
    return {row.key: row for row in rows}


def test_the_demo_tokens_pass_every_check(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, server_token, USER))

    assert {key: row.status for key, row in rows.items()} == dict.fromkeys(KEYS, "pass")
    assert USER in rows["client_session"].detail
    assert "enableentitlement" in rows["client_privileges"].detail
    assert "disableentitlement" in rows["server_privileges"].detail
    count = gateway.count_entries(sandbox.url, client_token, USER)
    assert f"list {count} entries" in rows["entries"].detail
    assert all(row.code is None for row in rows.values())


def test_every_check_mints_fresh_sessions(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    gateway.start_session(sandbox.url, client_token, USER)  # a cached session must not hide a broken token
    sandbox.control("calls/reset")

    run_live_checks(gateway, sandbox.url, client_token, server_token, USER)

    calls = sandbox.calls()
    assert calls["session.startwidgetsession"] == 2 and calls["apptoken.startsession"] == 2
    assert calls["media.list"] == 1


def test_swapped_tokens_fail_the_privilege_checks_from_kalturas_answer(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    rows = rows_by_key(run_live_checks(gateway, sandbox.url, server_token, client_token, USER))

    assert rows["client_session"].status == "pass" and rows["server_session"].status == "pass"
    assert rows["client_privileges"].status == "fail" and "enableentitlement" in rows["client_privileges"].detail
    assert rows["server_privileges"].status == "fail" and rows["server_privileges"].what_to_do


def test_a_rejected_token_fails_with_kalturas_code_and_skips_what_depends_on_it(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    wrong = AppToken(id=client_token.id, token="0" * 32, partner_id=client_token.partner_id, hash_type="SHA256")

    rows = rows_by_key(run_live_checks(gateway, sandbox.url, wrong, server_token, USER))

    assert rows["client_session"].status == "fail"
    assert rows["client_session"].code == "INVALID_APP_TOKEN_HASH"
    assert "paste" in (rows["client_session"].what_to_do or "")
    assert [rows[key].status for key in ("client_privileges", "partner", "entries")] == ["skip"] * 3
    assert rows["server_session"].status == "pass" and rows["four_k"].status == "pass"


def test_an_account_without_4k_fails_that_row(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    sandbox.control("partner", has_4k=False)

    rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, server_token, USER))

    assert rows["four_k"].status == "fail" and rows["four_k"].what_to_do


def test_a_forbidden_4k_check_is_a_warning_with_the_reason(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    sandbox.control("fault", action="conversionProfile.getDefault", count=1, kind="api_error", code="SERVICE_FORBIDDEN")

    rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, server_token, USER))

    assert rows["four_k"].status == "warn"
    assert rows["four_k"].code == "SERVICE_FORBIDDEN"
    assert "could not be verified" in rows["four_k"].detail


def test_no_entries_is_a_warning(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    sandbox.reset(entries=0)

    rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, server_token, USER))

    assert rows["entries"].status == "warn" and "empty" in rows["entries"].detail


def test_a_slow_kaltura_is_one_failing_row_and_no_exception(
    sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    sandbox.control("latency", seconds=2.0, action="system.ping")
    settings = settings_for(sandbox, timeouts=Timeouts(connect=1.0, read=0.5), retry=RetryPolicy(attempts=3))
    sandbox.control("calls/reset")

    with KalturaGateway(settings) as gateway:
        rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, server_token, USER))

    assert rows["service"].status == "fail" and "did not answer in time" in rows["service"].detail
    assert all(rows[key].status == "skip" for key in KEYS[1:])
    assert sandbox.calls() == {"system.ping": 1}  # a single attempt: the row fails within one timeout


def test_an_unreachable_kaltura_is_a_failing_row(client_token: AppToken, server_token: AppToken) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        with KalturaGateway(settings_for_url(f"http://127.0.0.1:{port}")) as gateway:
            rows = rows_by_key(run_live_checks(gateway, f"http://127.0.0.1:{port}", client_token, server_token))

    assert rows["service"].status == "fail" and "Could not connect" in rows["service"].detail
    assert rows["service"].what_to_do


def test_a_refused_service_url_is_a_failing_row(
    gateway: KalturaGateway, client_token: AppToken, server_token: AppToken
) -> None:
    rows = rows_by_key(run_live_checks(gateway, "https://169.254.169.254", client_token, server_token))

    assert rows["service"].status == "fail"
    assert "not one of the Kaltura hosts" in rows["service"].detail
    assert all(rows[key].status == "skip" for key in KEYS[1:])


def test_a_kaltura_that_stops_answering_midway_skips_the_rest(
    sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    settings = settings_for(sandbox, timeouts=Timeouts(connect=1.0, read=0.5), retry=RetryPolicy(attempts=1))
    sandbox.control("fault", action="appToken.startSession", count=5, kind="stall", seconds=2)

    with KalturaGateway(settings) as gateway:
        rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, server_token, USER))

    assert rows["service"].status == "pass"
    assert rows["client_session"].status == "fail" and "did not answer in time" in rows["client_session"].detail
    assert all(rows[key].status == "skip" for key in KEYS[2:])


def test_rows_serialise_for_the_cli(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    rows = run_live_checks(gateway, sandbox.url, client_token, server_token, USER)

    assert [row.as_dict()["status"] for row in rows] == ["pass"] * len(KEYS)
    assert set(rows[0].as_dict()) == {"key", "status", "title", "detail", "code", "what_to_do"}


def test_the_article_token_warns_that_users_can_be_neither_looked_up_nor_created(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    """The help article's server token (no role) passed every check before and failed on first use."""
    from tests.integration.kaltura.conftest import _token

    article = _token(sandbox, "articleServerAppToken", "server")
    sandbox.control("calls/reset")
    rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, article, USER))

    for key, call in (("users_read", "user.list"), ("users_add", "user.add")):
        row = rows[key]
        assert (row.status, row.code) == ("warn", "SERVICE_FORBIDDEN"), row
        assert f"Kaltura refused {call}" in row.detail and "first upload" in row.detail
        assert "ADMIN_BASE" in row.what_to_do and "ADMIN_USER_ADD" in row.what_to_do
        assert "setrole:ROLE_ID" in row.what_to_do
    assert sandbox.calls().get("user.add") == 1  # the probe, which creates nobody


def test_the_creation_check_creates_no_user(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    before = sandbox.control("calls")
    rows = rows_by_key(run_live_checks(gateway, sandbox.url, client_token, server_token, USER))
    assert rows["users_add"].status == "pass" and "without creating one" in rows["users_add"].detail
    assert rows["users_read"].status == "pass"
    from kaltura_sandbox.seed import DEMO_USERS
    from tests.identity_support import admin_ks, kaltura_api

    listed = kaltura_api(sandbox, "user", "list", ks=admin_ks(sandbox), pager={"pageSize": 500})
    assert listed["totalCount"] == len(DEMO_USERS), before  # no probe user was left behind


def settings_for_url(url: str) -> GatewaySettings:
    return GatewaySettings(allowed_hosts=[url], timeouts=Timeouts(connect=1.0, read=1.0), retry=RetryPolicy(attempts=1))


def test_an_unexpected_error_is_a_failing_row_not_an_exception(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    # Built directly, bypassing the parser: a hash type Kaltura and hashlib don't know.
    broken = AppToken(
        id=client_token.id, token=client_token.token, partner_id=client_token.partner_id, hash_type="SHA3-1024"
    )

    rows = rows_by_key(run_live_checks(gateway, sandbox.url, broken, server_token, USER))

    assert rows["client_session"].status == "fail"
    assert "unexpectedly" in rows["client_session"].detail
    assert rows["server_session"].status == "pass"
