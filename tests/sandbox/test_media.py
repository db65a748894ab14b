"""``media.*``, ``baseEntry.list``, ``flavorAsset.list``, processing and conversion profiles over
real HTTP (reference/kaltura-api.md §4, §6.3, §8).

Expected results are computed from the sandbox's own data read with an ADMIN session (the full,
unfiltered list) and compared with what a filtered, ordered or paged request returns.
"""

from __future__ import annotations

import time

import pytest

from tests.sandbox.conftest import JsonApi, is_error
from tests.sandbox.media_support import (
    ALL_STATUSES,
    PARTICIPANT,
    add_content,
    add_entry,
    get,
    ids,
    jpeg_size,
    list_all,
    list_page,
    mp4_bytes,
    new_token,
    plain_user_ks,
    upload_ok,
    uploaded_entry,
    user_ks,
)


@pytest.fixture
def admin(api: JsonApi, creds: dict) -> str:
    """An ADMIN KS that sees everything: on an entitlement-enabled partner an ADMIN session is
    still filtered by entitlement unless it says ``disableentitlement`` (as KMC's do)."""
    return api.admin_ks(creds, privileges="disableentitlement")


@pytest.fixture
def everything(api: JsonApi, admin: str) -> list[dict]:
    """Every non-deleted entry of the demo partner, as an ADMIN session sees it."""
    return list_all(api, admin, statusIn=ALL_STATUSES)


# -- list defaults, filters, ordering --------------------------------------------------------------


def test_list_defaults_to_ready_entries_only(api, admin, everything):
    ready = {e["id"] for e in everything if e["status"] == 2}
    assert len(ready) < len(everything), "the demo seed has entries that are not READY"
    assert ids(list_all(api, admin)) == ready


def test_list_response_shape(api, admin):
    page = list_page(api, admin, pager={"pageSize": 2})
    assert page["objectType"] == "KalturaMediaListResponse"
    assert len(page["objects"]) == 2
    entry = page["objects"][0]
    assert entry["objectType"] == "KalturaMediaEntry"
    assert entry["id"].startswith("0_") and len(entry["id"]) == 10
    assert entry["partnerId"] == page["objects"][1]["partnerId"]
    assert entry["thumbnailUrl"].startswith(api.url + "/p/")
    assert entry["operationAttributes"] == []
    base = list_page(api, admin, service="baseEntry", pager={"pageSize": 2})
    assert base["objectType"] == "KalturaBaseEntryListResponse"
    assert base["totalCount"] == page["totalCount"]


@pytest.mark.parametrize(
    "field, values",
    [
        ("statusIn", "0,1,4"),
        ("statusIn", "-1,7"),
        ("statusEqual", "4"),
    ],
)
def test_status_filters(api, admin, everything, field, values):
    wanted = {int(v) for v in values.split(",")}
    expected = {e["id"] for e in everything if e["status"] in wanted}
    assert expected
    assert ids(list_all(api, admin, **{field: values})) == expected


def test_media_type_filters(api, admin, everything):
    for flt, wanted in (({"mediaTypeEqual": 2}, {2}), ({"mediaTypeIn": "1,5"}, {1, 5})):
        got = list_all(api, admin, statusIn=ALL_STATUSES, **flt)
        assert ids(got) == {e["id"] for e in everything if e["mediaType"] in wanted}
    error = api.error("media", "list", ks=admin, filter={"mediaTypeEqual": 3})
    assert error["code"] == "INVALID_ENUM_VALUE"
    assert error["args"]["PARAM_NAME"] == "mediaTypeEqual"


def test_base_entry_list_ignores_media_fields_of_a_base_filter(api, admin):
    all_ready = list_page(api, admin, service="baseEntry")["totalCount"]
    ignored = api.ok(
        "baseEntry", "list", ks=admin, filter={"objectType": "KalturaBaseEntryFilter", "mediaTypeEqual": 2}
    )
    honoured = api.ok(
        "baseEntry", "list", ks=admin, filter={"objectType": "KalturaMediaEntryFilter", "mediaTypeEqual": 2}
    )
    assert ignored["totalCount"] == all_ready
    assert 0 < honoured["totalCount"] < all_ready


def tag_list(entry: dict) -> list[str]:
    return [t.strip() for t in entry["tags"].split(",") if t.strip()]


def test_tag_filters(api, admin, everything):
    tagged_360 = {e["id"] for e in everything if "360" in tag_list(e)}
    assert 0.05 * len(everything) < len(tagged_360) < 0.2 * len(everything)
    got = list_all(api, admin, statusIn=ALL_STATUSES, tagsMultiLikeOr="360")
    assert ids(got) == tagged_360
    either = {e["id"] for e in everything if {"360", "audio"} & set(tag_list(e))}
    got = list_all(api, admin, statusIn=ALL_STATUSES, tagsMultiLikeOr="360,audio")
    assert ids(got) == either
    both = {e["id"] for e in everything if {"360", "video"} <= set(tag_list(e))}
    got = list_all(api, admin, statusIn=ALL_STATUSES, tagsMultiLikeAnd="360,video")
    assert ids(got) == both
    got = list_all(api, admin, statusIn=ALL_STATUSES, tagsLike="training")
    assert ids(got) == {e["id"] for e in everything if "training" in tag_list(e)}


def test_id_user_and_reference_filters(api, admin, everything):
    sample = everything[:5]
    assert ids(list_all(api, admin, statusIn=ALL_STATUSES, idIn=",".join(e["id"] for e in sample))) == ids(sample)
    assert ids(list_all(api, admin, statusIn=ALL_STATUSES, idEqual=sample[2]["id"])) == {sample[2]["id"]}
    owner = sample[0]["userId"]
    assert ids(list_all(api, admin, statusIn=ALL_STATUSES, userIdEqual=owner)) == {
        e["id"] for e in everything if e["userId"] == owner
    }
    assert list_all(api, admin, userIdEqual="no.such.user") == []
    with_reference = next(e for e in everything if e.get("referenceId"))
    got = list_all(api, admin, statusIn=ALL_STATUSES, referenceIdEqual=with_reference["referenceId"])
    assert ids(got) == {with_reference["id"]}


def test_category_filter(api, admin, everything):
    category = next(e["categoriesIds"].split(",")[0] for e in everything if e.get("categoriesIds"))
    other = next(c for e in everything for c in e.get("categoriesIds", "").split(",") if c and c != category)
    for wanted in ({category}, {category, other}):
        expected = {e["id"] for e in everything if wanted & set(e.get("categoriesIds", "").split(","))}
        got = list_all(api, admin, statusIn=ALL_STATUSES, categoriesIdsMatchOr=",".join(wanted))
        assert ids(got) == expected


def test_created_at_range_absolute_and_relative(api, admin, everything):
    times = sorted(e["createdAt"] for e in everything)
    low, high = times[len(times) // 4], times[3 * len(times) // 4]
    expected = {e["id"] for e in everything if low <= e["createdAt"] <= high}
    got = list_all(api, admin, statusIn=ALL_STATUSES, createdAtGreaterThanOrEqual=low, createdAtLessThanOrEqual=high)
    assert ids(got) == expected
    # Values within ten years of zero are relative to now: -30 days means "the last 30 days".
    now = int(time.time())
    recent = {e["id"] for e in everything if e["createdAt"] >= now - 30 * 86400 + 60}
    got = ids(list_all(api, admin, statusIn=ALL_STATUSES, createdAtGreaterThanOrEqual=-30 * 86400))
    assert recent <= got
    assert len(got - recent) <= len(everything) // 50  # only entries right at the boundary


@pytest.mark.parametrize("field", ["createdAt", "updatedAt", "name", "plays", "duration"])
@pytest.mark.parametrize("direction", ["+", "-"])
def test_order_by(api, admin, field, direction):
    objects = list_all(api, admin, statusIn=ALL_STATUSES, orderBy=direction + field)
    assert len(objects) > 100
    keys = [o[field].lower() if field == "name" else o[field] for o in objects]
    assert keys == sorted(keys, reverse=direction == "-")
    assert len(set(keys)) > 1


# -- paging ----------------------------------------------------------------------------------------


def test_pages_are_one_based_and_partition_the_list(api, admin):
    full = [o["id"] for o in list_all(api, admin, orderBy="-createdAt")]
    pages = []
    for index in (1, 2, 3):
        page = list_page(api, admin, orderBy="-createdAt", pager={"pageSize": 40, "pageIndex": index})
        assert page["totalCount"] == len(full)
        pages += [o["id"] for o in page["objects"]]
    assert pages == full[:120]
    for index in (0, -3):  # a page index below 1 is page 1
        page = list_page(api, admin, orderBy="-createdAt", pager={"pageSize": 40, "pageIndex": index})
        assert [o["id"] for o in page["objects"]] == full[:40]
    default = list_page(api, admin, orderBy="-createdAt", pager={})
    assert [o["id"] for o in default["objects"]] == full[:30]


def test_page_size_is_clamped_to_500(api, sandbox, creds):
    sandbox.reset(entries=700)
    admin = api.admin_ks(creds, privileges="disableentitlement")
    page = list_page(api, admin, statusIn=ALL_STATUSES, pager={"pageSize": 2000})
    assert page["totalCount"] == 700
    assert len(page["objects"]) == 500
    second = list_page(api, admin, statusIn=ALL_STATUSES, pager={"pageSize": 2000, "pageIndex": 2})
    assert len(second["objects"]) == 200


def test_deep_paging_fails_at_offset_10000(api, admin):
    last_allowed = list_page(api, admin, pager={"pageSize": 500, "pageIndex": 20})
    assert last_allowed["objects"] == [] and last_allowed["totalCount"] > 0
    for pager in (
        {"pageSize": 500, "pageIndex": 21},
        {"pageSize": 30, "pageIndex": 335},
        {"pageSize": 1, "pageIndex": 10001},
    ):
        error = api.error("media", "list", ks=admin, pager=pager)
        assert error["code"] == "QUERY_EXCEEDED_MAX_MATCHES_ALLOWED"
        assert error["message"] == "Unable to generate list. max matches value was reached"
        assert error["args"] == []


# -- owner-only lists ------------------------------------------------------------------------------


def test_user_session_without_list_privilege_sees_only_its_own_entries(api, creds, everything):
    owner = PARTICIPANT
    ks = plain_user_ks(api, creds, owner)
    own = {e["id"] for e in everything if e["userId"] == owner}
    assert own
    assert ids(list_all(api, ks, statusIn=ALL_STATUSES)) == own
    # The same user with list:* (and entitlement) sees more than its own entries.
    wider = ids(list_all(api, plain_user_ks(api, creds, owner, "list:*"), statusIn=ALL_STATUSES))
    assert own < wider


# -- get / add / update / delete ----------------------------------------------------------------


def test_get_returns_the_entry_and_not_found_errors(api, admin, everything):
    entry = everything[3]
    got = api.ok("media", "get", ks=admin, entryId=entry["id"])
    assert got == entry
    error = api.error("media", "get", ks=admin, entryId="0_nosuchid")
    assert error["code"] == "ENTRY_ID_NOT_FOUND"
    assert error["message"] == 'Entry id "0_nosuchid" not found'
    assert error["args"] == {"ENTRY_ID": "0_nosuchid"}
    assert api.error("media", "get", ks=admin)["code"] == "MISSING_MANDATORY_PARAMETER"


def test_add_creates_a_no_content_entry_with_normalised_tags(api, creds):
    ks = user_ks(api, creds, PARTICIPANT)
    entry = add_entry(
        api,
        ks,
        name="Launch teaser",
        description="first cut",
        mediaType=1,
        tags="360,VR, a ,vr,Drone",
        referenceId="ext-42",
    )
    assert entry["status"] == 7
    assert entry["userId"] == PARTICIPANT and entry["creatorId"] == PARTICIPANT
    assert entry["tags"] == "360, vr, drone"
    assert entry["mediaType"] == 1 and entry["referenceId"] == "ext-42"
    assert api.ok("media", "get", ks=ks, entryId=entry["id"])["name"] == "Launch teaser"


def test_add_owner_rules(api, creds, admin):
    ks = user_ks(api, creds, PARTICIPANT)
    same = add_entry(api, ks, name="mine", mediaType=2, userId=PARTICIPANT)
    assert same["userId"] == PARTICIPANT
    error = api.error(
        "media", "add", ks=ks, entry={"objectType": "KalturaMediaEntry", "name": "theirs", "userId": "jordan.lee"}
    )
    assert (error["code"], error["args"]) == ("INVALID_KS", {"KSID": "", "ERR_CODE": "-4", "ERR_DESC": "INVALID_TYPE"})
    # An ADMIN session may give the entry to anyone; an unknown user is created on the way.
    made = add_entry(api, admin, name="for a new hire", mediaType=1, userId="new.hire@example.com")
    assert made["userId"] == "new.hire@example.com"
    user = api.ok("user", "get", ks=admin, userId="new.hire@example.com")
    assert user["id"] == "new.hire@example.com"


def test_add_rejects_readonly_and_admin_only_properties(api, creds):
    ks = user_ks(api, creds, PARTICIPANT)
    for field, value in (("status", 2), ("plays", 5), ("id", "0_abcdefgh")):
        error = api.error("media", "add", ks=ks, entry={"objectType": "KalturaMediaEntry", field: value})
        assert error["code"] == "PROPERTY_VALIDATION_NOT_UPDATABLE"
        # KalturaObject::validateForInsert names the property with its class.
        assert error["args"] == {"PROP_NAME": f"KalturaMediaEntry::{field}"}
    error = api.error("media", "add", ks=ks, entry={"objectType": "KalturaMediaEntry", "adminTags": "x1"})
    assert error["code"] == "PROPERTY_VALIDATION_ADMIN_PROPERTY"


def test_update_changes_only_what_is_sent(api, creds, admin):
    ks = user_ks(api, creds, PARTICIPANT)
    entry = add_entry(api, ks, name="Draft", description="keep me", mediaType=1, tags="a1,b2")
    updated = api.ok(
        "media",
        "update",
        ks=ks,
        entryId=entry["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "name": "Final", "tags": "B2, c3 ,360"},
    )
    assert updated["name"] == "Final"
    assert updated["description"] == "keep me"
    assert updated["tags"] == "b2, c3, 360"
    assert updated["updatedAt"] >= entry["updatedAt"]
    error = api.error(
        "media", "update", ks=ks, entryId=entry["id"], mediaEntry={"objectType": "KalturaMediaEntry", "mediaType": 2}
    )
    assert error["code"] == "PROPERTY_VALIDATION_NOT_UPDATABLE"
    # Someone else's entry: INVALID_KS -4 for a user; fine for an ADMIN session.
    other = user_ks(api, creds, "jordan.lee")
    theirs = add_entry(api, other, name="Jordan's", mediaType=1)
    api.ok(
        "media",
        "update",
        ks=admin,
        entryId=theirs["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "entitledUsersView": PARTICIPANT},
    )
    error = api.error(
        "media",
        "update",
        ks=ks,
        entryId=theirs["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "name": "mine now"},
    )
    assert error["code"] == "INVALID_KS" and error["args"]["ERR_CODE"] == "-4"
    api.ok(
        "media",
        "update",
        ks=admin,
        entryId=theirs["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "entitledUsersEdit": PARTICIPANT},
    )
    edited = api.ok(
        "media",
        "update",
        ks=ks,
        entryId=theirs["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "name": "co-edited"},
    )
    assert edited["name"] == "co-edited"


def test_delete_hides_the_entry(api, creds, admin):
    ks = user_ks(api, creds, PARTICIPANT)
    entry = add_entry(api, ks, name="Short-lived", mediaType=2)
    assert api.call("media", "delete", ks=ks, entryId=entry["id"]) is None
    assert api.error("media", "get", ks=ks, entryId=entry["id"])["code"] == "ENTRY_ID_NOT_FOUND"
    assert entry["id"] not in ids(list_all(api, admin, statusIn=ALL_STATUSES))
    deleted = list_all(api, admin, statusIn="3", idIn=entry["id"])
    assert [e["status"] for e in deleted] == [3]


# -- processing ------------------------------------------------------------------------------------


def flavors(api: JsonApi, ks: str, entry_id: str) -> list[dict]:
    result = api.ok("flavorAsset", "list", ks=ks, filter={"entryIdEqual": entry_id})
    assert result["objectType"] == "KalturaFlavorAssetListResponse"
    return result["objects"]


def test_image_is_ready_right_after_add_content(api, creds):
    ks = user_ks(api, creds, PARTICIPANT)
    png = (
        bytes.fromhex("89504e470d0a1a0a0000000d49484452")
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
        + b"\x08\x02\x00\x00\x00"
        + bytes(40)
    )
    entry = uploaded_entry(api, ks, png, file_name="photo.png", mediaType=2, name="Photo")
    assert entry["status"] == 2
    assert (entry["width"], entry["height"]) == (640, 480)
    assert flavors(api, ks, entry["id"]) == []


def test_video_goes_pending_preconvert_ready_with_flavors(api, creds, sandbox):
    ks = user_ks(api, creds, PARTICIPANT)
    sandbox.control("conversion_delay", seconds=1.5)
    try:
        entry = uploaded_entry(api, ks, mp4_bytes(1920, 1080, 42), name="Converting")
        seen = [entry["status"]]
        deadline = time.monotonic() + 30
        while seen[-1] != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            status = api.ok("media", "get", ks=ks, entryId=entry["id"])["status"]
            if status != seen[-1]:
                seen.append(status)
    finally:
        sandbox.control("conversion_delay", seconds=0)
    assert seen[0] == 4 and seen[-1] == 2
    assert seen in ([4, 1, 2], [4, 2])  # PENDING -> PRECONVERT -> READY (polling may skip one)
    ready = api.ok("media", "get", ks=ks, entryId=entry["id"])
    assert (ready["width"], ready["height"], ready["duration"]) == (1920, 1080, 42)
    assets = flavors(api, ks, entry["id"])
    source = [f for f in assets if f["isOriginal"]]
    assert len(source) == 1 and source[0]["flavorParamsId"] == 0 and source[0]["status"] == 2
    web = [f for f in assets if not f["isOriginal"]]
    assert web and all(f["isWeb"] for f in web)
    assert {f["status"] for f in web if f["height"] <= 1080} == {2}
    assert {f["status"] for f in web if f["height"] > 1080} == {4}  # no upscaling: NOT_APPLICABLE
    assert ready["flavorParamsIds"] == ",".join(str(f["flavorParamsId"]) for f in assets)


@pytest.mark.parametrize("how", ["name marker", "control"])
def test_conversion_can_be_made_to_fail(api, creds, sandbox, how):
    ks = user_ks(api, creds, PARTICIPANT)
    data = mp4_bytes(1280, 720, 10)
    token = new_token(api, ks, fileName="broken.mp4")
    upload_ok(api.url, ks, token["id"], data, name="broken.mp4")
    name = "Broken [fail-conversion]" if how == "name marker" else "Broken"
    entry = add_entry(api, ks, name=name, mediaType=1)
    if how == "control":
        sandbox.control("fail_conversion", entry_id=entry["id"])
    result = add_content(api, ks, entry["id"], token["id"])
    assert result["status"] == -1
    assets = flavors(api, ks, entry["id"])
    assert [f["status"] for f in assets if f["isOriginal"]] == [2]
    assert {f["status"] for f in assets if not f["isOriginal"]} == {-1}
    assert entry["id"] in ids(list_all(api, ks, statusEqual=-1))


def test_add_content_errors(api, creds):
    ks = user_ks(api, creds, PARTICIPANT)
    entry = add_entry(api, ks, name="Needs content", mediaType=1)
    error = add_content(api, ks, entry["id"], "0_" + "0" * 32)
    assert error["code"] == "UPLOAD_TOKEN_NOT_FOUND"
    error = api.call(
        "media",
        "addContent",
        ks=ks,
        entryId=entry["id"],
        resource={"objectType": "KalturaUrlResource", "url": "http://x/y.mp4"},
    )
    assert error["code"] == "RESOURCE_TYPE_NOT_SUPPORTED"
    done = uploaded_entry(api, ks, mp4_bytes(640, 360, 5))
    token = new_token(api, ks, fileName="again.mp4")
    upload_ok(api.url, ks, token["id"], b"x" * 100, name="again.mp4")
    assert add_content(api, ks, done["id"], token["id"])["code"] == "ENTRY_ALREADY_WITH_CONTENT"


# -- conversion profiles and 4K ------------------------------------------------------------------


def heights(api: JsonApi, ks: str) -> dict[int, int]:
    listed = api.ok("flavorParams", "list", ks=ks, pager={"pageSize": 500})
    assert listed["objectType"] == "KalturaFlavorParamsListResponse"
    return {p["id"]: p["height"] for p in listed["objects"]}


def test_four_k_switch(api, creds, sandbox, admin):
    server = user_ks(api, creds, None, token="serverAppToken")
    for has_4k in (True, False):
        sandbox.control("partner", has_4k=has_4k)
        profile = api.ok("conversionProfile", "getDefault", ks=server)
        assert profile["objectType"] == "KalturaConversionProfile"
        profile_ids = [int(i) for i in profile["flavorParamsIds"].split(",")]
        visible = heights(api, server)
        assert set(profile_ids) <= set(visible)
        assert (max(visible.values()) >= 2160) is has_4k
        assert any(visible[i] >= 2160 for i in profile_ids) is has_4k
        entry = uploaded_entry(api, admin, mp4_bytes(3840, 2160, 20), name=f"UHD {has_4k}")
        by_height = {f["height"]: f["status"] for f in flavors(api, admin, entry["id"]) if not f["isOriginal"]}
        assert by_height.get(2160) == (2 if has_4k else None)
        assert by_height[1080] == 2
    sandbox.control("partner", has_4k=True)


def test_conversion_profiles_need_an_admin_role(api, creds, admin):
    client = user_ks(api, creds, PARTICIPANT)
    for service, action in (("conversionProfile", "getDefault"), ("flavorParams", "list")):
        error = api.error(service, action, ks=client)
        assert error["code"] == "SERVICE_FORBIDDEN"
        assert api.ok(service, action, ks=admin)["objectType"] != "KalturaAPIException"
        server = user_ks(api, creds, None, token="serverAppToken")
        assert not is_error(api.call(service, action, ks=server))


def test_flavor_asset_list_of_seeded_video(api, admin, everything):
    video = next(e for e in everything if e["mediaType"] == 1 and e["status"] == 2)
    assets = flavors(api, admin, video["id"])
    assert [f["flavorParamsId"] for f in assets] == [int(i) for i in video["flavorParamsIds"].split(",")]
    assert all(f["entryId"] == video["id"] for f in assets)
    again = flavors(api, admin, video["id"])
    assert [f["id"] for f in again] == [f["id"] for f in assets]
    image = next(e for e in everything if e["mediaType"] == 2)
    assert flavors(api, admin, image["id"]) == []


def test_thumbnail_url_serves_an_image(everything):
    response = get(everything[0]["thumbnailUrl"] + "/width/64/height/48/type/3")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert jpeg_size(response.content) == (64, 48)
