"""Sessions over real HTTP (JSON format): session.start, widget sessions, KS v1/v2, App Tokens
(hash, error order, expiry, overrides, privilege merge, revocation), roles and users.

Rules are those of reference/kaltura-api.md §2, §3 and §7."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse

import pytest
from Crypto.Cipher import AES

from kaltura_sandbox.seed import DEMO_USER_SECRET
from tests.sandbox.conftest import JsonApi

ADMIN, USER = 2, 0


def decode_ks_v2(ks: str, admin_secret: str) -> dict[str, str]:
    """Decrypt a KS v2 independently of the sandbox (pycryptodome, as the official client)."""
    raw = base64.b64decode(ks.replace("-", "+").replace("_", "/"))
    assert raw.startswith(b"v2|")
    _, _, encrypted = raw.split(b"|", 2)
    key = hashlib.sha1(admin_secret.encode()).digest()[:16]
    plain = AES.new(key, AES.MODE_CBC, b"\0" * 16).decrypt(encrypted).rstrip(b"\0")
    digest, body = plain[:20], plain[20:]
    assert digest == hashlib.sha1(body).digest(), "KS v2 integrity hash"
    return dict(urllib.parse.parse_qsl(body[16:].decode(), keep_blank_values=True))


def token_hash(hash_type: str, ks: str, token: str) -> str:
    return hashlib.new(hash_type.lower(), (ks + token).encode()).hexdigest()


def add_token(api: JsonApi, admin: str, **fields) -> dict:
    token = api.ok("appToken", "add", ks=admin, appToken={"objectType": "KalturaAppToken", **fields})
    assert token["objectType"] == "KalturaAppToken"
    return token


def start_with(api: JsonApi, token: dict, pid: int, *, widget: str | None = None, **params):
    widget = widget or api.widget_ks(pid)
    return api.call(
        "appToken",
        "startSession",
        ks=widget,
        id=token["id"],
        tokenHash=token_hash(token["hashType"], widget, token["token"]),
        **params,
    )


# ---------------------------------------------------------------------------------------------
# session.start / startWidgetSession / KS format
# ---------------------------------------------------------------------------------------------


def test_session_start_returns_a_bare_ks_v2_signed_with_the_admin_secret(api, creds):
    ks = api.ok(
        "session",
        "start",
        secret=creds["adminSecret"],
        type=ADMIN,
        partnerId=creds["partnerId"],
        userId="ops",
        privileges="list:*,edit:a/b",
    )
    assert isinstance(ks, str) and ks.startswith("djJ8")
    fields = decode_ks_v2(ks, creds["adminSecret"])
    assert fields["_t"] == "2" and fields["_u"] == "ops"
    assert fields["list"] == "*" and fields["edit"] == "a/b"
    info = api.ok("session", "get", ks=ks)
    assert info["expiry"] == int(fields["_e"])
    assert info["privileges"] == "list:*,edit:a/b"


def test_session_start_rejects_a_wrong_secret_and_user_secret_for_admin(api, creds):
    pid = creds["partnerId"]
    error = api.error("session", "start", secret="nope", partnerId=pid)
    assert error["code"] == "START_SESSION_ERROR"
    assert error["args"] == {"PID": str(pid)}
    assert error["message"] == f"Error while starting session for partner [{pid}]"
    user_ks = api.ok("session", "start", secret=DEMO_USER_SECRET, partnerId=pid, type=USER, userId="li.wei")
    # Even a KS started with the user secret is signed with the admin secret.
    assert decode_ks_v2(user_ks, creds["adminSecret"])["_u"] == "li.wei"
    error = api.error("session", "start", secret=DEMO_USER_SECRET, partnerId=pid, type=ADMIN)
    assert error["code"] == "START_SESSION_ERROR"


def test_session_start_caps_expiry_at_the_partner_maximum(api, creds):
    long_ks = api.ok(
        "session", "start", secret=creds["adminSecret"], type=ADMIN, partnerId=creds["partnerId"], expiry=10 * 86400
    )
    short_ks = api.ok(
        "session", "start", secret=creds["adminSecret"], type=ADMIN, partnerId=creds["partnerId"], expiry=600
    )
    long_e = int(decode_ks_v2(long_ks, creds["adminSecret"])["_e"])
    short_e = int(decode_ks_v2(short_ks, creds["adminSecret"])["_e"])
    # Both were minted within the same few seconds: the long one is capped at 86400.
    assert 86400 - 600 - 5 <= long_e - short_e <= 86400 - 600 + 5


@pytest.mark.parametrize(
    ("privileges", "code"),
    [
        ("setrole:999999", "UNKNOWN_ROLE_ID"),
        ("setrole:-3", "INVALID_SET_ROLE"),
        ("actionslimit:0", "INVALID_ACTIONS_LIMIT"),
    ],
)
def test_session_start_validates_privileges(api, creds, privileges, code):
    error = api.error(
        "session", "start", secret=creds["adminSecret"], partnerId=creds["partnerId"], privileges=privileges
    )
    assert error["code"] == code


def test_widget_session_is_an_anonymous_user_ks_with_view_and_widget(api, creds):
    result = api.ok("session", "startWidgetSession", widgetId=f"_{creds['partnerId']}")
    assert list(result) == ["partnerId", "ks", "userId", "objectType"]
    assert result["userId"] == 0 and result["partnerId"] == creds["partnerId"]
    fields = decode_ks_v2(result["ks"], creds["adminSecret"])
    assert fields["_t"] == "0" and fields["_u"] == "0"
    assert fields["view"] == "*" and fields["widget"] == "1"


def test_unknown_widget_is_invalid_widget_id(api):
    error = api.error("session", "startWidgetSession", widgetId="_999")
    assert error["code"] == "INVALID_WIDGET_ID"
    assert error["message"] == "Unknown widget [_999]"


def test_tampered_ks_is_invalid_str_with_the_ks_in_the_message(api, admin):
    tampered = admin[:-8] + ("A" if admin[-8] != "A" else "B") + admin[-7:]
    error = api.error("user", "get", ks=tampered)
    assert error["code"] == "INVALID_KS"
    assert error["args"] == {"KSID": tampered, "ERR_CODE": "-1", "ERR_DESC": "INVALID_STR"}
    assert error["message"] == f'Invalid KS "{tampered}", Error "-1,INVALID_STR"'


def test_expired_ks_reports_expired_in_ksid(api, creds):
    ks = api.ok("session", "start", secret=creds["adminSecret"], type=ADMIN, partnerId=creds["partnerId"], expiry=-10)
    error = api.error("user", "get", ks=ks)
    assert error["args"] == {"KSID": "EXPIRED", "ERR_CODE": "-1", "ERR_DESC": "INVALID_STR"}


def test_missing_ks(api, creds):
    assert api.error("user", "get")["code"] == "MISSING_KS"
    # With a partner but no KS the role lacks the permission instead.
    response = api.post("user", "get", partnerId=creds["partnerId"])
    assert response.json()["code"] == "SERVICE_FORBIDDEN"
    assert response.headers["X-Kaltura"] == "error-SERVICE_FORBIDDEN"


def test_session_end_logs_the_ks_out(api, admin):
    assert api.call("session", "end", ks=admin) is None
    error = api.error("user", "get", ks=admin)
    assert error["args"]["KSID"] == "LOGOUT"


# ---------------------------------------------------------------------------------------------
# App Tokens
# ---------------------------------------------------------------------------------------------


def test_app_token_add_defaults_and_shape(api, admin, creds):
    token = add_token(api, admin, description="picker")
    assert list(token)[-1] == "objectType"
    assert token["hashType"] == "SHA1"
    assert token["sessionDuration"] == 86400
    assert token["status"] == 2 and token["partnerId"] == creds["partnerId"]
    assert len(token["token"]) == 32 and int(token["token"], 16) >= 0
    assert token["token"] == token["token"].lower()
    assert token["id"][:2] == "0_" and len(token["id"]) == 10
    assert "expiry" not in token and "sessionUserId" not in token
    assert api.ok("appToken", "get", ks=admin, id=token["id"]) == token


def test_app_token_add_relative_expiry_and_invalid_user(api, admin):
    token = add_token(api, admin, expiry=3600)
    assert token["expiry"] - token["createdAt"] == 3600
    error = api.error(
        "appToken", "add", ks=admin, appToken={"objectType": "KalturaAppToken", "sessionUserId": "bad user<>"}
    )
    assert error["code"] == "INVALID_FIELD_VALUE"
    assert error["args"] == {"FIELD_NAME": "sessionUserId"}


def test_app_token_admin_actions_are_forbidden_to_user_sessions(api, creds):
    info = api.app_token_session(creds["serverAppToken"], creds["partnerId"], userId="svc")
    response = api.post("appToken", "add", ks=info["ks"], appToken={"objectType": "KalturaAppToken"})
    assert response.json()["code"] == "SERVICE_FORBIDDEN"
    assert response.json()["args"] == {"SERVICE": "apptoken->add"}
    assert response.headers["X-Kaltura"] == "error-SERVICE_FORBIDDEN"


@pytest.mark.parametrize("hash_type", ["MD5", "SHA1", "SHA256", "SHA512"])
def test_start_session_hash_is_hex_of_ks_plus_token(api, admin, creds, hash_type):
    token = add_token(api, admin, hashType=hash_type)
    widget = api.widget_ks(creds["partnerId"])
    good = token_hash(hash_type, widget, token["token"])
    info = api.ok("appToken", "startSession", ks=widget, id=token["id"], tokenHash=good)
    assert info["objectType"] == "KalturaSessionInfo"
    for wrong in (
        good.upper(),
        token_hash(hash_type, admin, token["token"]),
        token_hash("SHA1" if hash_type != "SHA1" else "MD5", widget, token["token"]),
    ):
        error = api.error("appToken", "startSession", ks=widget, id=token["id"], tokenHash=wrong)
        assert error["code"] == "INVALID_APP_TOKEN_HASH" and error["args"] == []


def test_start_session_error_order(api, admin, creds):
    pid = creds["partnerId"]
    error = api.error("appToken", "startSession", ks=api.widget_ks(pid), id="0_missing1", tokenHash="x")
    assert (error["code"], error["args"]) == ("APP_TOKEN_ID_NOT_FOUND", {"ID": "0_missing1"})
    # A disabled token is reported before the hash is even checked.
    disabled = add_token(api, admin)
    api.ok("appToken", "update", ks=admin, id=disabled["id"], appToken={"objectType": "KalturaAppToken", "status": 1})
    error = api.error("appToken", "startSession", ks=api.widget_ks(pid), id=disabled["id"], tokenHash="wrong")
    assert error["code"] == "APP_TOKEN_NOT_ACTIVE"
    # An expired token: a wrong hash wins over the expiry, a right hash reports the expiry.
    expired = add_token(api, admin, expiry=1)
    api.ok(
        "appToken",
        "update",
        ks=admin,
        id=expired["id"],
        appToken={"objectType": "KalturaAppToken", "expiry": expired["createdAt"] - 3600},
    )
    error = api.error("appToken", "startSession", ks=api.widget_ks(pid), id=expired["id"], tokenHash="wrong")
    assert error["code"] == "INVALID_APP_TOKEN_HASH"
    error = start_with(api, expired, pid)
    assert (error["code"], error["args"]) == ("APP_TOKEN_EXPIRED", {"ID": expired["id"]})


def test_start_session_expiry_is_the_minimum(api, admin, creds):
    pid = creds["partnerId"]
    token = add_token(api, admin, sessionDuration=600)

    def lifetime(**params) -> int:
        widget = api.widget_ks(pid)
        info = start_with(api, token, pid, widget=widget, **params)
        issued = int(decode_ks_v2(widget, creds["adminSecret"])["_e"]) - 86400
        return info["expiry"] - issued

    assert 595 <= lifetime() <= 605
    assert 95 <= lifetime(expiry=100) <= 105
    assert 595 <= lifetime(expiry=100000) <= 605
    limited = add_token(api, admin, sessionDuration=86400, expiry=300)
    info = start_with(api, limited, pid)
    assert info["expiry"] <= limited["expiry"]


def test_start_session_type_and_user_overrides(api, admin, creds):
    pid = creds["partnerId"]
    fixed = add_token(api, admin, sessionType=USER, sessionUserId="svc.fixed")
    info = start_with(api, fixed, pid, type=ADMIN, userId="someone.else")
    assert (info["sessionType"], info["userId"]) == (USER, "svc.fixed")
    free = add_token(api, admin)
    info = start_with(api, free, pid, type=ADMIN, userId="chosen")
    assert (info["sessionType"], info["userId"]) == (ADMIN, "chosen")
    info = start_with(api, free, pid)
    assert info["sessionType"] == USER and "userId" not in info


def test_start_session_privilege_merge(api, admin, creds):
    token = add_token(api, admin, sessionPrivileges="list:*,privacycontext:*,setrole:4815003")
    info = start_with(
        api,
        token,
        creds["partnerId"],
        sessionPrivileges=("privacycontext:abc,enableentitlement,appid:foo,setrole:4815001,sessionid:evil"),
    )
    assert info["privileges"] == (
        f"sessionid:{token['id']},apptoken:{token['id']},list:*,privacycontext:abc,setrole:4815003,appid:foo"
    )
    fields = decode_ks_v2(info["ks"], creds["adminSecret"])
    assert fields["privacycontext"] == "abc" and "enableentitlement" not in fields


def test_deleting_a_token_revokes_its_sessions_but_disabling_does_not(api, admin, creds):
    pid = creds["partnerId"]
    keep = add_token(api, admin)
    kept_ks = start_with(api, keep, pid)["ks"]
    api.ok("appToken", "update", ks=admin, id=keep["id"], appToken={"objectType": "KalturaAppToken", "status": 1})
    # A USER KS may not call session.get (SESSION_READ_PERMISSION): media.list probes it instead.
    assert api.call("media", "list", ks=kept_ks)["objectType"] == "KalturaMediaListResponse"
    gone = add_token(api, admin)
    gone_ks = start_with(api, gone, pid)["ks"]
    assert api.call("appToken", "delete", ks=admin, id=gone["id"]) is None
    error = api.error("media", "list", ks=gone_ks)
    assert (error["code"], error["args"]["KSID"]) == ("INVALID_KS", "LOGOUT")
    assert api.error("appToken", "get", ks=admin, id=gone["id"])["code"] == "APP_TOKEN_ID_NOT_FOUND"


def test_start_session_needs_a_ks(api, creds):
    token = creds["clientAppToken"]
    assert api.error("appToken", "startSession", id=token["id"], tokenHash="x")["code"] == "MISSING_KS"
    error = api.error("appToken", "startSession", id=token["id"], tokenHash="x", partnerId=creds["partnerId"])
    assert error["code"] == "SERVICE_FORBIDDEN"


def test_app_token_list_pages_and_filters(api, admin):
    made = [add_token(api, admin, description=f"t{i}") for i in range(3)]
    listed = api.ok("appToken", "list", ks=admin, pager={"pageSize": 2, "pageIndex": 1})
    assert listed["objectType"] == "KalturaAppTokenListResponse"
    assert listed["totalCount"] == 6  # the three demo tokens and three new ones
    assert len(listed["objects"]) == 2
    one = api.ok("appToken", "list", ks=admin, filter={"idEqual": made[1]["id"]})
    assert [t["id"] for t in one["objects"]] == [made[1]["id"]]


def test_update_changes_only_sent_properties_and_null_clears(api, admin):
    token = add_token(api, admin, description="keep me", sessionPrivileges="list:*")
    updated = api.ok(
        "appToken",
        "update",
        ks=admin,
        id=token["id"],
        appToken={"objectType": "KalturaAppToken", "sessionDuration": 120},
    )
    assert updated["sessionDuration"] == 120 and updated["description"] == "keep me"
    cleared = api.ok(
        "appToken",
        "update",
        ks=admin,
        id=token["id"],
        appToken={"objectType": "KalturaAppToken", "description__null": ""},
    )
    assert "description" not in cleared and cleared["sessionPrivileges"] == "list:*"


# ---------------------------------------------------------------------------------------------
# The demo tokens, roles and users
# ---------------------------------------------------------------------------------------------


def test_demo_tokens_are_as_the_setup_guide_says(creds):
    client, server = creds["clientAppToken"], creds["serverAppToken"]
    for token in (client, server):
        assert token["hashType"] == "SHA256" and token["sessionType"] == USER
        assert "sessionUserId" not in token and token["status"] == 2
    assert client["sessionPrivileges"] == "enableentitlement,privacycontext:hubportal,list:*"
    assert server["sessionPrivileges"].startswith("disableentitlement,setrole:")


def test_server_token_role_may_read_and_add_users_client_token_may_not(api, creds):
    pid = creds["partnerId"]
    server = api.app_token_session(creds["serverAppToken"], pid, userId="hub-portal")["ks"]
    added = api.ok(
        "user",
        "add",
        ks=server,
        user={"objectType": "KalturaUser", "id": "new.member@example.com", "email": "new.member@example.com"},
    )
    assert added["id"] == "new.member@example.com"
    listed = api.ok("user", "list", ks=server, filter={"idEqual": "new.member@example.com"})
    assert listed["totalCount"] == 1
    client = api.app_token_session(creds["clientAppToken"], pid, userId="pat@northwind.example")
    for action, params in (("add", {"user": {"objectType": "KalturaUser", "id": "x1"}}), ("list", {})):
        error = api.error("user", action, ks=client["ks"], **params)
        assert error["code"] == "SERVICE_FORBIDDEN"
        assert error["args"] == {"SERVICE": f"user->{action}"}


def test_user_get_rules(api, admin, creds):
    pid = creds["partnerId"]
    me = api.app_token_session(creds["clientAppToken"], pid, userId="pat@northwind.example")["ks"]
    assert api.ok("user", "get", ks=me)["email"] == "pat@northwind.example"
    error = api.error("user", "get", ks=me, userId="jordan.lee")
    assert error["code"] == "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION"
    assert error["message"] == 'cannot retrieve another user "jordan.lee" using non-admin session'
    error = api.error("user", "get", ks=admin, userId="no.such.user")
    assert (error["code"], error["message"], error["args"]) == ("INVALID_USER_ID", "Invalid user id", [])


@pytest.mark.parametrize(
    ("user", "code", "args"),
    [
        ({"id": "pat@northwind.example"}, "DUPLICATE_USER_BY_ID", {"UID": "pat@northwind.example"}),
        ({"id": "has space"}, "INVALID_FIELD_VALUE", {"FIELD_NAME": "id"}),
        # A missing id fails the user-id pattern (UserService::addAction L42).
        ({"email": "x@example.com"}, "INVALID_FIELD_VALUE", {"FIELD_NAME": "id"}),
        ({"id": "r1", "roleIds": "999"}, "USER_ROLE_NOT_FOUND", []),
    ],
)
def test_user_add_errors(api, admin, user, code, args):
    error = api.error("user", "add", ks=admin, user={"objectType": "KalturaUser", **user})
    assert (error["code"], error["args"]) == (code, args)


def test_user_add_defaults_and_login_email_uniqueness(api, admin):
    user = api.ok("user", "add", ks=admin, user={"objectType": "KalturaUser", "id": "u.plain"})
    assert (user["screenName"], user["firstName"], user["status"]) == ("u.plain", "u.plain", 1)
    assert user["loginEnabled"] is False and user["isAdmin"] is False
    first = api.ok(
        "user",
        "add",
        ks=admin,
        user={"objectType": "KalturaUser", "id": "login.one", "email": "same@example.com", "password": "Secret-123"},
    )
    assert first["loginEnabled"] is True
    error = api.error(
        "user",
        "add",
        ks=admin,
        user={"objectType": "KalturaUser", "id": "login.two", "email": "same@example.com", "isAdmin": True},
    )
    assert error["code"] == "DUPLICATE_USER_BY_LOGIN_ID"
    assert error["args"] == {"EMAIL": "same@example.com"}


def test_user_list_filters_and_pages(api, admin):
    page = api.ok("user", "list", ks=admin, pager={"pageSize": 3, "pageIndex": 2}, filter={"orderBy": "+id"})
    everyone = api.ok("user", "list", ks=admin, filter={"orderBy": "+id"})
    assert page["totalCount"] == everyone["totalCount"] >= 9
    assert [u["id"] for u in page["objects"]] == [u["id"] for u in everyone["objects"][3:6]]
    some = api.ok("user", "list", ks=admin, filter={"idIn": "li.wei,maria.garcia,nobody"})
    assert sorted(u["id"] for u in some["objects"]) == ["li.wei", "maria.garcia"]


def test_role_resolution_setrole_then_user_role(api, creds):
    pid, secret = creds["partnerId"], creds["adminSecret"]
    # A USER KS of a user who holds the administrator role gets that role's permissions.
    owner_ks = api.ok("session", "start", secret=secret, partnerId=pid, type=USER, userId="kaltura.admin")
    assert api.ok("user", "list", ks=owner_ks)["totalCount"] >= 9
    # setrole wins, even on an ADMIN KS: this role may manage users but not App Tokens.
    limited = api.ok(
        "session", "start", secret=secret, partnerId=pid, type=ADMIN, privileges="setrole:HUB_PORTAL_SERVER"
    )
    assert api.ok("user", "list", ks=limited)["totalCount"] >= 9
    assert api.error("appToken", "list", ks=limited)["code"] == "SERVICE_FORBIDDEN"
    plain_user = api.ok("session", "start", secret=secret, partnerId=pid, type=USER, userId="li.wei")
    assert api.error("user", "list", ks=plain_user)["code"] == "SERVICE_FORBIDDEN"
