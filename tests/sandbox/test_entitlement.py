"""Entitlement (reference/kaltura-api.md §5) over real HTTP: the same listing as three different
users gives each of them exactly what §5 says they may see.

The expectation is computed here, independently of the sandbox's implementation, from the raw
facts: every entry as an ADMIN session with ``disableentitlement`` sees it (owner, categories,
entitledUsers*) and the demo categories' privacy context, privacy and members.
"""

from __future__ import annotations

import pytest

from kaltura_sandbox.media_seed import DEMO_CATEGORIES, category_id
from kaltura_sandbox.seed import DEMO_PRIVACY_CONTEXT
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

ALL, AUTHENTICATED, MEMBERS_ONLY = 1, 2, 3
NEW_USER = "new.hire@northwind.example"
THREE_USERS = (PARTICIPANT, "jordan.lee", NEW_USER)


@pytest.fixture
def facts(api: JsonApi, creds: dict) -> list[dict]:
    """Every non-deleted entry with its owner, categories and entitled users."""
    admin = api.admin_ks(creds, privileges="disableentitlement")
    return list_all(api, admin, statusIn=ALL_STATUSES)


@pytest.fixture
def categories(creds: dict) -> dict[str, dict]:
    """The demo categories by id: context ("" = none), privacy, members."""
    result = {}
    for index, spec in enumerate(DEMO_CATEGORIES):
        context = DEMO_PRIVACY_CONTEXT if spec.context is None else spec.context
        result[str(category_id(creds["partnerId"], index))] = {
            "name": spec.name,
            "context": context,
            "privacy": spec.privacy,
            "members": set(spec.members),
        }
    return result


def entitled_users(entry: dict) -> set[str]:
    users = set()
    for field in ("entitledUsersEdit", "entitledUsersPublish", "entitledUsersView"):
        users |= {u for u in entry.get(field, "").split(",") if u}
    return users


def entry_categories(entry: dict) -> list[str]:
    return [c for c in entry.get("categoriesIds", "").split(",") if c]


def listed_by_section_5(entry: dict, user: str, context: str, categories: dict) -> bool:
    """§5, enforcement on, KS with ``privacycontext:<context>,list:*`` for a known user."""
    if user == entry["userId"] or user in entitled_users(entry):
        return True
    for cid in entry_categories(entry):
        category = categories[cid]
        if category["context"] != context:
            continue
        if category["privacy"] in (ALL, AUTHENTICATED) or user in category["members"]:
            return True
    return False


def test_the_same_listing_as_three_users(api, creds, facts, categories):
    visible = {}
    for user in THREE_USERS:
        ks = user_ks(api, creds, user)  # the client App Token: enableentitlement, context, list:*
        got = ids(list_all(api, ks, statusIn=ALL_STATUSES, orderBy="-createdAt"))
        expected = {e["id"] for e in facts if listed_by_section_5(e, user, DEMO_PRIVACY_CONTEXT, categories)}
        assert got == expected, user
        visible[user] = got
    pat, jordan, new = (visible[u] for u in THREE_USERS)
    # The differences are real: each user sees something the others do not.
    assert new < pat and new < jordan
    assert pat - jordan and jordan - pat
    # Nobody sees uncategorised entries of other owners that were not shared with them.
    for user in THREE_USERS:
        hidden = {
            e["id"] for e in facts if not entry_categories(e) and e["userId"] != user and user not in entitled_users(e)
        }
        assert hidden and not hidden & visible[user]


def test_what_makes_entries_visible_to_the_participant(api, creds, facts, categories):
    ks = user_ks(api, creds, PARTICIPANT)
    got = ids(list_all(api, ks, statusIn=ALL_STATUSES))
    by_reason = {
        "own": {e["id"] for e in facts if e["userId"] == PARTICIPANT},
        "shared": {e["id"] for e in facts if PARTICIPANT in entitled_users(e)},
        "member": {
            e["id"]
            for e in facts
            if any(
                PARTICIPANT in categories[c]["members"] and categories[c]["privacy"] == MEMBERS_ONLY
                for c in entry_categories(e)
            )
        },
        "other context": {
            e["id"]
            for e in facts
            if entry_categories(e)
            and all(categories[c]["context"] != DEMO_PRIVACY_CONTEXT for c in entry_categories(e))
        },
    }
    assert by_reason["own"] and by_reason["shared"] and by_reason["member"]
    assert by_reason["own"] | by_reason["shared"] | by_reason["member"] <= got
    other_context_only = by_reason["other context"] - by_reason["own"] - by_reason["shared"]
    assert other_context_only and not other_context_only & got


def test_categories_are_omitted_with_a_privacy_context(api, creds, facts):
    ks = user_ks(api, creds, PARTICIPANT)
    entry = next(e for e in facts if e["userId"] == PARTICIPANT and entry_categories(e))
    got = api.ok("media", "get", ks=ks, entryId=entry["id"])
    assert "categories" not in got and "categoriesIds" not in got
    assert entry["categories"] and entry["categoriesIds"]


def test_single_entry_rules(api, creds, categories):
    admin = api.admin_ks(creds)
    by_name = {c["name"]: cid for cid, c in categories.items()}
    made = {
        "uncategorised": add_entry(api, admin, name="Loose", mediaType=1, userId="jordan.lee"),
        "leadership": add_entry(
            api, admin, name="Board notes", mediaType=1, userId="jordan.lee", categoriesIds=by_name["Leadership"]
        ),
        "training": add_entry(
            api, admin, name="How-to", mediaType=1, userId="jordan.lee", categoriesIds=by_name["Training"]
        ),
        "intranet": add_entry(
            api, admin, name="Elsewhere", mediaType=1, userId="jordan.lee", categoriesIds=by_name["Intranet"]
        ),
    }
    expect = {  # (participant: member of Leadership, new user)
        "uncategorised": (True, True),  # no category: public for media.get (§5 asymmetry)
        "leadership": (True, False),
        "training": (True, True),
        "intranet": (False, False),
    }
    for user, column in ((PARTICIPANT, 0), (NEW_USER, 1)):
        ks = user_ks(api, creds, user)
        listed = ids(list_all(api, ks, statusIn=ALL_STATUSES))
        for key, entry in made.items():
            answer = api.call("media", "get", ks=ks, entryId=entry["id"])
            if expect[key][column]:
                assert answer.get("id") == entry["id"], (user, key, answer)
            else:
                assert answer["code"] == "ENTRY_ID_NOT_FOUND", (user, key)
        # Lists never show someone else's uncategorised entry; the others as media.get does.
        assert made["uncategorised"]["id"] not in listed
        for key in ("leadership", "training", "intranet"):
            assert (made[key]["id"] in listed) is expect[key][column], (user, key)


def test_entitled_users_share_an_entry(api, creds, categories):
    admin = api.admin_ks(creds)
    by_name = {c["name"]: cid for cid, c in categories.items()}
    for field in ("entitledUsersPublish", "entitledUsersView", "entitledUsersEdit"):
        entry = add_entry(
            api,
            admin,
            name=f"Shared by {field}",
            mediaType=1,
            userId="maria.garcia",
            categoriesIds=by_name["Design Reviews"],
            **{field: NEW_USER},
        )
        for user, sees in ((NEW_USER, True), (PARTICIPANT, False)):
            ks = user_ks(api, creds, user)
            listed = ids(list_all(api, ks, statusIn=ALL_STATUSES, idIn=entry["id"]))
            assert (entry["id"] in listed) is sees, (field, user)


def test_owner_only_without_list_privilege(api, creds, facts):
    """A USER session without ``list:*`` lists only its own entries, entitlement on or off."""
    for privileges in ("", "enableentitlement", "disableentitlement"):
        ks = plain_user_ks(api, creds, "jordan.lee", privileges)
        got = ids(list_all(api, ks, statusIn=ALL_STATUSES))
        assert got == {e["id"] for e in facts if e["userId"] == "jordan.lee"}, privileges
    # An anonymous USER session (disableentitlement, no list:*, no user) lists nothing.
    anonymous = plain_user_ks(api, creds, "", "disableentitlement")
    assert list_all(api, anonymous, statusIn=ALL_STATUSES) == []


def test_id_filters_lift_the_owner_restriction(api, creds, facts, categories):
    """With idIn each entry is checked on its own: a user without ``list:*`` (and without a
    privacy context) gets others' uncategorised entries, but not context-restricted ones."""
    ks = plain_user_ks(api, creds, PARTICIPANT)
    others = [e for e in facts if e["userId"] != PARTICIPANT and PARTICIPANT not in entitled_users(e)]
    loose = [e for e in others if not entry_categories(e)][:5]
    restricted = [
        e for e in others if entry_categories(e) and all(categories[c]["context"] for c in entry_categories(e))
    ][:5]
    wanted = ",".join(e["id"] for e in loose + restricted)
    got = ids(list_all(api, ks, statusIn=ALL_STATUSES, idIn=wanted))
    assert got == ids(loose)


def test_enforcement_off_shows_everything_to_list_all(api, creds, facts):
    for privileges in ("disableentitlement", "list:*,disableentitlement"):
        ks = plain_user_ks(api, creds, NEW_USER, privileges)
        expected = ids(facts) if "list:*" in privileges else set()
        assert ids(list_all(api, ks, statusIn=ALL_STATUSES)) == expected
