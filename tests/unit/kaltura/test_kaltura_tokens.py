"""App Token parsing and validation (issue 4, item 3): one test per rule, plus a property test."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.kaltura.tokens import AppToken, Finding, parse_app_token, validate_pair
from portal.kaltura.types import SessionType

NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
CLIENT_SECRET = "5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e"
SERVER_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def token_json(role: str = "client", **changes: Any) -> dict[str, Any]:
    """An ``appToken.add`` response (field set and types per reference §2.3.1)."""
    data: dict[str, Any] = {
        "id": "0_k3v9x2ab" if role == "client" else "0_s3rv3r01",
        "token": CLIENT_SECRET if role == "client" else SERVER_SECRET,
        "partnerId": 1234567,
        "createdAt": 1767225600,
        "updatedAt": 1767225600,
        "status": 2,
        "expiry": int((NOW + timedelta(days=365)).timestamp()),
        "sessionType": 0,
        "sessionDuration": 86400,
        "sessionPrivileges": (
            "list:*,setrole:12345,enableentitlement,privacycontext:MyPortal"
            if role == "client"
            else "setrole:12346,disableentitlement"
        ),
        "hashType": "SHA256",
        "description": f"{role} token",
        "objectType": "KalturaAppToken",
    }
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


_DROP = object()


def paste(role: str = "client", indent: int | None = None, **changes: Any) -> str:
    return json.dumps(token_json(role, **changes), indent=indent)


def codes(findings: list[Finding] | tuple[Finding, ...], level: str | None = None) -> list[str]:
    return [f.code for f in findings if level is None or f.level == level]


def parse(text: Any, role: str = "client") -> tuple[AppToken | None, list[Finding]]:
    return parse_app_token(text, role, now=NOW)  # type: ignore[arg-type]


# --- accepted as pasted ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        paste(),
        paste(indent=2),
        "\n\n   " + paste() + "   \n\t",
        "\ufeff" + paste(indent=4),
        "Response body\n" + paste(indent=2),
        "Response body:\r\n" + paste(indent=2).replace("\n", "\r\n") + "\r\nDownload\r\n",
        "```json\n" + paste(indent=2) + "\n```",
        json.dumps({"result": token_json()}),
    ],
    ids=[
        "compact",
        "pretty",
        "whitespace",
        "bom",
        "response-body-label",
        "crlf-label-and-download",
        "code-fence",
        "result-wrapper",
    ],
)
def test_accepts_the_token_as_pasted(text: str) -> None:
    token, findings = parse(text)

    assert token is not None, findings
    assert token.id == "0_k3v9x2ab"
    assert token.token == CLIENT_SECRET
    assert token.partner_id == 1234567
    assert token.hash_type == "SHA256"
    assert token.session_type is SessionType.USER
    assert token.session_duration == 86400
    assert token.expiry == NOW + timedelta(days=365)
    assert token.privileges.privacy_context == "MyPortal"
    assert token.privileges.lists_all and token.privileges.enables_entitlement
    assert token.description == "client token"
    assert codes(findings) == ["client_token_ok"]
    assert findings[0].field == "client_token"


def test_ok_finding_describes_the_token_without_its_secret() -> None:
    _, findings = parse(paste())

    assert findings[0].level == "ok"
    assert "0_k3v9x2ab" in findings[0].message and "1234567" in findings[0].message
    assert CLIENT_SECRET not in findings[0].message


def test_the_secret_never_appears_in_repr_str_or_summary() -> None:
    token, _ = parse(paste())
    assert token is not None

    assert CLIENT_SECRET not in repr(token)
    assert CLIENT_SECRET not in str(token)
    assert CLIENT_SECRET not in json.dumps(token.public_summary())
    assert token.public_summary()["id"] == "0_k3v9x2ab"


@pytest.mark.parametrize("hash_type", ["SHA1", "MD5", "SHA256", "SHA512", "sha256"])
def test_token_hash_is_the_documented_hex_digest_of_ks_plus_token(hash_type: str) -> None:
    token, _ = parse(paste(hashType=hash_type))
    assert token is not None
    widget_ks = "djJ8MTIzNDU2N3xexample"

    expected = hashlib.new(hash_type.lower(), (widget_ks + CLIENT_SECRET).encode()).hexdigest()
    assert token.token_hash(widget_ks) == expected
    assert token.token_hash(widget_ks) == token.token_hash(widget_ks).lower()


# --- not JSON, not an App Token -----------------------------------------------------------


def test_not_json_says_line_and_column_of_the_text_as_pasted() -> None:
    text = 'Response body\n{\n  "id": "0_k3v9x2ab",\n  "token" "abc"\n}'

    token, findings = parse(text)

    assert token is None
    assert codes(findings) == ["not_json"]
    assert "line 4, column 11" in findings[0].message
    assert "appToken.add" in findings[0].message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   \n\ufeff ", "empty"),
        (None, "empty"),
        ("x" * 70_000, "too_long"),
        ("<?xml version='1.0'?><xml><result><id>0_a</id></result></xml>", "looks_like_xml"),
        ("djJ8MTIzNDU2N3xsome-session-string", "looks_like_ks"),
        ('{"id": NaN}', "not_json"),
        ("[" * 100_00 + "]" * 100_00, "not_json"),
        ("{'id': '0_k3v9x2ab'}", "not_json"),
        ('{"id": "0_k3v9x2ab",}', "not_json"),
    ],
    ids=["empty", "blank-bom", "none", "too-long", "xml", "ks", "nan", "deep", "single-quotes", "trailing-comma"],
)
def test_unreadable_input_is_a_specific_error(text: Any, code: str) -> None:
    token, findings = parse(text)

    assert token is None
    assert codes(findings) == [code]
    assert findings[0].level == "error"
    assert findings[0].field == "client_token"


@pytest.mark.parametrize(
    "value",
    [
        [token_json()],
        "just a string",
        42,
        {"objectType": "KalturaMediaEntry", "id": "0_abcdefgh", "name": "x"},
        {"hello": "world"},
    ],
    ids=["list", "string", "number", "media-entry", "unrelated-object"],
)
def test_json_that_is_not_an_app_token_is_rejected(value: Any) -> None:
    token, findings = parse(json.dumps(value))

    assert token is None
    assert codes(findings) == ["not_app_token"]
    assert "appToken.add" in findings[0].message


def test_a_pasted_kaltura_error_says_so_without_echoing_a_session() -> None:
    ks = "djJ8MTIzNDU2N3zSecretSessionMaterialThatMustNotBeShown"
    error = {
        "code": "INVALID_KS",
        "message": f'Invalid KS "{ks}", Error "-1,INVALID_STR"',
        "objectType": "KalturaAPIException",
        "args": {"KSID": ks},
    }

    token, findings = parse(json.dumps(error))

    assert token is None
    assert codes(findings) == ["kaltura_error"]
    assert "INVALID_KS" in findings[0].message
    assert ks not in findings[0].message


# --- required fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"id": _DROP}, "missing_id"),
        ({"id": ""}, "missing_id"),
        ({"id": "0 k3v9x2ab"}, "invalid_id"),
        ({"id": 12345}, "invalid_id"),
        ({"token": _DROP}, "missing_token"),
        ({"token": CLIENT_SECRET[:-1]}, "token_not_hex"),
        ({"token": CLIENT_SECRET + "0"}, "token_not_hex"),
        ({"token": "g" + CLIENT_SECRET[1:]}, "token_not_hex"),
        ({"token": 1234}, "token_not_hex"),
        ({"partnerId": _DROP}, "missing_partner_id"),
        ({"partnerId": 0}, "invalid_partner_id"),
        ({"partnerId": "abc"}, "invalid_partner_id"),
        ({"partnerId": True}, "invalid_partner_id"),
        ({"hashType": "SHA3"}, "unknown_hash_type"),
        ({"hashType": 256}, "unknown_hash_type"),
        ({"status": 1}, "status_not_active"),
        ({"status": 3}, "status_not_active"),
        ({"status": "paused"}, "status_not_active"),
        ({"expiry": "next year"}, "invalid_expiry"),
        ({"sessionType": 1}, "invalid_session_type"),
    ],
)
def test_each_field_rule_has_its_own_error(changes: dict[str, Any], code: str) -> None:
    token, findings = parse(paste(**changes))

    assert token is None
    assert code in codes(findings, "error")
    message = next(f.message for f in findings if f.code == code)
    assert len(message) > 40  # says what is wrong and how to fix it
    assert CLIENT_SECRET not in message


def test_every_problem_is_reported_at_once() -> None:
    _, findings = parse(paste(id=_DROP, token="short", status=1))

    assert {"missing_id", "token_not_hex", "status_not_active"} <= set(codes(findings, "error"))


def test_status_message_names_the_state() -> None:
    _, findings = parse(paste(status=1))

    assert "disabled" in findings[0].message


def test_an_uppercase_token_is_accepted_as_kaltura_stores_it() -> None:
    token, _ = parse(paste(token=CLIENT_SECRET.upper()))

    assert token is not None and token.token == CLIENT_SECRET


def test_missing_hash_type_means_kalturas_default_sha1_with_a_warning() -> None:
    token, findings = parse(paste(hashType=_DROP))

    assert token is not None and token.hash_type == "SHA1"
    assert "weak_hash_type" in codes(findings, "warning")


def test_md5_works_but_warns() -> None:
    token, findings = parse(paste(hashType="MD5"))

    assert token is not None
    assert codes(findings, "warning") == ["weak_hash_type"]


# --- expiry ---------------------------------------------------------------------------------


def test_expired_token_is_an_error_with_its_date() -> None:
    expiry = NOW - timedelta(days=2)

    token, findings = parse(paste(expiry=int(expiry.timestamp())))

    assert token is None
    assert codes(findings) == ["expired"]
    assert expiry.strftime("%Y-%m-%d") in findings[0].message


def test_token_expiring_within_30_days_warns_with_days_left() -> None:
    token, findings = parse(paste(expiry=int((NOW + timedelta(days=10, hours=1)).timestamp())))

    assert token is not None
    assert codes(findings, "warning") == ["expiring_soon"]
    assert "10 days" in findings[0].message


def test_token_expiring_in_more_than_30_days_does_not_warn() -> None:
    _, findings = parse(paste(expiry=int((NOW + timedelta(days=31)).timestamp())))

    assert codes(findings, "warning") == []


@pytest.mark.parametrize("expiry", [None, 0, _DROP])
def test_no_expiry_means_never(expiry: Any) -> None:
    token, findings = parse(paste(expiry=expiry))

    assert token is not None and token.expiry is None
    assert codes(findings) == ["client_token_ok"]


# --- privileges per role --------------------------------------------------------------------


def test_client_token_without_enableentitlement_is_rejected() -> None:
    token, findings = parse(paste(sessionPrivileges="list:*,privacycontext:MyPortal"))

    assert token is None
    assert codes(findings) == ["client_missing_enableentitlement"]
    assert "enableentitlement" in findings[0].message and "wrong fields" not in findings[0].message


def test_server_token_in_the_client_field_is_recognised_as_swapped() -> None:
    _, findings = parse(paste("server"), "client")

    assert codes(findings) == ["client_missing_enableentitlement"]
    assert "wrong fields" in findings[0].message


def test_server_token_without_disableentitlement_is_rejected() -> None:
    token, findings = parse(paste("server", sessionPrivileges="setrole:12346"), "server")

    assert token is None
    assert codes(findings) == ["server_missing_disableentitlement"]
    assert findings[0].field == "server_token"


def test_client_token_in_the_server_field_is_recognised_as_swapped() -> None:
    _, findings = parse(paste("client"), "server")

    assert codes(findings) == ["server_enables_entitlement"]
    assert "wrong fields" in findings[0].message


def test_client_token_without_list_all_warns_what_users_will_see() -> None:
    token, findings = parse(paste(sessionPrivileges="setrole:1,enableentitlement,privacycontext:MyPortal"))

    assert token is not None
    assert codes(findings, "warning") == ["client_missing_list_all"]
    assert "only the media they own" in findings[0].message


def test_client_token_without_privacycontext_warns_what_users_will_see() -> None:
    token, findings = parse(paste(sessionPrivileges="list:*,enableentitlement"))

    assert token is not None
    assert codes(findings, "warning") == ["client_missing_privacycontext"]
    assert "will see" in findings[0].message and "privacycontext:" in findings[0].message


def test_client_token_with_a_fixed_user_warns_that_everyone_is_that_user() -> None:
    token, findings = parse(paste(sessionUserId="svc-integration"))

    assert token is not None and token.session_user_id == "svc-integration"
    assert codes(findings, "warning") == ["client_fixed_user"]
    assert "svc-integration" in findings[0].message


@pytest.mark.parametrize("role", ["client", "server"])
def test_admin_session_type_warns_about_least_privilege(role: str) -> None:
    token, findings = parse(paste(role, sessionType=2), role)

    assert token is not None and token.session_type is SessionType.ADMIN
    assert codes(findings, "warning") == ["admin_session_type"]
    assert "Least privilege" in findings[0].message


# --- the pair --------------------------------------------------------------------------------


def test_a_good_pair_validates() -> None:
    result = validate_pair(paste("client"), paste("server", indent=2), NOW)

    assert result.ok
    assert result.client is not None and result.server is not None
    assert codes(result.findings) == ["client_token_ok", "server_token_ok"]
    assert [f.field for f in result.findings] == ["client_token", "server_token"]


def test_tokens_from_different_partners_are_rejected() -> None:
    result = validate_pair(paste("client"), paste("server", partnerId=7654321), NOW)

    assert not result.ok
    assert codes(result.errors) == ["partner_mismatch"]
    assert "1234567" in result.errors[0].message and "7654321" in result.errors[0].message
    assert result.client is None and result.server is None


def test_the_same_text_pasted_twice_is_rejected() -> None:
    text = paste("client")

    result = validate_pair(text, "\n" + text + "\n", NOW)

    assert "same_token_twice" in codes(result.errors)
    assert not result.ok


def test_the_same_token_pasted_twice_in_different_formatting_is_rejected() -> None:
    both = "list:*,enableentitlement,disableentitlement,privacycontext:x"
    result = validate_pair(paste(sessionPrivileges=both), paste(indent=2, sessionPrivileges="disableentitlement"), NOW)

    assert codes(result.errors) == ["same_token_twice"]


def test_pair_findings_keep_each_fields_errors() -> None:
    result = validate_pair(paste("client", token="nothex"), paste("server", status=1), NOW)

    assert codes(result.for_field("client_token")) == ["token_not_hex"]
    assert codes(result.for_field("server_token")) == ["status_not_active"]
    assert not result.ok


def test_warnings_do_not_block_saving() -> None:
    result = validate_pair(paste("client", sessionType=2), paste("server"), NOW)

    assert result.ok
    assert codes(result.warnings) == ["admin_session_type"]


# --- robustness ------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_field_values = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.lists(st.integers(), max_size=3)
)
_token_keys = [
    "id",
    "token",
    "partnerId",
    "status",
    "expiry",
    "sessionType",
    "sessionUserId",
    "sessionDuration",
    "sessionPrivileges",
    "hashType",
    "description",
    "objectType",
    "code",
    "message",
]


def _only_findings(result: tuple[AppToken | None, list[Finding]]) -> None:
    token, findings = result
    assert isinstance(findings, list) and findings
    assert all(isinstance(f, Finding) and f.level in {"error", "warning", "ok"} for f in findings)
    assert (token is None) == any(f.level == "error" for f in findings)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_only_produces_findings(text: str) -> None:
    _only_findings(parse(text))
    _only_findings(parse(text, "server"))


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_arbitrary_json_only_produces_findings(value: Any) -> None:
    _only_findings(parse(json.dumps(value)))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_token_keys), _field_values))
def test_arbitrary_token_fields_only_produce_findings(fields: dict[str, Any]) -> None:
    text = json.dumps({**token_json(), **fields}, allow_nan=True)
    _only_findings(parse(text))
    _only_findings(parse(text, "server"))


@settings(max_examples=100, deadline=None)
@given(st.text(), st.text())
def test_arbitrary_pairs_only_produce_findings(client: str, server: str) -> None:
    result = validate_pair(client, server, NOW)
    assert result.findings and not result.ok
