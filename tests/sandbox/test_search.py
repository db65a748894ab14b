"""Search, filters and sorting over a small known dataset (issue 7 items 1-3 and "Bad input";
reference/kaltura-api.md §4.1).

The dataset is seeded through the control surface and the API into an empty partner, and every
expected answer below is written out from the data by hand (entry keys E1..E9), not computed by
any code of the sandbox. Each rule is checked in JSON with ``requests`` and, where the official
client can express the filter, in XML with ``kalturaapiclient``.
"""

from __future__ import annotations

import time

import pytest
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaBaseEntryFilter,
    KalturaFilterPager,
    KalturaMediaEntryFilter,
    KalturaMediaEntryOrderBy,
    KalturaSessionType,
    KalturaUser,
)

from tests.sandbox.conftest import JsonApi

ALL_STATUSES = "-2,-1,0,1,2,4,7"
DAY = 86400

#: The owners, with the names freeText also searches (first, last, screen name).
USERS = (
    ("ana.silva", "Ana", "Silva", "Ana S."),
    ("bob.k", "Robert", "Kowalski", "Bobby"),
    ("chen", "Chen", "Wei", "chen"),
)
#: The entries by key; numbers are days before now (created/updated/last played), seconds of
#: duration, plays and views, so that every sort has a single right answer.
ENTRIES = {
    "E1": dict(name="Drone flyover of the harbour", tags="drone, aerial", description="Shot at dawn.",
               userId="ana.silva", mediaType=1, created=9, updated=2, plays=50, views=70, seconds=61, played=3),
    "E2": dict(name="Droning on: a lecture", tags="lecture", description="About drones and bees.",
               userId="bob.k", mediaType=5, created=8, updated=7, plays=5, views=9, seconds=3000, played=8),
    "E3": dict(name="Harbour tour", tags="harbour, tour", description="A walk by the water",
               userId="chen", mediaType=1, created=7, updated=1, plays=120, views=121, seconds=240, played=1,
               referenceId="ext-harbour-1"),
    "E4": dict(name="Drone", tags="drone", description=None,
               userId="bob.k", mediaType=2, created=6, updated=6, plays=0, views=3, seconds=0, played=None),
    "E5": dict(name="Café in Montréal", tags="cafe, travel", description="Éclair tasting",
               userId="ana.silva", mediaType=2, created=5, updated=4, plays=1, views=40, seconds=0, played=4),
    "E6": dict(name="Town-hall meeting", tags="town hall, meeting", description="Quarterly.",
               userId="chen", mediaType=1, created=4, updated=3, plays=7, views=8, seconds=1800, played=2),
    "E7": dict(name="dr who", tags="tv", description="Episode one",
               userId="chen", mediaType=1, created=3, updated=9, plays=31, views=33, seconds=1500, played=5),
    "E8": dict(name="Zebra crossing", tags="zebra", description="drone footage",
               userId="ana.silva", mediaType=1, created=2, updated=5, plays=2, views=2, seconds=12, played=9),
    "E9": dict(name="Aerial harbour views", tags="aerial, harbour", description="From the hill",
               userId="bob.k", mediaType=2, created=1, updated=8, plays=3, views=1, seconds=0, played=6),
}  # fmt: skip


@pytest.fixture(scope="module")
def dataset(sandbox) -> dict:
    """An empty partner holding exactly USERS and ENTRIES; returns ``{"ids": key -> entry id, ...}``.

    E9 starts in ten days (``startDate``), so ``recent`` leaves it out.
    """
    sandbox.reset(seed="none")
    creds = sandbox.credentials
    api = JsonApi(sandbox.url)
    admin = api.admin_ks(creds, privileges="disableentitlement")
    for user_id, first, last, screen in USERS:
        api.ok(
            "user",
            "add",
            ks=admin,
            user={
                "objectType": "KalturaUser",
                "id": user_id,
                "firstName": first,
                "lastName": last,
                "screenName": screen,
            },
        )
    now = int(time.time())
    specs = []
    for spec in ENTRIES.values():
        item = {
            k: v
            for k, v in spec.items()
            if k in ("name", "tags", "description", "userId", "mediaType", "plays", "views", "referenceId")
        }
        item["createdAt"] = now - spec["created"] * DAY
        item["updatedAt"] = now - spec["updated"] * DAY
        item["msDuration"] = spec["seconds"] * 1000
        if spec["played"] is not None:
            item["lastPlayedAt"] = now - spec["played"] * DAY
        specs.append(item)
    specs[-1]["startDate"] = now + 10 * DAY
    made = sandbox.control("entries", entries=specs)["ids"]
    ids = dict(zip(ENTRIES, made, strict=True))
    return {"ids": ids, "keys": {v: k for k, v in ids.items()}, "admin": admin, "creds": creds, "now": now}


def keys(api: JsonApi, dataset: dict, **flt) -> set[str]:
    """The keys of the entries a JSON ``media.list`` with this filter returns."""
    result = api.ok("media", "list", ks=dataset["admin"], filter=flt, pager={"pageSize": 500})
    assert result["totalCount"] == len(result["objects"])
    return {dataset["keys"][e["id"]] for e in result["objects"]}


def ordered(api: JsonApi, dataset: dict, order_by: str) -> list[str]:
    result = api.ok("media", "list", ks=dataset["admin"], filter={"orderBy": order_by}, pager={"pageSize": 500})
    return [dataset["keys"][e["id"]] for e in result["objects"]]


@pytest.fixture(scope="module")
def client(sandbox, dataset) -> KalturaClient:
    """The official client (XML) with an ADMIN KS that sees every entry."""
    config = KalturaConfiguration()
    config.serviceUrl = sandbox.url
    client = KalturaClient(config)
    creds = dataset["creds"]
    ks = KalturaClient.generateSessionV2(
        creds["adminSecret"], "", KalturaSessionType.ADMIN, creds["partnerId"], 3600, "disableentitlement"
    )
    client.setKs(ks.decode())
    return client


def official(sandbox, ks: str) -> KalturaClient:
    config = KalturaConfiguration()
    config.serviceUrl = sandbox.url
    client = KalturaClient(config)
    client.setKs(ks)
    return client


def client_keys(client: KalturaClient, dataset: dict, **fields) -> set[str]:
    listed = client.media.list(KalturaMediaEntryFilter(**fields), KalturaFilterPager(pageSize=500))
    return {dataset["keys"][e.id] for e in listed.objects}


# -- 1. freeText and the *Like filters ---------------------------------------------------------------

FREE_TEXT_CASES = [
    ("drone", {"E1", "E4", "E8"}),  # a bare word is a whole word: not "droning" or "drones"
    ("DRONE", {"E1", "E4", "E8"}),  # case-insensitive
    ("dro", set()),  # a bare prefix matches nothing
    ("dro*", {"E1", "E2", "E4", "E8"}),  # a starred word of 3+ characters is a prefix
    ("dr", {"E7"}),
    ("dr*", set()),  # a starred word under 3 characters matches nothing
    ("drone harbour", {"E1"}),  # space: every word
    ("drone,harbour", {"E1", "E3", "E4", "E8", "E9"}),  # comma: any part
    ("lecture, tour", {"E2", "E3"}),
    ('"drone"', {"E4"}),  # quoted: a whole field (E4's name and tags), not a word of one
    ('"harbour tour"', {"E3"}),
    ('"flyover drone"', set()),
    ('harbour "drone flyover"', {"E1"}),  # a quoted phrase inside other words
    ("drone !aerial", {"E4", "E8"}),  # ! excludes a word
    ("kowalski", {"E2", "E4", "E9"}),  # the owner's last name
    ("bobby", {"E2", "E4", "E9"}),  # the owner's screen name
    ("ana", {"E1", "E5", "E8"}),  # the owner's first name
    ("chen", {"E3", "E6", "E7"}),  # the owner's id and names
    ("montreal", {"E5"}),  # accents fold: Montréal
    ("CAFÉ", {"E5"}),
    ("eclair", {"E5"}),
    ("ext-harbour-1", {"E3"}),  # the reference id
    ("quarterly", {"E6"}),  # the description
    ("town-hall", {"E6"}),
]


@pytest.mark.parametrize("text, expected", FREE_TEXT_CASES)
def test_free_text(api, dataset, client, text, expected):
    assert keys(api, dataset, freeText=text) == expected
    assert client_keys(client, dataset, freeText=text) == expected


def test_free_text_finds_an_entry_by_its_id(api, dataset):
    assert keys(api, dataset, freeText=dataset["ids"]["E3"]) == {"E3"}
    assert keys(api, dataset, freeText=dataset["ids"]["E3"][2:]) == {"E3"}  # the part after "0_"


LIKE_CASES = [
    ({"nameLike": "drone"}, {"E1", "E4"}),  # a whole word of the name
    ({"nameLike": "dro"}, set()),  # never a bare prefix
    ({"nameLike": "Harbour tour"}, {"E3"}),  # a phrase when it has spaces
    ({"nameLike": "tour harbour"}, set()),
    ({"nameLike": "harbour"}, {"E1", "E3", "E9"}),
    ({"descriptionLike": "drone"}, {"E8"}),
    ({"tagsLike": "aerial"}, {"E1", "E9"}),
    ({"tagsLike": "hall"}, {"E6"}),
    ({"nameMultiLikeOr": "crossing,lecture"}, {"E2", "E8"}),
    ({"nameMultiLikeAnd": "drone,flyover"}, {"E1"}),
    ({"tagsMultiLikeOr": "drone,lecture"}, {"E1", "E2", "E4"}),
    ({"tagsMultiLikeAnd": "drone,aerial"}, {"E1"}),
    ({"tagsMultiLikeOr": "town hall"}, {"E6"}),
    ({"tagsNameMultiLikeOr": "drone,zebra"}, {"E1", "E4", "E8"}),  # tags or name
    ({"tagsNameMultiLikeAnd": "harbour,aerial"}, {"E1", "E9"}),  # across tags and name
    ({"tagsNameMultiLikeOr": "lecture"}, {"E2"}),
    ({"tagsAdminTagsNameMultiLikeOr": "tour"}, {"E3"}),
]


@pytest.mark.parametrize("flt, expected", LIKE_CASES)
def test_like_filters(api, dataset, client, flt, expected):
    assert keys(api, dataset, **flt) == expected
    assert client_keys(client, dataset, **flt) == expected


# -- 2. the other filters -------------------------------------------------------------------------


def test_id_reference_and_time_filters(api, dataset, client):
    ids, now = dataset["ids"], dataset["now"]
    assert keys(api, dataset, idIn=f"{ids['E2']},{ids['E5']},0_nosuch00") == {"E2", "E5"}
    assert keys(api, dataset, referenceIdEqual="ext-harbour-1") == {"E3"}
    assert keys(api, dataset, referenceIdIn="nope,ext-harbour-1") == {"E3"}
    # Created 2 to 6 days ago: E4 (6) .. E8 (2), absolute times.
    window = {"createdAtGreaterThanOrEqual": now - 6 * DAY - 60, "createdAtLessThanOrEqual": now - 2 * DAY + 60}
    assert keys(api, dataset, **window) == {"E4", "E5", "E6", "E7", "E8"}
    # Relative times (within ten years of zero): updated in the last 3.5 days: E1 (2), E3 (1), E6 (3).
    assert keys(api, dataset, updatedAtGreaterThanOrEqual=-int(3.5 * DAY)) == {"E1", "E3", "E6"}
    assert keys(api, dataset, updatedAtLessThanOrEqual=-int(8.5 * DAY)) == {"E7"}
    assert client_keys(client, dataset, updatedAtGreaterThanOrEqual=-int(3.5 * DAY)) == {"E1", "E3", "E6"}
    assert client_keys(client, dataset, referenceIdIn="ext-harbour-1") == {"E3"}


def test_unknown_filter_properties_are_ignored(api, dataset):
    everything = set(ENTRIES)
    assert keys(api, dataset, freeTextt="zzz", nameLikee="nothing", colour="red") == everything


# -- 3. sorting -------------------------------------------------------------------------------------


def expected_order(field: str, descending: bool) -> list[str]:
    """The order of ENTRIES by one of their fields, computed here from the table above.

    Missing values sort as 0 (Sphinx stores a missing date as 0); ties are not used below.
    """
    values = {
        "createdAt": lambda e: -e["created"],
        "updatedAt": lambda e: -e["updated"],
        "plays": lambda e: e["plays"],
        "views": lambda e: e["views"],
        "duration": lambda e: e["seconds"],
        "lastPlayedAt": lambda e: -e["played"] if e["played"] is not None else -(10**9),
        "name": lambda e: e["name"].lower(),
    }[field]
    return sorted(ENTRIES, key=lambda k: values(ENTRIES[k]), reverse=descending)


@pytest.mark.parametrize("field", ["createdAt", "updatedAt", "plays", "views", "lastPlayedAt", "name"])
@pytest.mark.parametrize("direction", ["+", "-"])
def test_order_by_fields(api, dataset, client, field, direction):
    expected = expected_order(field, direction == "-")
    assert ordered(api, dataset, direction + field) == expected
    listed = client.media.list(KalturaMediaEntryFilter(orderBy=direction + field), KalturaFilterPager(pageSize=500))
    assert [dataset["keys"][e.id] for e in listed.objects] == expected


def test_order_by_duration_and_media_type(api, dataset):
    # Durations tie at 0 for the images E4, E5, E9: compare the non-zero part and the tie group.
    longest = ordered(api, dataset, "-duration")
    assert longest[:6] == ["E2", "E6", "E7", "E3", "E1", "E8"]
    assert set(longest[6:]) == {"E4", "E5", "E9"}
    shortest = ordered(api, dataset, "+duration")
    assert set(shortest[:3]) == {"E4", "E5", "E9"} and shortest[3:] == ["E8", "E1", "E3", "E7", "E6", "E2"]
    by_type = ordered(api, dataset, "+mediaType")  # video 1, image 2, audio 5
    assert set(by_type[:5]) == {"E1", "E3", "E6", "E7", "E8"}
    assert set(by_type[5:8]) == {"E4", "E5", "E9"} and by_type[8] == "E2"
    assert ordered(api, dataset, "-mediaType")[0] == "E2"


def test_recent_sorts_newest_first_and_leaves_out_what_is_not_available_yet(api, dataset, client):
    newest_first = ["E8", "E7", "E6", "E5", "E4", "E3", "E2", "E1"]  # E9 starts in ten days
    assert ordered(api, dataset, "recent") == newest_first
    assert ordered(api, dataset, "-recent") == newest_first
    # +recent is oldest first by availability, and does not leave E9 out (SphinxEntryCriteria L275).
    assert ordered(api, dataset, "+recent") == [*reversed(newest_first), "E9"]
    listed = client.media.list(
        KalturaMediaEntryFilter(orderBy=KalturaMediaEntryOrderBy.RECENT_DESC), KalturaFilterPager(pageSize=500)
    )
    assert [dataset["keys"][e.id] for e in listed.objects] == newest_first


@pytest.mark.parametrize("order_by", ["+rank", "-totalRank", "+moderationCount", "-partnerSortValue", "-weight"])
def test_order_by_values_the_sandbox_keeps_equal_still_list_everything(api, dataset, order_by):
    assert set(ordered(api, dataset, order_by)) == set(ENTRIES)


def test_unknown_order_by_values_are_dropped(api, dataset):
    assert ordered(api, dataset, "+colour") == ordered(api, dataset, "-createdAt")
    assert ordered(api, dataset, "+colour,+plays") == expected_order("plays", False)


# -- bad input -------------------------------------------------------------------------------------

EMPTY_ANSWERS = ["*", "|", "@", "()", "!", "   ", "a" * 2000, "**", "\t\n"]


@pytest.mark.parametrize("text", EMPTY_ANSWERS)
def test_malformed_free_text_gives_an_empty_list(api, dataset, text):
    result = api.ok("media", "list", ks=dataset["admin"], filter={"freeText": text})
    assert result["objectType"] == "KalturaMediaListResponse"
    assert (result["totalCount"], result["objects"]) == (0, [])


@pytest.mark.parametrize("text", ["(drone)", "drone|harbour", "drone@harbour", "drone)", "@drone"])
def test_operator_characters_are_literal_and_never_crash(api, dataset, text):
    result = api.ok("media", "list", ks=dataset["admin"], filter={"freeText": text})
    assert result["objectType"] == "KalturaMediaListResponse"
    assert result["totalCount"] == len(result["objects"]) <= len(ENTRIES)


def test_a_long_search_of_repeated_words_still_answers(api, dataset):
    assert keys(api, dataset, freeText=" ".join(["drone"] * 330)) == {"E1", "E4", "E8"}


@pytest.mark.parametrize(
    "text, code, message",
    [
        ('"drone', "SEARCH_ENGINE_SYNTAX_ERROR", "Search engine syntax error"),
        ('drone "harbour', "SEARCH_ENGINE_SYNTAX_ERROR", "Search engine syntax error"),
        ("!drone", "SEARCH_ENGINE_QUERY_FAILED", "Search engine query failed"),
        ("drone\x01", "INVALID_PARAMETER_CHAR", 'Invalid char in "freeText" field'),
    ],
)
def test_search_errors_are_kaltura_errors(api, dataset, client, text, code, message):
    error = api.error("media", "list", ks=dataset["admin"], filter={"freeText": text})
    assert (error["code"], error["message"]) == (code, message)
    if code.startswith("SEARCH"):
        with pytest.raises(KalturaException) as raised:
            client.baseEntry.list(KalturaBaseEntryFilter(freeText=text))
        assert raised.value.code == code


# -- tests that build their own data (last: they replace the module's dataset) ----------------------


def test_entitled_user_filters(sandbox, api):
    """Or: any of the users; And: all of them. The users are created by the entries naming them."""
    sandbox.reset(seed="none")
    admin = api.admin_ks(sandbox.credentials, privileges="disableentitlement")

    def add(name: str, **fields) -> str:
        entry = {"objectType": "KalturaMediaEntry", "name": name, "mediaType": 1, **fields}
        return api.ok("media", "add", ks=admin, entry=entry)["id"]

    a = add("A", entitledUsersEdit="u1,u2")
    b = add("B", entitledUsersEdit="u2", entitledUsersPublish="u1")
    c = add("C", entitledUsersView="u1,u3")
    names = {a: "A", b: "B", c: "C"}

    def listed(**flt) -> set[str]:
        result = api.ok("media", "list", ks=admin, filter={"statusIn": ALL_STATUSES, **flt})
        return {names[e["id"]] for e in result["objects"]}

    assert listed(entitledUsersEditMatchOr="u1") == {"A"}
    assert listed(entitledUsersEditMatchOr="u1,u2") == {"A", "B"}
    assert listed(entitledUsersEditMatchAnd="u1,u2") == {"A"}
    assert listed(entitledUsersPublishMatchOr="u1,u3") == {"B"}
    assert listed(entitledUsersViewMatchAnd="u1,u3") == {"C"}
    assert listed(entitledUsersViewMatchOr="u2") == set()
    for user in ("u1", "u2", "u3"):  # named users exist now (KalturaBaseEntry::validateUsers)
        assert api.ok("user", "get", ks=admin, userId=user)["id"] == user
    client = official(sandbox, admin)
    listed = client.media.list(KalturaMediaEntryFilter(statusIn=ALL_STATUSES, entitledUsersEditMatchAnd="u1,u2"))
    assert [names[e.id] for e in listed.objects] == ["A"]


def test_category_ancestor_filter(sandbox, api):
    """categoryAncestorIdIn: the categories and everything below them; categoriesIdsMatchOr: direct only."""
    sandbox.reset(seed="none")
    tree = sandbox.control(
        "categories",
        categories=[
            {"id": 501, "name": "Root"},
            {"id": 502, "name": "Child", "parentId": 501},
            {"id": 503, "name": "Grandchild", "parentId": 502},
            {"id": 504, "name": "Elsewhere"},
        ],
    )
    assert tree["ids"] == [501, 502, 503, 504]
    made = sandbox.control(
        "entries",
        entries=[
            {"name": "in root", "categoriesIds": "501"},
            {"name": "in child", "categoriesIds": "502"},
            {"name": "in grandchild", "categoriesIds": "503"},
            {"name": "elsewhere", "categoriesIds": "504"},
            {"name": "nowhere"},
        ],
    )["ids"]
    names = dict(zip(made, ("root", "child", "grandchild", "elsewhere", "nowhere"), strict=True))
    admin = api.admin_ks(sandbox.credentials, privileges="disableentitlement")

    def listed(**flt) -> set[str]:
        return {names[e["id"]] for e in api.ok("media", "list", ks=admin, filter=flt)["objects"]}

    assert listed(categoryAncestorIdIn="501") == {"root", "child", "grandchild"}
    assert listed(categoryAncestorIdIn="502") == {"child", "grandchild"}
    assert listed(categoryAncestorIdIn="503,504") == {"grandchild", "elsewhere"}
    assert listed(categoryAncestorIdIn="999") == set()
    assert listed(categoriesIdsMatchOr="501") == {"root"}
    client = official(sandbox, admin)
    found = client.media.list(KalturaMediaEntryFilter(categoryAncestorIdIn="502"))
    assert {names[e.id] for e in found.objects} == {"child", "grandchild"}


def test_renamed_owner_is_found_by_the_new_name(sandbox, api):
    """The index holds the owner's names: user.update refreshes them (freeText, reference §4.1)."""
    sandbox.reset(seed="none")
    admin = api.admin_ks(sandbox.credentials, privileges="disableentitlement")
    api.ok("user", "add", ks=admin, user={"objectType": "KalturaUser", "id": "dana", "lastName": "Oldname"})
    made = sandbox.control("entries", entries=[{"name": "Clip", "userId": "dana"}])["ids"]

    def found(text: str) -> list[str]:
        return [e["id"] for e in api.ok("media", "list", ks=admin, filter={"freeText": text})["objects"]]

    assert found("oldname") == made
    api.ok("user", "update", ks=admin, userId="dana", user={"objectType": "KalturaUser", "lastName": "Newname"})
    assert found("newname") == made and found("oldname") == []
    config = KalturaConfiguration()
    config.serviceUrl = sandbox.url
    client = KalturaClient(config)
    client.setKs(admin)
    client.user.update("dana", KalturaUser(lastName="Latest"))
    assert found("latest") == made
