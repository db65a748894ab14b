"""Typed values from Kaltura's JSON, and the error hierarchy's promises."""

from __future__ import annotations

import pickle

import pytest

from portal.kaltura.errors import (
    Forbidden,
    InvalidSession,
    KalturaApiError,
    KalturaError,
    KalturaUnavailable,
    NotFound,
    OutboundBlocked,
    api_error,
)
from portal.kaltura.types import (
    ConversionProfile,
    EntryStatus,
    FlavorParams,
    KalturaUser,
    MediaEntry,
    MediaPage,
    MediaType,
    Privileges,
    SessionInfo,
    SessionType,
    as_int,
)


def test_privileges_parse_names_values_and_wildcards() -> None:
    privileges = Privileges.parse("list:*,setrole:12345,enableentitlement,privacycontext:MyPortal,edit:0_a/0_b, ")

    assert privileges.names == ("list", "setrole", "enableentitlement", "privacycontext", "edit")
    assert privileges.lists_all and privileges.enables_entitlement and not privileges.disables_entitlement
    assert privileges.privacy_context == "MyPortal"
    assert privileges.values("edit") == ("0_a", "0_b")
    assert privileges.has("ENABLEENTITLEMENT")
    assert str(privileges) == "list:*,setrole:12345,enableentitlement,privacycontext:MyPortal,edit:0_a/0_b"


def test_enableentitlement_wins_over_disableentitlement() -> None:
    assert not Privileges.parse("disableentitlement,enableentitlement").disables_entitlement
    assert Privileges.parse("disableentitlement").disables_entitlement


@pytest.mark.parametrize("text", [None, "", ",,", " , "])
def test_empty_privileges(text: object) -> None:
    assert Privileges.parse(text).names == ()
    assert str(Privileges.parse(text)) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), ("3", 3), (" -2 ", -2), (3.0, 3), (3.5, None), (True, None), ("x", None), (None, None), ("9" * 30, None)],
)
def test_as_int_accepts_numbers_and_numeric_strings_only(value: object, expected: int | None) -> None:
    assert as_int(value) == expected


def test_media_entry_accepts_numbers_as_strings_and_missing_fields() -> None:
    entry = MediaEntry.from_kaltura(
        {
            "id": "1_ab12cd34",
            "name": "Drone flyover",
            "mediaType": "1",
            "status": "2",
            "tags": "360, drone",
            "duration": "61",
            "width": 3840,
            "height": "2160",
            "flavorParamsIds": "0,487041,x",
            "userId": "alice",
            "objectType": "KalturaMediaEntry",
        }
    )

    assert entry.media_type is MediaType.VIDEO and entry.status is EntryStatus.READY and entry.is_ready
    assert entry.is_360 and entry.tags == ("360", "drone")
    assert (entry.duration, entry.width, entry.height) == (61, 3840, 2160)
    assert entry.flavor_params_ids == (0, 487041)
    assert entry.description == "" and entry.thumbnail_url is None


def test_media_entry_keeps_unknown_status_and_type_values() -> None:
    entry = MediaEntry.from_kaltura({"id": "0_x", "status": "virusScan.Infected", "mediaType": 201})

    assert entry.status == "virusScan.Infected" and entry.media_type == 201 and not entry.is_ready


def test_media_page_knows_if_there_is_more() -> None:
    assert MediaPage((), 61, 2, 30).has_next
    assert not MediaPage((), 60, 2, 30).has_next


def test_session_info_from_kaltura() -> None:
    info = SessionInfo.from_kaltura(
        {
            "ks": "djJ8x",
            "sessionType": 2,
            "partnerId": "12",
            "userId": "",
            "expiry": 1767312000,
            "privileges": "disableentitlement",
        }
    )

    assert info.session_type is SessionType.ADMIN and info.partner_id == 12 and info.user_id is None
    assert info.privileges.disables_entitlement and "djJ8x" not in repr(info)


def test_user_profile_and_flavor_params_from_kaltura() -> None:
    user = KalturaUser.from_kaltura({"id": "alice", "status": 1, "isAdmin": False, "loginEnabled": True})
    profile = ConversionProfile.from_kaltura({"id": 7, "name": "Default", "flavorParamsIds": "0, 21,487041"})
    uhd = FlavorParams.from_kaltura({"id": 21, "name": "UHD", "width": 0, "height": 2160})
    hd = FlavorParams.from_kaltura({"id": 5, "name": "HD", "width": 1920, "height": "1080"})

    assert user.is_active and user.login_enabled and not user.is_admin
    assert profile.flavor_params_ids == (0, 21, 487041)
    assert uhd.is_uhd and not hd.is_uhd


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("INVALID_KS", InvalidSession),
        ("SERVICE_FORBIDDEN", Forbidden),
        ("SERVICE_FORBIDDEN_CONTENT_BLOCKED", Forbidden),
        ("ENTRY_ID_NOT_FOUND", NotFound),
        ("APP_TOKEN_ID_NOT_FOUND", NotFound),
        ("MISSING_KS", KalturaApiError),
    ],
)
def test_api_error_picks_the_specific_class(code: str, kind: type) -> None:
    error = api_error(code, "m", {"A": "b"}, service="media", action="list")

    assert type(error) is kind
    assert error.is_invalid_session == (code == "INVALID_KS")
    assert error.is_forbidden == (kind is Forbidden)
    assert error.is_not_found == (kind is NotFound)


def test_forbidden_explains_what_to_do() -> None:
    error = api_error(
        "SERVICE_FORBIDDEN",
        "The access to service [conversionProfile->getDefault] is forbidden",
        service="conversionProfile",
        action="getDefault",
    )

    assert error.explain() == (
        "Kaltura refused conversionProfile.getDefault: SERVICE_FORBIDDEN (The access to service "
        "[conversionProfile->getDefault] is forbidden). What to do: the App Token's role does not allow this call; "
        "create the token with a role (setrole:ROLE_ID) that includes this permission, or use the server token for it."
    )


@pytest.mark.parametrize(
    "error",
    [
        api_error("INVALID_KS", "x", {"KSID": "EXPIRED"}, service="media", action="list"),
        KalturaUnavailable("http_status", status=503, call="media.list"),
        OutboundBlocked("private_address", "no", "fix it"),
    ],
)
def test_errors_survive_pickling_with_their_fields(error: KalturaError) -> None:
    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error) and copy.explain() == error.explain()


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (KalturaUnavailable("timeout"), True),
        (KalturaUnavailable("connect"), True),
        (KalturaUnavailable("dropped"), True),
        (KalturaUnavailable("http_status", status=502), True),
        (KalturaUnavailable("http_status", status=429), True),
        (KalturaUnavailable("http_status", status=404), False),
        (KalturaUnavailable("invalid_body"), False),
        (KalturaUnavailable("too_large"), False),
        (api_error("INTERNAL_SERVERL_ERROR"), True),
        (api_error("ACTION_BLOCKED"), True),
        (api_error("SERVICE_FORBIDDEN"), False),
        (api_error("INVALID_KS"), False),
    ],
)
def test_transient_classification(error: KalturaError, transient: bool) -> None:
    assert getattr(error, "is_transient", False) is transient
