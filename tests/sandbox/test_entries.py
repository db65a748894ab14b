"""Entries and renditions (issue 7 items 5 and 7; reference §4.4, §6.3): ``baseEntry.get``,
``media.delete``/``baseEntry.delete`` as Kaltura rules them (``@validateUser entry entryId edit``,
``ownerOnly`` for baseEntry), ``media.update`` by the owner, and ``flavorAsset.list`` needing the
entries it lists. JSON with ``requests`` and XML with the official client."""

from __future__ import annotations

import pytest
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaAssetFilter,
    KalturaFilterPager,
    KalturaFlavorAssetFilter,
    KalturaMediaEntry,
)

from tests.sandbox.conftest import JsonApi
from tests.sandbox.media_support import (
    ALL_STATUSES,
    PARTICIPANT,
    add_entry,
    ids,
    list_all,
    plain_user_ks,
    user_ks,
)

INVALID_TYPE = ("INVALID_KS", {"KSID": "", "ERR_CODE": "-4", "ERR_DESC": "INVALID_TYPE"})


def official(sandbox, ks: str) -> KalturaClient:
    config = KalturaConfiguration()
    config.serviceUrl = sandbox.url
    client = KalturaClient(config)
    client.setKs(ks)
    return client


@pytest.fixture
def sees_all(api: JsonApi, creds: dict) -> str:
    return api.admin_ks(creds, privileges="disableentitlement")


# -- baseEntry.get -------------------------------------------------------------------------------------


def test_base_entry_get_is_the_media_entry(api, creds, sees_all, sandbox_reset):
    entry = list_all(api, sees_all, mediaTypeEqual=1)[0]
    got = api.ok("baseEntry", "get", ks=sees_all, entryId=entry["id"])
    assert got == api.ok("media", "get", ks=sees_all, entryId=entry["id"]) == entry
    assert got["objectType"] == "KalturaMediaEntry"
    error = api.error("baseEntry", "get", ks=sees_all, entryId="0_nosuch00")
    assert (error["code"], error["args"]) == ("ENTRY_ID_NOT_FOUND", {"ENTRY_ID": "0_nosuch00"})
    fetched = official(sandbox_reset, sees_all).baseEntry.get(entry["id"])
    assert type(fetched).__name__ == "KalturaMediaEntry"
    assert (fetched.id, fetched.name, fetched.mediaType.getValue()) == (entry["id"], entry["name"], 1)


def test_base_entry_get_applies_entitlement(api, creds, sees_all):
    # A members-only "Design Reviews" entry is not found for the participant (not a member).
    design = next(
        e for e in list_all(api, sees_all, statusIn=ALL_STATUSES) if e.get("categories") == "Hub Portal>Design Reviews"
    )
    participant = user_ks(api, creds, PARTICIPANT)
    assert api.error("baseEntry", "get", ks=participant, entryId=design["id"])["code"] == "ENTRY_ID_NOT_FOUND"
    member = user_ks(api, creds, "maria.garcia")
    assert api.ok("baseEntry", "get", ks=member, entryId=design["id"])["id"] == design["id"]


# -- delete ------------------------------------------------------------------------------------------


@pytest.fixture
def shared(api: JsonApi, creds: dict, sees_all: str) -> dict:
    """An entry of jordan.lee's that the participant may edit (entitledUsersEdit), in no category."""
    owner = user_ks(api, creds, "jordan.lee")
    entry = add_entry(api, owner, name="Shared draft", mediaType=1, entitledUsersEdit=PARTICIPANT)
    return {"entry": entry, "owner": owner}


def gone(api: JsonApi, sees_all: str, entry_id: str) -> bool:
    return api.call("media", "get", ks=sees_all, entryId=entry_id).get("code") == "ENTRY_ID_NOT_FOUND"


@pytest.mark.parametrize("service", ["media", "baseEntry"])
def test_the_owner_deletes(api, shared, sees_all, service):
    entry = shared["entry"]
    assert api.call(service, "delete", ks=shared["owner"], entryId=entry["id"]) is None
    assert gone(api, sees_all, entry["id"])
    assert entry["id"] not in ids(list_all(api, sees_all, statusIn=ALL_STATUSES))
    error = api.error(service, "delete", ks=shared["owner"], entryId=entry["id"])
    assert error["code"] == "ENTRY_ID_NOT_FOUND"


def test_an_entitled_editor_may_media_delete_but_not_base_entry_delete(api, creds, shared, sees_all):
    entry = shared["entry"]
    editor = user_ks(api, creds, PARTICIPANT)
    error = api.error("baseEntry", "delete", ks=editor, entryId=entry["id"])  # ownerOnly
    assert (error["code"], error["args"]) == INVALID_TYPE
    assert not gone(api, sees_all, entry["id"])
    assert api.call("media", "delete", ks=editor, entryId=entry["id"]) is None
    assert gone(api, sees_all, entry["id"])


@pytest.mark.parametrize("service", ["media", "baseEntry"])
def test_others_may_not_delete_unless_admin_or_edit_privileged(api, creds, shared, sees_all, sandbox_reset, service):
    entry = shared["entry"]
    stranger = plain_user_ks(api, creds, "li.wei", "list:*")
    error = api.error(service, "delete", ks=stranger, entryId=entry["id"])
    assert (error["code"], error["args"]) == INVALID_TYPE
    with pytest.raises(KalturaException) as raised:
        getattr(official(sandbox_reset, stranger), "baseEntry" if service == "baseEntry" else "media").delete(
            entry["id"]
        )
    assert raised.value.code == "INVALID_KS"
    privileged = plain_user_ks(api, creds, "li.wei", f"edit:{entry['id']}")
    assert api.call(service, "delete", ks=privileged, entryId=entry["id"]) is None
    assert gone(api, sees_all, entry["id"])


def test_an_admin_deletes_through_the_official_client(api, shared, sees_all, sandbox_reset):
    entry = shared["entry"]
    official(sandbox_reset, sees_all).baseEntry.delete(entry["id"])
    assert gone(api, sees_all, entry["id"])
    with pytest.raises(KalturaException) as raised:
        official(sandbox_reset, sees_all).media.delete(entry["id"])
    assert raised.value.code == "ENTRY_ID_NOT_FOUND"


# -- update by the owner -------------------------------------------------------------------------------


def test_the_owner_updates_name_description_and_tags_through_the_official_client(api, shared, sandbox_reset):
    entry = shared["entry"]
    client = official(sandbox_reset, shared["owner"])
    updated = client.media.update(
        entry["id"], KalturaMediaEntry(name="Final cut", description="Ready to share", tags="360,Drone, a")
    )
    assert (updated.name, updated.description, updated.tags) == ("Final cut", "Ready to share", "360, drone")
    assert updated.userId == "jordan.lee" and updated.mediaType.getValue() == 1
    with pytest.raises(KalturaException) as raised:
        client.media.update(entry["id"], KalturaMediaEntry(mediaType=2))
    assert raised.value.code == "PROPERTY_VALIDATION_NOT_UPDATABLE"


# -- flavorAsset.list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flt, class_name",
    [
        ({}, "KalturaAssetFilter"),
        ({"objectType": "KalturaFlavorAssetFilter", "statusEqual": 2}, "KalturaFlavorAssetFilter"),
        ({"objectType": "KalturaAssetFilter", "entryIdIn": ""}, "KalturaAssetFilter"),
    ],
)
def test_flavor_asset_list_needs_the_entries(api, sees_all, flt, class_name):
    error = api.error("flavorAsset", "list", ks=sees_all, filter=flt)
    assert error["code"] == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    assert error["args"] == {"PROP_NAME": f"{class_name}::entryIdEqual/{class_name}::entryIdIn"}
    assert api.error("flavorAsset", "list", ks=sees_all)["code"] == "PROPERTY_VALIDATION_CANNOT_BE_NULL"


def test_flavor_asset_list_needs_the_entries_in_the_official_client(sees_all, sandbox_reset):
    client = official(sandbox_reset, sees_all)
    for flt in (None, KalturaFlavorAssetFilter(), KalturaAssetFilter(sizeGreaterThanOrEqual=0)):
        with pytest.raises(KalturaException) as raised:
            client.flavorAsset.list(flt) if flt is not None else client.flavorAsset.list()
        assert raised.value.code == "PROPERTY_VALIDATION_CANNOT_BE_NULL"


def test_flavor_asset_list_polls_500_entries_in_one_call(api, sandbox_reset, creds):
    sandbox_reset.reset(entries=600)
    admin = api.admin_ks(creds, privileges="disableentitlement")
    entries = list_all(api, admin, statusIn=ALL_STATUSES, orderBy="+createdAt")
    assert len(entries) == 600
    playable = {e["id"] for e in entries if e["mediaType"] in (1, 5) and e["status"] not in (0, 7)}
    first, extra = entries[:500], entries[500:]
    listed = api.ok(
        "flavorAsset",
        "list",
        ks=admin,
        filter={"objectType": "KalturaFlavorAssetFilter", "entryIdIn": ",".join(e["id"] for e in first)},
        pager={"pageSize": 500},
    )
    wanted = {e["id"] for e in first} & playable
    assert listed["totalCount"] > 500  # several renditions per entry: paged, 500 at a time
    seen: set[str] = set()
    page = 1
    while True:
        result = api.ok(
            "flavorAsset",
            "list",
            ks=admin,
            filter={"entryIdIn": ",".join(e["id"] for e in first)},
            pager={"pageSize": 500, "pageIndex": page},
        )
        seen |= {f["entryId"] for f in result["objects"]}
        if len(result["objects"]) < 500:
            break
        page += 1
    assert seen == wanted
    # Ids past the 500th are not taken.
    later = next(e["id"] for e in extra if e["id"] in playable)
    over = api.ok(
        "flavorAsset",
        "list",
        ks=admin,
        filter={"entryIdIn": ",".join([*(e["id"] for e in first), later])},
        pager={"pageSize": 1},
    )
    assert over["totalCount"] == listed["totalCount"]
    client = official(sandbox_reset, admin)
    some = [e["id"] for e in first if e["id"] in playable][:20]
    assets = client.flavorAsset.list(
        KalturaFlavorAssetFilter(entryIdIn=",".join(some)), KalturaFilterPager(pageSize=500)
    )
    assert {a.entryId for a in assets.objects} == set(some)
