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
    return parse_app_token(text, "server" if role == "server" else "client", now=NOW)


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
        ("{'id': '0_k3v9x2ab'}", "single_quotes"),
    ],
    ids=["empty", "blank-bom", "none", "too-long", "xml", "ks", "nan", "deep", "single-quotes"],
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


def test_a_server_token_in_the_client_field_says_where_it_belongs() -> None:
    _, findings = parse(paste("server"), "client")

    assert codes(findings) == ["server_token_in_client_field"]
    assert "Server App Token field" in findings[0].message
    assert "Create the client token" not in findings[0].message  # no advice to re-create a good token


def test_server_token_without_disableentitlement_is_rejected() -> None:
    token, findings = parse(paste("server", sessionPrivileges="setrole:12346"), "server")

    assert token is None
    assert codes(findings) == ["server_missing_disableentitlement"]
    assert findings[0].field == "server_token"


def test_a_client_token_in_the_server_field_says_where_it_belongs() -> None:
    _, findings = parse(paste("client"), "server")

    assert codes(findings) == ["client_token_in_server_field"]
    assert "Client App Token field" in findings[0].message


def test_a_server_token_with_both_entitlement_privileges_is_told_how_to_fix_it() -> None:
    _, findings = parse(paste("server", sessionPrivileges="enableentitlement,disableentitlement"), "server")

    assert codes(findings) == ["server_enables_entitlement"]
    assert "sessionPrivileges disableentitlement" in findings[0].message


def test_the_suggested_client_privileges_match_the_help() -> None:
    _, findings = parse(paste(sessionPrivileges="list:*,privacycontext:MyPortal"))

    assert codes(findings) == ["client_missing_enableentitlement"]
    assert "enableentitlement,privacycontext:YOUR_CONTEXT,list:*" in findings[0].message
    assert "setrole" not in findings[0].message


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


# --- paste mistakes, in plain words (issue 9, item 2) ------------------------------------------


@pytest.mark.parametrize("text", ["0_abcd1234", '"0_abcd1234"', "  '0_k3v9x2ab',\n", "\u201c0_abcd1234\u201d"])
def test_a_token_id_alone_is_recognised(text: str) -> None:
    token, findings = parse(text)

    assert token is None
    assert codes(findings) == ["only_token_id"]
    assert "only the token's id" in findings[0].message
    assert "whole response" in findings[0].message and "secret token" in findings[0].message
    assert "line 1" not in findings[0].message  # no JSON parser jargon


def test_the_secret_alone_is_recognised_without_echoing_it() -> None:
    token, findings = parse(CLIENT_SECRET)

    assert token is None
    assert codes(findings) == ["only_secret"]
    assert CLIENT_SECRET not in findings[0].message


def test_one_line_of_the_response_is_recognised() -> None:
    _, findings = parse('"id": "0_k3v9x2ab",')

    assert codes(findings) == ["only_one_line"]
    assert '"id"' in findings[0].message


@pytest.mark.parametrize(
    "text",
    [
        paste().replace('"', "\u201c"),
        paste(indent=2).replace('"', "\u201d"),
        "Response body\n" + paste(indent=2).replace('": ', "\u201d: ").replace('"', "\u201c"),
    ],
    ids=["opening-quotes", "closing-quotes", "mixed-with-label"],
)
def test_curly_quotes_from_an_email_are_accepted_and_said_so(text: str) -> None:
    token, findings = parse(text)

    assert token is not None and token.token == CLIENT_SECRET
    assert codes(findings) == ["curly_quotes_accepted", "client_token_ok"]
    assert findings[0].level == "ok" and "curly quotes" in findings[0].message


def test_curly_quotes_inside_a_value_are_kept_as_they_are() -> None:
    token, findings = parse(paste(description="the \u201cpicker\u201d token"))

    assert token is not None and token.description == "the \u201cpicker\u201d token"
    assert codes(findings) == ["client_token_ok"]


@pytest.mark.parametrize(
    "text",
    [
        paste(indent=2)[:-2] + ",\n}",
        '{"id": "0_k3v9x2ab", "token": "' + CLIENT_SECRET + '", "partnerId": 1234567,'
        ' "sessionPrivileges": "list:*,enableentitlement,privacycontext:MyPortal", "hashType": "SHA256", }',
    ],
    ids=["pretty", "compact"],
)
def test_a_trailing_comma_is_accepted_and_said_so(text: str) -> None:
    token, findings = parse(text)

    assert token is not None and token.id == "0_k3v9x2ab"
    assert codes(findings)[0] == "trailing_comma_accepted"
    assert findings[0].level == "ok"


def test_a_comma_inside_a_value_is_not_a_trailing_comma() -> None:
    token, findings = parse(paste(description="a, b,}"))

    assert token is not None and token.description == "a, b,}"
    assert "trailing_comma_accepted" not in codes(findings)


def test_curly_quotes_and_a_trailing_comma_together_are_both_said() -> None:
    text = (paste(indent=2)[:-2] + ",\n}").replace('"', "\u201c")

    token, findings = parse(text)

    assert token is not None
    assert codes(findings) == ["curly_quotes_accepted", "trailing_comma_accepted", "client_token_ok"]


@pytest.mark.parametrize(
    "text",
    [
        "client.appToken.add(appToken)",
        "result = client.appToken.add(app_token)",
        "$result = $client->appToken->add($appToken);",
        "curl -X POST https://www.kaltura.com/api_v3/service/appToken/action/add -d 'appToken[description]=x'",
        "const token = await kaltura.services.appToken.add(appToken).execute(client);",
        "import KalturaClient\nfrom KalturaClient.Plugins.Core import KalturaAppToken",
        "appToken = new KalturaAppToken();\nappToken.sessionPrivileges = 'list:*';",
    ],
    ids=["sdk-call", "python", "php", "curl", "javascript", "imports", "object-setup"],
)
def test_pasted_code_says_what_to_copy_instead(text: str) -> None:
    token, findings = parse(text)

    assert token is None
    assert codes(findings) == ["looks_like_code"]
    assert "program code" in findings[0].message and "copy the response" in findings[0].message
    assert "Expecting value" not in findings[0].message


@pytest.mark.parametrize(
    "value",
    [
        {"appToken": {"objectType": "KalturaAppToken", "sessionPrivileges": "list:*"}},
        {"ks": "djJ8abc", "format": 1, "appToken": {"objectType": "KalturaAppToken"}},
        {"objectType": "KalturaAppToken", "hashType": "SHA256", "sessionPrivileges": "disableentitlement"},
    ],
    ids=["body", "body-with-ks", "token-object-without-id"],
)
def test_the_request_instead_of_the_response_is_recognised(value: Any) -> None:
    token, findings = parse(json.dumps(value))

    assert token is None
    assert codes(findings) == ["request_not_response"]
    assert "request" in findings[0].message and '"token"' in findings[0].message


def test_both_tokens_in_one_field_are_recognised() -> None:
    _, findings = parse(paste() + "\n\n" + paste("server"))

    assert codes(findings) == ["two_objects"]
    assert "one App Token per field" in findings[0].message


@pytest.mark.parametrize("cut", [40, 120, -1])
def test_a_paste_cut_short_says_so_and_where(cut: int) -> None:
    text = paste(indent=2)[:cut]

    _, findings = parse(text)

    assert codes(findings) == ["truncated"]
    assert "cut short" in findings[0].message and "line " in findings[0].message


def test_a_missing_comma_is_named_in_plain_words_at_its_place() -> None:
    text = '{\n  "id": "0_k3v9x2ab"\n  "token": "' + CLIENT_SECRET + '"\n}'

    _, findings = parse(text)

    assert codes(findings) == ["not_json"]
    assert 'a comma is missing at line 3, column 3 (just after "id")' in findings[0].message
    assert "Expecting" not in findings[0].message
    assert CLIENT_SECRET not in findings[0].message


def test_a_value_broken_across_lines_by_an_email_program_is_explained() -> None:
    text = '{"id": "0_k3v9x2ab", "token": "5f0c1e2d3a4b5c6d\n7e8f901a2b3c4d5e"}'

    _, findings = parse(text)

    assert codes(findings) == ["not_json"]
    assert "broken across lines" in findings[0].message and 'just after "token"' in findings[0].message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"id": "0_k3v9x2ab", "token": "' + CLIENT_SECRET + '", "token": "' + SERVER_SECRET + '"}', "token"),
        (paste()[:-1] + ', "partnerId": 7654321}', "partnerId"),
        ('{"result": {"id": "0_k3v9x2ab", "id": "0_other000"}}', "id"),
    ],
    ids=["token", "partner", "nested"],
)
def test_duplicate_keys_are_refused_naming_the_key(text: str, key: str) -> None:
    token, findings = parse(text)

    assert token is None
    assert codes(findings) == ["duplicate_key"]
    assert f'the key "{key}" twice' in findings[0].message
    assert CLIENT_SECRET not in findings[0].message and SERVER_SECRET not in findings[0].message


@pytest.mark.parametrize("bad", ["\ud800", "\udfff tail", "a\x00b", "bell\x07"])
def test_a_description_that_is_not_text_is_cleaned_and_said_so(bad: str) -> None:
    token, findings = parse(paste(description=f"picker {bad}"))

    assert token is not None and token.description is not None
    assert not any(0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20 for c in token.description)
    assert "description_cleaned" in codes(findings, "ok")
    json.dumps(token.public_summary()).encode("utf-8")  # storable and renderable


@pytest.mark.parametrize("key", ["sessionPrivileges", "sessionUserId", "hashType"])
def test_other_fields_that_are_not_text_are_refused_naming_the_field(key: str) -> None:
    token, findings = parse(paste(**{key: "value\ud800"}))

    assert token is None
    assert codes(findings) == ["invalid_characters"]
    assert f'"{key}"' in findings[0].message


def test_a_lone_surrogate_never_reaches_the_summary_through_any_field() -> None:
    text = json.dumps(token_json(description="\ud800", sessionUserId="\udc00"))

    token, findings = parse(text)

    assert token is None and codes(findings, "error") == ["invalid_characters"]


# --- the pair, each finding once ----------------------------------------------------------------


def test_two_swapped_tokens_are_one_finding() -> None:
    result = validate_pair(paste("server"), paste("client"), NOW)

    assert [(f.code, f.field) for f in result.findings] == [("tokens_swapped", "client_token")]
    assert "Swap the two fields" in result.findings[0].message
    assert "Create" not in result.findings[0].message


def test_swapped_tokens_keep_their_other_findings() -> None:
    result = validate_pair(paste("server", hashType="SHA1"), paste("client"), NOW)

    assert codes(result.findings) == ["tokens_swapped", "weak_hash_type"]


def test_the_same_text_twice_is_said_once() -> None:
    text = paste("client")

    result = validate_pair(text, text, NOW)

    assert codes(result.findings) == ["same_token_twice"]


# --- expiry boundaries (item 13) ----------------------------------------------------------------


def test_a_token_expiring_this_very_second_is_expired() -> None:
    token, findings = parse(paste(expiry=int(NOW.timestamp())))

    assert token is None and codes(findings) == ["expired"]


def test_a_token_expiring_one_second_from_now_works_with_a_warning() -> None:
    token, findings = parse(paste(expiry=int(NOW.timestamp()) + 1))

    assert token is not None
    assert codes(findings, "warning") == ["expiring_soon"]
    assert "in 0 days" in findings[0].message


def test_the_expiry_warning_starts_exactly_thirty_days_ahead() -> None:
    thirty_days = int((NOW + timedelta(days=30)).timestamp())

    _, at_thirty = parse(paste(expiry=thirty_days))
    _, just_inside = parse(paste(expiry=thirty_days - 1))

    assert codes(at_thirty, "warning") == []
    assert codes(just_inside, "warning") == ["expiring_soon"]
