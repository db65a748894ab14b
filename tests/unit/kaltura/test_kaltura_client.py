"""The Kaltura HTTP client against a scripted local server: wire format, errors, retries, limits, logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from portal.kaltura.client import Call, KalturaClient, RetryPolicy, Timeouts
from portal.kaltura.errors import (
    Forbidden,
    InvalidSession,
    KalturaApiError,
    KalturaUnavailable,
    NotFound,
)
from tests.unit.kaltura.conftest import SleepRecorder
from tests.unit.kaltura.fake_kaltura import FakeKaltura, Reply, json_reply

MakeClient = Callable[..., KalturaClient]
KS = "djJ8MTIzNDU2N3xTHISISACANARYSESSIONSTRINGdontlogme0123456789abcdef"


def api_exception(code: str, message: str = "", args: object = None) -> Reply:
    return json_reply({"code": code, "message": message, "objectType": "KalturaAPIException", "args": args or []})


# --- what goes on the wire ---------------------------------------------------------------------


def test_request_shape(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(json_reply({"objects": [], "totalCount": 0, "objectType": "KalturaMediaListResponse"}))

    make_client(client_tag="portal-test").call(
        fake.url,
        "media",
        "list",
        {"filter": {"objectType": "KalturaMediaEntryFilter", "freeText": None, "orderBy": "-createdAt"}},
        ks=KS,
    )

    seen = fake.requests[0]
    assert seen.method == "POST"
    assert seen.path == "/api_v3/service/media/action/list"
    assert seen.headers["Content-Type"] == "application/json"  # exactly: a charset suffix disables JSON parsing
    body = seen.json()
    assert body["format"] == 1
    assert body["clientTag"] == "portal-test"
    assert body["ks"] == KS
    assert body["filter"] == {"objectType": "KalturaMediaEntryFilter", "orderBy": "-createdAt"}  # nulls dropped


def test_no_ks_is_sent_when_none_is_given(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(json_reply(True))

    make_client().call(fake.url, "system", "ping")

    assert "ks" not in fake.requests[0].json()


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], 42, "djJ8abc", True, None])
def test_returns_kalturas_bare_json_result(make_client: MakeClient, fake: FakeKaltura, value: object) -> None:
    fake.queue(json_reply(value))

    assert make_client().call(fake.url, "session", "start") == value


def test_multirequest(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(
        json_reply(
            [
                {"id": "0_aaaaaaaa", "objectType": "KalturaMediaEntry"},
                {
                    "code": "ENTRY_ID_NOT_FOUND",
                    "message": 'Entry id "0_b" not found',
                    "objectType": "KalturaAPIException",
                    "args": {"ENTRY_ID": "0_b"},
                },
            ]
        )
    )

    results = make_client().multirequest(
        fake.url, [Call("media", "get", {"entryId": "0_aaaaaaaa"}), Call("media", "get", {"entryId": "0_b"})], ks=KS
    )

    assert fake.requests[0].path == "/api_v3/service/multirequest"
    body = fake.requests[0].json()
    assert body["1"] == {"service": "media", "action": "get", "entryId": "0_aaaaaaaa"}
    assert body["2"]["entryId"] == "0_b" and body["ks"] == KS
    assert results[0]["id"] == "0_aaaaaaaa"
    assert isinstance(results[1], NotFound) and results[1].error_args == {"ENTRY_ID": "0_b"}


# --- in-band errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("INVALID_KS", InvalidSession),
        ("SERVICE_FORBIDDEN", Forbidden),
        ("ENTRY_ID_NOT_FOUND", NotFound),
        ("INVALID_USER_ID", NotFound),
        ("PROPERTY_VALIDATION_CANNOT_BE_NULL", KalturaApiError),
    ],
)
def test_api_errors_are_typed_and_keep_code_message_args(
    make_client: MakeClient, fake: FakeKaltura, code: str, kind: type
) -> None:
    fake.queue(api_exception(code, "Something about @X@", {"SERVICE": "media->list"}))

    with pytest.raises(KalturaApiError) as raised:
        make_client().call(fake.url, "media", "list")

    error = raised.value
    assert type(error) is kind
    assert error.code == code
    assert error.message == "Something about @X@"
    assert error.error_args == {"SERVICE": "media->list"}
    assert error.call == "media.list"
    assert error.explain().startswith(f"Kaltura refused media.list: {code}")
    assert "What to do:" in error.explain()


def test_empty_args_arrive_as_a_json_array_and_become_an_empty_dict(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(api_exception("INVALID_APP_TOKEN_HASH", "Invalid application token hash", []))

    with pytest.raises(KalturaApiError) as raised:
        make_client().call(fake.url, "appToken", "startSession")

    assert raised.value.error_args == {}
    assert "paste the complete appToken.add response" in raised.value.explain()


def test_a_ks_echoed_in_an_invalid_ks_error_is_masked(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(
        api_exception(
            "INVALID_KS",
            f'Invalid KS "{KS}", Error "-1,INVALID_STR"',
            {"KSID": KS, "ERR_CODE": "-1", "ERR_DESC": "INVALID_STR"},
        )
    )

    with pytest.raises(InvalidSession) as raised:
        make_client().call(fake.url, "media", "list", ks=KS)

    error = raised.value
    for text in (str(error), error.message, error.explain(), repr(error), json.dumps(error.error_args)):
        assert KS not in text
    assert error.error_args["ERR_DESC"] == "INVALID_STR"


# --- transport failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(status=500, body=b"<html>oops</html>", headers={"Content-Type": "text/html"}), "http_status"),
        (Reply(status=503, body=b"busy"), "http_status"),
        (Reply(status=200, body=b"<html>captive portal</html>"), "invalid_body"),
        (Reply(status=200, body=b""), "invalid_body"),
        (Reply(kind="drop"), "dropped"),
    ],
    ids=["500", "503", "html-body", "empty-body", "dropped"],
)
def test_transport_failures_are_unavailable(
    make_client: MakeClient, fake: FakeKaltura, reply: Reply, reason: str
) -> None:
    fake.queue(reply, reply, reply)

    with pytest.raises(KalturaUnavailable) as raised:
        make_client().call(fake.url, "media", "list")

    assert raised.value.reason == reason
    assert "What to do:" in raised.value.explain()


def test_connection_refused_is_unavailable(make_client: MakeClient, fake: FakeKaltura) -> None:
    client = make_client(retry=RetryPolicy(attempts=1))
    url = fake.url
    fake.__exit__()  # nothing listens on the port any more

    with pytest.raises(KalturaUnavailable) as raised:
        client.call(url, "system", "ping")

    assert raised.value.reason == "connect"


def test_a_stalled_server_times_out(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(Reply(kind="stall", seconds=5))
    client = make_client(timeouts=Timeouts(connect=1.0, read=0.3), retry=RetryPolicy(attempts=1))

    with pytest.raises(KalturaUnavailable) as raised:
        client.call(fake.url, "media", "list")

    assert raised.value.reason == "timeout"


def test_only_the_final_upload_chunk_gets_the_long_read_timeout(make_client: MakeClient, fake: FakeKaltura) -> None:
    slow = Reply(body=json.dumps({"id": "0_t", "objectType": "KalturaUploadToken"}).encode(), delay=0.8)
    fake.queue(slow, slow)
    client = make_client(timeouts=Timeouts(connect=1.0, read=0.3, upload_read=5.0))

    with pytest.raises(KalturaUnavailable):
        client.call(fake.url, "uploadToken", "upload", {"uploadTokenId": "0_t"})
    final = client.call(fake.url, "uploadToken", "upload", {"uploadTokenId": "0_t"}, final_upload_chunk=True)
    assert final["id"] == "0_t"


@pytest.mark.parametrize("omit_length", [False, True], ids=["declared-length", "streamed"])
def test_oversized_answers_are_refused(make_client: MakeClient, fake: FakeKaltura, omit_length: bool) -> None:
    fake.queue(Reply(body=b'"' + b"x" * 5000 + b'"', omit_length=omit_length))

    with pytest.raises(KalturaUnavailable) as raised:
        make_client(max_response_bytes=1000).call(fake.url, "media", "list")

    assert raised.value.reason == "too_large"


# --- retries -------------------------------------------------------------------------------


def test_reads_are_retried_with_growing_jittered_waits(
    make_client: MakeClient, fake: FakeKaltura, sleeps: SleepRecorder
) -> None:
    fake.queue(Reply(status=503), Reply(kind="drop"), json_reply({"totalCount": 1, "objects": []}))

    result = make_client().call(fake.url, "media", "list")

    assert result["totalCount"] == 1
    assert len(fake.requests) == 3
    assert len(sleeps.waits) == 2
    assert 0 < sleeps.waits[0] < sleeps.waits[1]


def test_retries_stop_after_the_configured_attempts(
    make_client: MakeClient, fake: FakeKaltura, sleeps: SleepRecorder
) -> None:
    fake.queue(*[Reply(status=503)] * 5)

    with pytest.raises(KalturaUnavailable):
        make_client(retry=RetryPolicy(attempts=2, base_delay=0.1)).call(fake.url, "media", "list")

    assert len(fake.requests) == 2 and len(sleeps.waits) == 1


def test_retries_stop_when_the_time_budget_is_spent(fake: FakeKaltura, sleeps: SleepRecorder) -> None:
    from portal.kaltura.outbound import OutboundPolicy

    ticks = iter(range(0, 10_000, 100))  # every look at the clock is 100 s later
    fake.queue(*[Reply(status=503)] * 3)
    policy = OutboundPolicy.from_settings(allowed_hosts=[fake.url])
    retry = RetryPolicy(attempts=5, budget=150)
    with (
        KalturaClient(policy, retry=retry, sleep=sleeps, clock=lambda: next(ticks)) as client,
        pytest.raises(KalturaUnavailable),
    ):
        client.call(fake.url, "media", "list")

    # 100 s after the start a retry is still in budget; at 200 s it is not, although 5 attempts are allowed
    assert len(fake.requests) == 2


@pytest.mark.parametrize("code", ["INTERNAL_SERVERL_ERROR", "INTERNAL_DATABASE_ERROR", "LOCK_TIMED_OUT"])
def test_transient_api_errors_are_retried_for_reads(make_client: MakeClient, fake: FakeKaltura, code: str) -> None:
    fake.queue(api_exception(code, "try later"), json_reply({"id": "0_aaaaaaaa"}))

    assert make_client().call(fake.url, "media", "get", {"entryId": "0_aaaaaaaa"})["id"] == "0_aaaaaaaa"
    assert len(fake.requests) == 2


def test_rate_limiting_waits_longer(make_client: MakeClient, fake: FakeKaltura, sleeps: SleepRecorder) -> None:
    fake.queue(api_exception("INTERNAL_SERVERL_ERROR"), api_exception("ACTION_BLOCKED"), json_reply(True))
    client = make_client(retry=RetryPolicy(attempts=3, base_delay=0.1, max_delay=10, blocked_multiplier=10))

    client.call(fake.url, "media", "list")

    # the second wait is for ACTION_BLOCKED: exponential growth alone would only double it
    assert sleeps.waits[1] > 4 * sleeps.waits[0]


@pytest.mark.parametrize("code", ["SERVICE_FORBIDDEN", "INVALID_KS", "ENTRY_ID_NOT_FOUND"])
def test_permanent_api_errors_are_not_retried(make_client: MakeClient, fake: FakeKaltura, code: str) -> None:
    fake.queue(api_exception(code), json_reply(True))

    with pytest.raises(KalturaApiError):
        make_client().call(fake.url, "media", "list")
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("service", "action"),
    [
        ("media", "add"),
        ("uploadToken", "add"),
        ("uploadToken", "upload"),
        ("media", "addContent"),
        ("user", "add"),
        ("media", "update"),
    ],
)
@pytest.mark.parametrize(
    "failure",
    [Reply(status=503), Reply(kind="drop"), api_exception("INTERNAL_SERVERL_ERROR")],
    ids=["503", "drop", "internal-error"],
)
def test_calls_that_create_things_are_never_retried(
    make_client: MakeClient, fake: FakeKaltura, sleeps: SleepRecorder, service: str, action: str, failure: Reply
) -> None:
    fake.queue(failure, json_reply({"id": "0_new"}))

    with pytest.raises((KalturaUnavailable, KalturaApiError)):
        make_client().call(fake.url, service, action, {"x": 1})

    assert len(fake.requests) == 1
    assert sleeps.waits == []


def test_a_4xx_is_not_retried(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(Reply(status=404, body=b"not found"), json_reply(True))

    with pytest.raises(KalturaUnavailable) as raised:
        make_client().call(fake.url, "media", "list")

    assert raised.value.status == 404 and len(fake.requests) == 1
    assert "points at a Kaltura API server" in raised.value.explain()


# --- logging ----------------------------------------------------------------------------------


def test_logs_carry_service_action_and_code_but_no_secrets(
    make_client: MakeClient, fake: FakeKaltura, caplog: pytest.LogCaptureFixture
) -> None:
    token_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    fake.queue(
        json_reply({"ks": KS, "partnerId": 1, "objectType": "KalturaSessionInfo"}),
        api_exception("INVALID_KS", f'Invalid KS "{KS}"', {"KSID": KS}),
        Reply(status=503),
        Reply(status=503),
        Reply(status=503),
    )
    client = make_client()
    caplog.set_level(logging.DEBUG, logger="portal.kaltura")

    client.call(fake.url, "appToken", "startSession", {"id": "0_k3v9x2ab", "tokenHash": token_hash}, ks=KS)
    with pytest.raises(InvalidSession):
        client.call(fake.url, "media", "list", ks=KS)
    with pytest.raises(KalturaUnavailable):
        client.call(fake.url, "media", "list", ks=KS)

    text = caplog.text
    assert "appToken.startSession" in text and "media.list" in text
    assert "INVALID_KS" in text and "http_status/503" in text
    assert KS not in text and KS[:20] not in text
    assert token_hash not in text
