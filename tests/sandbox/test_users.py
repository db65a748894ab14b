"""Users (issue 7 item 4 and item 8; reference §7): who gets created when, FEATURE_END_USER_REPORTS,
``user.add``/``update``/``delete`` rules, and the help article's server App Token.

Every rule is checked in JSON with ``requests`` and, where the official client can express it,
in XML with ``kalturaapiclient``.
"""

from __future__ import annotations

import pytest
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaMediaEntry,
    KalturaMediaType,
    KalturaSessionType,
    KalturaUploadToken,
    KalturaUser,
    KalturaUserFilter,
    KalturaUserStatus,
)

from tests.sandbox.conftest import JsonApi
from tests.sandbox.media_support import ALL_STATUSES, user_ks

NEW = "brand.new@northwind.example"
NOT_UPDATABLE = "PROPERTY_VALIDATION_NOT_UPDATABLE"


def official(sandbox, ks: str) -> KalturaClient:
    config = KalturaConfiguration()
    config.serviceUrl = sandbox.url
    client = KalturaClient(config)
    client.setKs(ks)
    return client


def exists(api: JsonApi, admin: str, user_id: str) -> bool:
    result = api.call("user", "get", ks=admin, userId=user_id)
    if result.get("objectType") == "KalturaUser":
        return True
    assert (result["code"], result["message"], result["args"]) == ("INVALID_USER_ID", "Invalid user id", [])
    return False


# -- implicit creation --------------------------------------------------------------------------------


def test_using_a_ks_does_not_create_its_user(api, creds, admin, sandbox_reset):
    ks = user_ks(api, creds, NEW)
    # The session works: it lists what the new user is entitled to ...
    listed = api.ok("media", "list", ks=ks, filter={"statusIn": ALL_STATUSES})
    assert listed["totalCount"] > 0
    # ... but nothing has created the user, so user.get of itself is INVALID_USER_ID.
    error = api.error("user", "get", ks=ks)
    assert (error["code"], error["message"], error["args"]) == ("INVALID_USER_ID", "Invalid user id", [])
    with pytest.raises(KalturaException) as raised:
        official(sandbox_reset, ks).user.get("")
    assert raised.value.code == "INVALID_USER_ID"
    assert not exists(api, admin, NEW)


@pytest.mark.parametrize("how", ["uploadToken.add", "media.add", "uploadToken.list"])
def test_actions_that_need_the_user_create_it(api, creds, admin, sandbox_reset, how):
    ks = user_ks(api, creds, NEW)
    client = official(sandbox_reset, ks)
    if how == "uploadToken.add":
        token = client.uploadToken.add(KalturaUploadToken(fileName="clip.mp4"))
        assert token.userId == NEW
    elif how == "media.add":
        entry = client.media.add(KalturaMediaEntry(name="First upload", mediaType=KalturaMediaType.VIDEO))
        assert (entry.userId, entry.creatorId) == (NEW, NEW)
    else:  # UploadTokenService::restrictPeerToCurrentUser needs the user too
        assert api.ok("uploadToken", "list", ks=ks)["totalCount"] == 0
    user = api.ok("user", "get", ks=ks)
    assert (user["id"], user["screenName"], user["firstName"], user["status"]) == (NEW, NEW, NEW, 1)
    assert user["loginEnabled"] is False and "email" not in user


def test_admin_media_add_for_a_new_owner_and_entitled_users_create_them(api, admin, sandbox_reset):
    entry = api.ok(
        "media",
        "add",
        ks=admin,
        entry={
            "objectType": "KalturaMediaEntry",
            "name": "For someone new",
            "mediaType": 1,
            "userId": "owner.new",
            "entitledUsersEdit": "editor.new",
            "entitledUsersView": "viewer.new,jordan.lee",
        },
    )
    assert entry["userId"] == "owner.new" and entry["entitledUsersView"] == "viewer.new,jordan.lee"
    for user in ("owner.new", "editor.new", "viewer.new"):
        assert exists(api, admin, user), user
    # The ADMIN session named someone else: its own (anonymous) user is not involved.
    api.ok("user", "update", ks=admin, userId="viewer.new", user={"objectType": "KalturaUser", "status": 0})
    # A deleted user is dropped from the list; a blocked one cannot be added.
    api.ok("user", "delete", ks=admin, userId="editor.new")
    updated = api.ok(
        "media",
        "update",
        ks=admin,
        entryId=entry["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "entitledUsersPublish": "editor.new,li.wei"},
    )
    assert updated["entitledUsersPublish"] == "li.wei"
    error = api.error(
        "media",
        "update",
        ks=admin,
        entryId=entry["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "entitledUsersPublish": "viewer.new"},
    )
    assert error["code"] == "USER_BLOCKED"


def test_feature_end_user_reports_creates_the_user_on_ks_use(api, creds, admin, sandbox_reset):
    """Off in the demo seed; the control surface turns the partner setting on."""
    api.ok("media", "list", ks=user_ks(api, creds, NEW))
    assert not exists(api, admin, NEW)
    sandbox_reset.control("partner", end_user_reports=True)
    ks = user_ks(api, creds, NEW)
    api.ok("media", "list", ks=ks)
    assert exists(api, admin, NEW)
    assert api.ok("user", "get", ks=ks)["id"] == NEW
    sandbox_reset.control("partner", end_user_reports=False)
    other = user_ks(api, creds, "other.new")
    api.ok("media", "list", ks=other)
    assert not exists(api, admin, "other.new")


def test_a_blocked_or_deleted_user_cannot_act(api, creds, admin, sandbox_reset):
    ks = user_ks(api, creds, "jordan.lee")
    api.ok("user", "update", ks=admin, userId="jordan.lee", user={"objectType": "KalturaUser", "status": 0})
    assert api.error("media", "list", ks=ks)["code"] == "USER_BLOCKED"
    api.ok("user", "update", ks=admin, userId="jordan.lee", user={"objectType": "KalturaUser", "status": 1})
    api.ok("media", "list", ks=ks)
    api.ok("user", "delete", ks=admin, userId="jordan.lee")
    # A deleted user's session still lists (as nobody in particular), but actions that need the
    # user fail (KalturaBaseService::getKuser).
    api.ok("media", "list", ks=ks)
    error = api.error("uploadToken", "add", ks=ks, uploadToken={"objectType": "KalturaUploadToken"})
    assert error["code"] == "INVALID_USER_ID"


# -- the help article's server App Token (item 8) --------------------------------------------------


def test_the_article_server_token_is_made_as_the_help_article_says(creds):
    token = creds["articleServerAppToken"]
    assert token["sessionType"] == 0  # USER
    assert token["sessionPrivileges"] == "disableentitlement,privacycontext:hubportal,list:*"
    assert "setrole" not in token["sessionPrivileges"]
    assert "sessionUserId" not in token and token["status"] == 2
    assert token["hashType"] == "SHA256" and len(token["token"]) == 32
    assert token["id"] not in (creds["clientAppToken"]["id"], creds["serverAppToken"]["id"])


def test_the_article_server_token_lists_everything_but_may_not_manage_users(api, creds, admin, sandbox_reset):
    pid = creds["partnerId"]
    info = api.app_token_session(creds["articleServerAppToken"], pid)
    ks = info["ks"]
    assert info["sessionType"] == 0 and "setrole" not in info["privileges"]
    sees_all = api.admin_ks(creds, privileges="disableentitlement")
    everything = api.ok("media", "list", ks=sees_all, filter={"statusIn": ALL_STATUSES}, pager={"pageSize": 1})
    listed = api.ok("media", "list", ks=ks, filter={"statusIn": ALL_STATUSES}, pager={"pageSize": 1})
    assert listed["totalCount"] == everything["totalCount"] > 0  # list:* with entitlement off
    for action, params in (
        ("add", {"user": {"objectType": "KalturaUser", "id": NEW}}),
        ("list", {"filter": {"objectType": "KalturaUserFilter", "idEqual": "jordan.lee"}}),
        ("update", {"userId": "jordan.lee", "user": {"objectType": "KalturaUser", "lastName": "X"}}),
        ("delete", {"userId": "jordan.lee"}),
    ):
        error = api.error("user", action, ks=ks, **params)
        assert (error["code"], error["args"]) == ("SERVICE_FORBIDDEN", {"SERVICE": f"user->{action}"})
    error = api.error("user", "get", ks=ks, userId="jordan.lee")
    assert error["code"] == "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION"
    assert api.error("conversionProfile", "getDefault", ks=ks)["code"] == "SERVICE_FORBIDDEN"
    client = official(sandbox_reset, ks)
    for call in (lambda: client.user.add(KalturaUser(id=NEW)), lambda: client.user.list(KalturaUserFilter())):
        with pytest.raises(KalturaException) as raised:
            call()
        assert raised.value.code == "SERVICE_FORBIDDEN"
    assert not exists(api, admin, NEW)


def test_an_upload_as_a_new_user_through_the_article_token_creates_the_user(api, creds, admin, sandbox_reset):
    ks = api.app_token_session(creds["articleServerAppToken"], creds["partnerId"], userId=NEW)["ks"]
    assert api.error("user", "get", ks=ks)["code"] == "INVALID_USER_ID"
    token = api.ok("uploadToken", "add", ks=ks, uploadToken={"objectType": "KalturaUploadToken"})
    assert token["userId"] == NEW
    assert api.ok("user", "get", ks=ks)["id"] == NEW
    assert exists(api, admin, NEW)


# -- user.add ----------------------------------------------------------------------------------------


def test_user_add_needs_an_id(api, admin, sandbox_reset):
    error = api.error("user", "add", ks=admin, user={"objectType": "KalturaUser", "email": "x@example.com"})
    assert (error["code"], error["args"]) == ("INVALID_FIELD_VALUE", {"FIELD_NAME": "id"})
    assert error["message"] == "value in field [id] is not valid"
    with pytest.raises(KalturaException) as raised:
        official(sandbox_reset, admin).user.add(KalturaUser(email="x@example.com"))
    assert raised.value.code == "INVALID_FIELD_VALUE"


def test_user_add_is_admin_without_a_role_gets_the_partner_admin_role(api, admin, sandbox_reset):
    user = api.ok(
        "user", "add", ks=admin, user={"objectType": "KalturaUser", "id": "new.boss", "email": "boss@x.example",
                                      "isAdmin": True}
    )  # fmt: skip
    assert (user["isAdmin"], user["roleIds"], user["roleNames"]) == (True, "4815001", "Publisher Administrator")
    assert user["loginEnabled"] is True
    # The role works: this user's USER sessions may now add users.
    pid = sandbox_reset.credentials["partnerId"]
    ks = api.ok("session", "start", secret=sandbox_reset.credentials["adminSecret"], partnerId=pid, type=0,
                userId="new.boss")  # fmt: skip
    api.ok("user", "add", ks=ks, user={"objectType": "KalturaUser", "id": "hired.by.boss"})
    client = official(sandbox_reset, admin)
    made = client.user.add(KalturaUser(id="xml.boss", email="xml.boss@x.example", isAdmin=True))
    assert made.roleIds == "4815001"


def test_user_add_role_errors(api, admin, sandbox_reset):
    user = {"objectType": "KalturaUser", "id": "two.roles", "roleIds": "4815001,4815003"}
    assert api.error("user", "add", ks=admin, user=user)["code"] == "ONLY_ONE_ROLE_PER_USER_ALLOWED"
    user = {"objectType": "KalturaUser", "id": "no.role", "roleIds": "99"}
    assert api.error("user", "add", ks=admin, user=user)["code"] == "USER_ROLE_NOT_FOUND"
    user = {"objectType": "KalturaUser", "id": "server.user", "roleIds": "4815003"}
    assert api.ok("user", "add", ks=admin, user=user)["roleNames"] == "Hub Portal Server"


# -- user.update -------------------------------------------------------------------------------------


def test_user_update_changes_only_what_is_sent(api, admin, sandbox_reset):
    before = api.ok("user", "get", ks=admin, userId="li.wei")
    after = api.ok(
        "user",
        "update",
        ks=admin,
        userId="li.wei",
        user={"objectType": "KalturaUser", "email": "li@new.example", "firstName": "Lee", "roleIds": "4815003"},
    )
    assert (after["email"], after["firstName"], after["lastName"]) == ("li@new.example", "Lee", before["lastName"])
    assert (after["roleIds"], after["roleNames"]) == ("4815003", "Hub Portal Server")
    assert after["screenName"] == before["screenName"] and after["createdAt"] == before["createdAt"]
    assert api.ok("user", "get", ks=admin, userId="li.wei") == after
    client = official(sandbox_reset, admin)
    updated = client.user.update("li.wei", KalturaUser(lastName="Wong", email="lw@x.example"))
    assert (updated.firstName, updated.lastName, updated.email) == ("Lee", "Wong", "lw@x.example")


@pytest.mark.parametrize(
    "user_id, fields, code, args",
    [  # NOT_UPDATABLE names the property with its class (KalturaObject::validateForUpdate).
        ("no.such.user", {"firstName": "X"}, "INVALID_USER_ID", []),
        ("li.wei", {"password": "Secret-12"}, NOT_UPDATABLE, {"PROP_NAME": "KalturaUser::password"}),
        ("li.wei", {"externalId": "x9"}, NOT_UPDATABLE, {"PROP_NAME": "KalturaUser::externalId"}),
        ("li.wei", {"roleIds": "99"}, "USER_ROLE_NOT_FOUND", []),
        ("li.wei", {"roleIds": "4815001,4815003"}, "ONLY_ONE_ROLE_PER_USER_ALLOWED", []),
        ("kaltura.admin", {"isAdmin": False}, "CANNOT_SET_ROOT_ADMIN_AS_NO_ADMIN", []),
        ("li.wei", {"status": 7}, "INVALID_ENUM_VALUE", {"ENUM_VAL": "7", "PARAM_NAME": "status",
                                                           "ENUM_TYPE": "KalturaUserStatus"}),
    ],
)  # fmt: skip
def test_user_update_errors(api, admin, sandbox_reset, user_id, fields, code, args):
    error = api.error("user", "update", ks=admin, userId=user_id, user={"objectType": "KalturaUser", **fields})
    assert (error["code"], error["args"]) == (code, args)


def test_a_user_cannot_change_its_own_role(api, sandbox_reset, creds):
    pid, secret = creds["partnerId"], creds["adminSecret"]
    ks = api.ok("session", "start", secret=secret, partnerId=pid, type=2, userId="kaltura.admin")
    user = {"objectType": "KalturaUser", "roleIds": "4815003"}
    assert api.error("user", "update", ks=ks, userId="kaltura.admin", user=user)["code"] == "CANNOT_CHANGE_OWN_ROLE"
    assert api.ok("user", "update", ks=ks, userId="li.wei", user=user)["roleIds"] == "4815003"


# -- user.delete -------------------------------------------------------------------------------------


def test_user_delete(api, admin, sandbox_reset):
    deleted = api.ok("user", "delete", ks=admin, userId="sam.okafor")
    assert (deleted["id"], deleted["status"]) == ("sam.okafor", 2)
    assert not exists(api, admin, "sam.okafor")
    assert api.error("user", "delete", ks=admin, userId="sam.okafor")["code"] == "INVALID_USER_ID"
    listed = api.ok("user", "list", ks=admin, filter={"idEqual": "sam.okafor"})
    assert listed["totalCount"] == 0
    including = api.ok("user", "list", ks=admin, filter={"idEqual": "sam.okafor", "statusEqual": 2})
    assert [u["status"] for u in including["objects"]] == [2]
    client = official(sandbox_reset, admin)
    gone = client.user.delete("priya.nair")
    assert gone.status.getValue() == KalturaUserStatus.DELETED
    with pytest.raises(KalturaException) as raised:
        client.user.get("priya.nair")
    assert raised.value.code == "INVALID_USER_ID"
    # The id can be used again.
    assert api.ok("user", "add", ks=admin, user={"objectType": "KalturaUser", "id": "sam.okafor"})["status"] == 1


def test_generated_admin_ks_user_get_through_the_official_client(sandbox_reset, creds):
    ks = KalturaClient.generateSessionV2(
        creds["adminSecret"], "", KalturaSessionType.ADMIN, creds["partnerId"], 600, ""
    )
    client = official(sandbox_reset, ks.decode())
    assert client.user.get("maria.garcia").lastName == "Garcia"
