"""The entitlement/permission matrix: session kind x role x action (issue 7 item 4; reference §7).

Kaltura lets a session call an action when its role grants one of the permissions that
``deployment/permissions/service.<service>.ini`` lists for that action. ``PERMISSIONS`` below is
copied from those files (Kaltura server ``c447fdb3``; partner-group items such as
``-1>BATCH_BASE`` left out), and each session kind's permissions from the roles that Kaltura
gives it (``kPermissionManager::getRoleIds``, ``deployment/base/scripts/init_data/03.UserRole.ini``)
and the demo seed's roles. The expected answer of every cell is computed from these two tables
alone: an allowed call must not be refused, a refused one must be exactly Kaltura's
``SERVICE_FORBIDDEN`` with the ``X-Kaltura`` header.
"""

from __future__ import annotations

import hashlib

import pytest
import requests
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import KalturaMediaEntryFilter, KalturaUploadToken, KalturaUser

from tests.sandbox.conftest import JsonApi, is_error

ALWAYS = "ALWAYS_ALLOWED_ACTIONS"
BASE_USER = "BASE_USER_SESSION_PERMISSION"
WIDGET = "WIDGET_SESSION_PERMISSION"

#: (service, action) -> the permissions of its permission item.
PERMISSIONS: dict[tuple[str, str], set[str]] = {
    ("session", "get"): {"SESSION_READ_PERMISSION", "KMC_ACCESS", "KMC_READ_ONLY"},
    ("session", "end"): {ALWAYS, BASE_USER, WIDGET},
    ("system", "ping"): {ALWAYS, BASE_USER, WIDGET},
    ("appToken", "add"): {"APP_TOKEN_ADD"},
    ("appToken", "get"): {"APP_TOKEN_BASE", "KMC_READ_ONLY"},
    ("appToken", "list"): {"APP_TOKEN_BASE", "KMC_READ_ONLY"},
    ("appToken", "update"): {"APP_TOKEN_UPDATE"},
    ("appToken", "delete"): {"APP_TOKEN_DELETE"},
    ("appToken", "startSession"): {BASE_USER, WIDGET},
    ("media", "list"): {"PLAYLIST_ADD", "PLAYLIST_UPDATE", "PLAYLIST_BASE", "CONTENT_MODERATE_BASE",
                        "CONTENT_MANAGE_BASE", BASE_USER, WIDGET},
    ("media", "get"): {"CONTENT_MANAGE_BASE", BASE_USER, WIDGET},
    ("media", "add"): {"CONTENT_INGEST_ORPHAN_VIDEO", "CONTENT_INGEST_ORPHAN_AUDIO", "LIVE_STREAM_ADD",
                       "CONTENT_INGEST_UPLOAD", "CONTENT_MANAGE_BASE", BASE_USER, "CAPTURE_DEVICE_PERMISSION"},
    ("media", "addContent"): {"CONTENT_INGEST_UPLOAD", BASE_USER, "CAPTURE_DEVICE_PERMISSION"},
    ("media", "update"): {"CONTENT_MANAGE_SCHEDULE", "CONTENT_MANAGE_ACCESS_CONTROL", "CONTENT_MANAGE_METADATA",
                          "CONTENT_MODERATE_METADATA", "CONTENT_MANAGE_THUMBNAIL", "CONTENT_INGEST_UPLOAD",
                          "CONTENT_MANAGE_ASSIGN_CATEGORIES", BASE_USER, "CAPTURE_DEVICE_PERMISSION"},
    ("media", "delete"): {"CONTENT_MANAGE_DELETE", BASE_USER},
    ("baseEntry", "list"): {"PLAYLIST_ADD", "PLAYLIST_UPDATE", "PLAYLIST_BASE", "CONTENT_MODERATE_BASE",
                            "CONTENT_MANAGE_BASE", "KMC_READ_ONLY", BASE_USER, WIDGET, "PLAYBACK_BASE_PERMISSION"},
    ("baseEntry", "get"): {"CONTENT_MANAGE_BASE", "KMC_READ_ONLY", BASE_USER, WIDGET, "PLAYBACK_BASE_PERMISSION",
                           "CAPTURE_DEVICE_PERMISSION"},
    ("baseEntry", "delete"): {"CONTENT_MANAGE_DELETE", BASE_USER},
    ("user", "get"): {"ADMIN_BASE", "KMC_READ_ONLY", BASE_USER, WIDGET},
    ("user", "list"): {"ADMIN_BASE", "ACCOUNT_BASE", "EP_BASE", "CAPTURE_DEVICE_PERMISSION",
                       "WEBCAST_PRODUCER_PERMISSION"},
    ("user", "add"): {"ADMIN_USER_ADD"},
    ("user", "update"): {"ADMIN_USER_UPDATE"},
    ("user", "delete"): {"ADMIN_USER_DELETE"},
    ("uploadToken", "add"): {"ATTACHMENT_MODIFY", "CAPTION_MODIFY", "CONTENT_INGEST_UPLOAD", BASE_USER,
                             "CAPTURE_DEVICE_PERMISSION", "BASE_UPLOAD_PERMISSION"},
    ("uploadToken", "get"): {"CONTENT_INGEST_UPLOAD", BASE_USER, WIDGET, "CAPTURE_DEVICE_PERMISSION",
                             "BASE_UPLOAD_PERMISSION"},
    ("uploadToken", "list"): {"CONTENT_INGEST_UPLOAD", BASE_USER, WIDGET, "CAPTURE_DEVICE_PERMISSION",
                              "BASE_UPLOAD_PERMISSION"},
    ("uploadToken", "delete"): {"CONTENT_INGEST_UPLOAD", BASE_USER, "BASE_UPLOAD_PERMISSION"},
    ("flavorAsset", "list"): {"CONTENT_MANAGE_BASE", BASE_USER, WIDGET, "PLAYBACK_BASE_PERMISSION"},
    ("conversionProfile", "getDefault"): {"TRANSCODING_BASE"},
    ("flavorParams", "list"): {"TRANSCODING_BASE", "CONTENT_MANAGE_DISTRIBUTION_PROFILE_MODIFY",
                               "CONTENT_MODERATE_BASE", "CONTENT_MANAGE_BASE", "KMC_READ_ONLY",
                               "CAPTURE_DEVICE_PERMISSION"},
}  # fmt: skip

SERVER_ROLE = {"ADMIN_BASE", "ADMIN_USER_ADD", "TRANSCODING_BASE"}
UPLOAD_ONLY_ROLE = {"CONTENT_INGEST_UPLOAD"}
#: Session kind -> the permissions its role grants ("*": all), with ALWAYS_ALLOWED_ACTIONS added
#: to every role (kPermissionManager::getPermissionsFromDb).
SESSION_KINDS: dict[str, set[str]] = {
    "ADMIN KS, no role (partner admin role)": {"*"},
    "ADMIN KS, setrole Hub Portal Server": SERVER_ROLE,
    "USER KS, no role (BASE_USER_SESSION_ROLE)": {BASE_USER},
    "USER KS of a user whose own role is the admin role": {"*"},
    "USER KS, setrole of an upload-only role": UPLOAD_ONLY_ROLE,
    "client App Token (USER, no role)": {BASE_USER},
    "server App Token (USER, setrole Hub Portal Server)": SERVER_ROLE,
    "help article's server App Token (USER, no role)": {BASE_USER},
    "widget KS (WIDGET_SESSION_ROLE)": {WIDGET},
}


def allowed(kind: str, action: tuple[str, str]) -> bool:
    granted = SESSION_KINDS[kind] | {ALWAYS}
    return "*" in granted or bool(granted & PERMISSIONS[action])


@pytest.fixture(scope="module")
def world(sandbox) -> dict:
    """A fresh demo partner with an upload-only role, an entry and an upload token."""
    sandbox.reset()
    creds = sandbox.credentials
    api = JsonApi(sandbox.url)
    role_id = sandbox.control(
        "roles", roles=[{"name": "Uploader", "systemName": "UPLOADER", "permissions": sorted(UPLOAD_ONLY_ROLE)}]
    )["ids"][0]
    admin = api.admin_ks(creds)
    entry = api.ok(
        "media", "add", ks=admin, entry={"objectType": "KalturaMediaEntry", "name": "Matrix", "mediaType": 1}
    )
    token = api.ok("uploadToken", "add", ks=admin, uploadToken={"objectType": "KalturaUploadToken"})
    app_token = api.ok("appToken", "add", ks=admin, appToken={"objectType": "KalturaAppToken"})
    return {"creds": creds, "api": api, "role": role_id, "entry": entry["id"], "upload": token["id"],
            "app_token": app_token["id"]}  # fmt: skip


def session_for(world: dict, kind: str) -> str:
    """A fresh KS of the given kind."""
    api: JsonApi = world["api"]
    creds = world["creds"]
    pid, secret = creds["partnerId"], creds["adminSecret"]

    def start(session_type: int, user: str, privileges: str = "") -> str:
        params = {"secret": secret, "type": session_type, "partnerId": pid, "userId": user, "privileges": privileges}
        return api.ok("session", "start", **params)

    def app_token(key: str, user: str | None) -> str:
        extra = {"userId": user} if user else {}
        return api.app_token_session(creds[key], pid, **extra)["ks"]

    return {
        "ADMIN KS, no role (partner admin role)": lambda: start(2, "matrix.admin"),
        "ADMIN KS, setrole Hub Portal Server": lambda: start(2, "matrix.admin", "setrole:HUB_PORTAL_SERVER"),
        "USER KS, no role (BASE_USER_SESSION_ROLE)": lambda: start(0, "jordan.lee"),
        "USER KS of a user whose own role is the admin role": lambda: start(0, "kaltura.admin"),
        "USER KS, setrole of an upload-only role": lambda: start(0, "jordan.lee", f"setrole:{world['role']}"),
        "client App Token (USER, no role)": lambda: app_token("clientAppToken", "pat@northwind.example"),
        "server App Token (USER, setrole Hub Portal Server)": lambda: app_token("serverAppToken", None),
        "help article's server App Token (USER, no role)": lambda: app_token("articleServerAppToken", None),
        "widget KS (WIDGET_SESSION_ROLE)": lambda: api.widget_ks(pid),
    }[kind]()


def params_for(world: dict, action: tuple[str, str], ks: str) -> dict:
    """Well-formed parameters, so that an allowed call gets past its own validation where it can."""
    entry, upload, app_token = world["entry"], world["upload"], world["app_token"]
    digest = hashlib.sha256((ks + "0" * 32).encode()).hexdigest()
    return {
        ("appToken", "add"): {"appToken": {"objectType": "KalturaAppToken"}},
        ("appToken", "get"): {"id": app_token},
        ("appToken", "update"): {"id": app_token, "appToken": {"objectType": "KalturaAppToken", "description": "x"}},
        ("appToken", "delete"): {"id": "0_nosuch00"},
        ("appToken", "startSession"): {"id": app_token, "tokenHash": digest},
        ("media", "get"): {"entryId": entry},
        ("media", "add"): {"entry": {"objectType": "KalturaMediaEntry", "name": "cell", "mediaType": 1}},
        ("media", "addContent"): {
            "entryId": entry,
            "resource": {"objectType": "KalturaUploadedFileTokenResource", "token": upload},
        },
        ("media", "update"): {"entryId": entry, "mediaEntry": {"objectType": "KalturaMediaEntry", "name": "cell"}},
        ("media", "delete"): {"entryId": "0_nosuch00"},
        ("baseEntry", "get"): {"entryId": entry},
        ("baseEntry", "delete"): {"entryId": "0_nosuch00"},
        ("user", "get"): {},
        ("user", "add"): {"user": {"objectType": "KalturaUser", "id": f"cell.{hashlib.md5(ks.encode()).hexdigest()}"}},
        ("user", "update"): {"userId": "li.wei", "user": {"objectType": "KalturaUser", "description": "cell"}},
        ("user", "delete"): {"userId": "no.such.user"},
        ("uploadToken", "add"): {"uploadToken": {"objectType": "KalturaUploadToken"}},
        ("uploadToken", "get"): {"uploadTokenId": upload},
        ("uploadToken", "delete"): {"uploadTokenId": "0_" + "0" * 32},
        ("flavorAsset", "list"): {"filter": {"entryIdEqual": entry}},
    }.get(action, {})


@pytest.mark.parametrize("kind", list(SESSION_KINDS))
def test_every_action_is_gated_by_the_roles_permissions(world, kind):
    api: JsonApi = world["api"]
    for action in PERMISSIONS:
        # A fresh KS per call: session.end and the deletes must not spoil the next cell.
        ks = session_for(world, kind)
        response = api.post(*action, ks=ks, **params_for(world, action, ks))
        result = response.json()
        forbidden = is_error(result) and result["code"] == "SERVICE_FORBIDDEN"
        assert forbidden is not allowed(kind, action), (kind, action, result)
        if forbidden:
            assert result["args"] == {"SERVICE": f"{action[0].lower()}->{action[1].lower()}"}
            assert response.headers["X-Kaltura"] == "error-SERVICE_FORBIDDEN"


def test_calls_without_a_ks_only_reach_always_allowed_actions(world):
    api: JsonApi = world["api"]
    assert api.call("system", "ping") is True
    assert api.error("media", "list")["code"] == "MISSING_KS"
    error = api.error("user", "list", partnerId=world["creds"]["partnerId"])
    assert error["code"] == "SERVICE_FORBIDDEN"


@pytest.mark.parametrize(
    "kind, action, call",
    [
        ("server App Token (USER, setrole Hub Portal Server)", ("media", "list"), lambda c: c.media.list()),
        ("help article's server App Token (USER, no role)", ("user", "add"),
         lambda c: c.user.add(KalturaUser(id="x1"))),
        ("help article's server App Token (USER, no role)", ("user", "list"), lambda c: c.user.list()),
        ("help article's server App Token (USER, no role)", ("media", "list"), lambda c: c.media.list()),
        ("widget KS (WIDGET_SESSION_ROLE)", ("uploadToken", "add"), lambda c: c.uploadToken.add(KalturaUploadToken())),
        ("widget KS (WIDGET_SESSION_ROLE)", ("media", "list"), lambda c: c.media.list(KalturaMediaEntryFilter())),
        ("USER KS, setrole of an upload-only role", ("media", "list"), lambda c: c.media.list()),
        ("USER KS, setrole of an upload-only role", ("uploadToken", "add"),
         lambda c: c.uploadToken.add(KalturaUploadToken())),
        ("ADMIN KS, setrole Hub Portal Server", ("appToken", "list"), lambda c: c.appToken.list()),
    ],
)  # fmt: skip
def test_the_official_client_sees_the_same_gate(world, sandbox, kind, action, call):
    config = KalturaConfiguration()
    config.serviceUrl = sandbox.url
    client = KalturaClient(config)
    client.setKs(session_for(world, kind))
    if allowed(kind, action):
        call(client)
    else:
        with pytest.raises(KalturaException) as raised:
            call(client)
        assert raised.value.code == "SERVICE_FORBIDDEN"


def test_an_unknown_setrole_is_refused_when_used(world):
    api: JsonApi = world["api"]
    creds = world["creds"]
    ks = KalturaClient.generateSessionV2(creds["adminSecret"], "u", 0, creds["partnerId"], 600, "setrole:NO_SUCH")
    assert api.error("media", "list", ks=ks.decode())["code"] == "UNKNOWN_ROLE_ID"
    assert requests.get(api.url + "/api_v3/service/system/action/ping", timeout=10).status_code == 200
