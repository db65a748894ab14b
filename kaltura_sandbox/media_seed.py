"""The demo partner's media: categories with a privacy context, then N realistic entries.

Deterministic: the same partner id, privacy context, user ids and N always give the same
categories, entry ids, names, owners, tags and statuses (a seeded ``random.Random``); only the
timestamps move with ``now`` (entries were created over the two years before it).

What the seed contains, so the demo and the tests can rely on it:

* ``DEMO_CATEGORIES``: categories under "Hub Portal" in the given privacy context with privacy
  ALL, AUTHENTICATED_USERS and MEMBERS_ONLY (the demo participant ``pat@northwind.example`` is
  a member of "Leadership", ``jordan.lee`` of "Design Reviews"), a category with no privacy
  context ("Marketing Archive") and one in another context ("Intranet"). Their ids are
  ``category_id(partner_id, index)``.
* Entries: about 60% video, 25% images, 15% audio; names, descriptions and tags from a
  catalogue of company topics; durations, dimensions (some 3840x2160 videos, 2:1 panoramas for
  360 media), plays and views; about 10% tagged ``360``; owners drawn from the given users;
  about 8% not READY (pending, converting, importing, no content, failed); about 15% in no
  category at all; a few percent shared with the demo participant through
  ``entitledUsersPublish`` or ``entitledUsersView``.

``seed_media(..., entries=100_000)`` takes a few seconds: rows are built in memory and written
with ``executemany``, and the free-text index is filled with one ``INSERT ... SELECT``.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from typing import Any

from . import entitlement, processing
from . import media_store as ms
from .store import Store

SECONDS_PER_DAY = 86400
LARGE_PARTNER_NUMBERING = 1000  # entries past this index get a "#N" suffix in their names
HISTORY_DAYS = 730
DEMO_PARTICIPANT = "pat@northwind.example"

PRIVACY_ALL = ms.PRIVACY_ALL
PRIVACY_AUTHENTICATED = ms.PRIVACY_AUTHENTICATED
PRIVACY_MEMBERS_ONLY = ms.PRIVACY_MEMBERS_ONLY


@dataclass(frozen=True)
class CategorySpec:
    """A demo category. ``context`` None means the seed's privacy context, "" none at all,
    anything else that literal context. ``members`` are user ids; ``weight`` is how often
    entries land in the category."""

    key: str
    name: str
    parent: str | None
    context: str | None
    privacy: int
    members: tuple[str, ...] = ()
    weight: int = 1


DEMO_CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("root", "Hub Portal", None, None, PRIVACY_ALL, weight=2),
    CategorySpec("news", "Company News", "root", None, PRIVACY_ALL, weight=5),
    CategorySpec("training", "Training", "root", None, PRIVACY_AUTHENTICATED, weight=5),
    CategorySpec("demos", "Product Demos", "root", None, PRIVACY_ALL, weight=4),
    CategorySpec("field", "Field Recordings", "root", None, PRIVACY_AUTHENTICATED, weight=3),
    CategorySpec(
        "leadership",
        "Leadership",
        "root",
        None,
        PRIVACY_MEMBERS_ONLY,
        members=(DEMO_PARTICIPANT, "kaltura.admin"),
        weight=2,
    ),
    CategorySpec(
        "design", "Design Reviews", "root", None, PRIVACY_MEMBERS_ONLY, members=("jordan.lee", "maria.garcia"), weight=2
    ),
    CategorySpec("archive", "Marketing Archive", None, "", PRIVACY_ALL, weight=2),
    CategorySpec("intranet", "Intranet", None, "intranet", PRIVACY_ALL, weight=1),
)


def category_id(partner_id: int, index: int) -> int:
    """The deterministic id of the partner's ``index``-th demo category."""
    return (partner_id % 100_000) * 1000 + index + 1


# -- the content catalogue -------------------------------------------------------------------------

TOPICS = (
    ("Quarterly Town Hall", "town hall,leadership,company update"),
    ("Onboarding: Security Basics", "onboarding,security,training"),
    ("Harbour Drone Flyover", "drone,aerial,harbour"),
    ("Warehouse Walkthrough", "warehouse,operations,tour"),
    ("Customer Story: Northwind Traders", "customer story,case study,sales"),
    ("Product Launch Keynote", "launch,keynote,product"),
    ("Design Critique", "design,ux,review"),
    ("Accessibility in Practice", "accessibility,a11y,training"),
    ("Engineering All-Hands", "engineering,all-hands"),
    ("Sales Kickoff Highlights", "sales,kickoff,highlights"),
    ("Lab Safety Procedures", "safety,lab,compliance"),
    ("Data Privacy Essentials", "privacy,gdpr,compliance"),
    ("Field Service Tips", "field service,maintenance,how-to"),
    ("Conference Booth Recap", "conference,events,marketing"),
    ("Intern Demo Day", "interns,demo day,showcase"),
    ("Leadership Offsite Summary", "leadership,strategy,offsite"),
    ("Mountain Trail Panorama", "outdoors,panorama,team building"),
    ("Factory Floor Tour", "manufacturing,factory,tour"),
    ("Wellbeing Wednesday", "wellbeing,hr,culture"),
    ("API Deep Dive", "api,developers,engineering"),
    ("Support Desk Playbook", "support,customer success,playbook"),
    ("Brand Refresh Preview", "brand,marketing,design"),
    ("Volunteer Day", "community,volunteering,culture"),
    ("Rooftop Garden Timelapse", "timelapse,sustainability,office"),
)
VIDEO_KINDS = (
    "Full Recording",
    "Highlights",
    "Part {n}",
    "Q{q} {year}",
    "Session {n}",
    "Director's Cut",
    "Walkthrough",
    "Episode {n}",
)
IMAGE_KINDS = (
    "Group Photo",
    "Poster",
    "Slide {n}",
    "Product Shot",
    "Floor Plan",
    "Whiteboard Notes",
    "Cover Art",
    "Snapshot {n}",
)
AUDIO_KINDS = ("Podcast Ep. {n}", "Interview", "Audio Summary", "Q&A Recording", "Narration Draft {n}", "Radio Spot")
DESCRIPTIONS = (
    "Recorded for the {team} team. Covers {topic_lower} with examples from recent projects.",
    "A short {media_word} about {topic_lower}, shared for everyone who missed it live.",
    "{topic}: what changed, why it matters, and what to do next.",
    "Produced by {owner_name}. Please share feedback in the hub's comments.",
    "Reference material on {topic_lower} for new joiners and partners.",
)
TEAMS = ("Operations", "Marketing", "Engineering", "People", "Sales", "Design", "Support")
PALETTE = (
    "#2f6fdb",
    "#d9534f",
    "#5cb85c",
    "#f0ad4e",
    "#8e44ad",
    "#16a085",
    "#e67e22",
    "#34495e",
    "#c0392b",
    "#1abc9c",
    "#7f8c8d",
    "#2c3e50",
    "#d35400",
    "#27ae60",
)
VIDEO_SIZES = (
    (1920, 1080),
    (1920, 1080),
    (1280, 720),
    (3840, 2160),
    (1080, 1920),
    (1920, 1080),
    (3840, 2160),
    (1280, 720),
)
IMAGE_SIZES = ((4032, 3024), (6000, 4000), (1920, 1080), (2400, 1600), (1080, 1350))
PANORAMA_SIZES = ((5760, 2880), (3840, 1920), (8192, 4096))

# Not-READY statuses of the seed (static: they stay as seeded).
NOT_READY = (ms.ENTRY_PENDING, ms.ENTRY_PRECONVERT, ms.ENTRY_IMPORT, ms.ENTRY_NO_CONTENT, ms.ENTRY_ERROR_CONVERTING)


# -- seeding ------------------------------------------------------------------------------------


def seed_media(
    store: Store,
    partner_id: int,
    privacy_context: str,
    user_ids: list[str],
    entries: int,
    now: float,
) -> None:
    """Create the demo categories and ``entries`` entries for a partner (see module docstring)."""
    rng = random.Random(f"kaltura-sandbox-media:{partner_id}:{privacy_context}")
    users = list(user_ids) or ["admin"]
    participant = DEMO_PARTICIPANT if DEMO_PARTICIPANT in users else users[0]
    partner = store.partner(partner_id)
    has_4k = bool(partner and partner.has_4k)
    with store.tx() as conn:
        categories = _seed_categories(conn, partner_id, privacy_context, int(now))
        _seed_entries(conn, rng, partner_id, users, participant, categories, entries, now, has_4k)
    # Table statistics let SQLite start a search from its most selective condition.
    store.execute("PRAGMA analysis_limit = 1000")
    store.execute("ANALYZE")


@dataclass
class _Category:
    id: int
    key: str
    facts: entitlement.CategoryFacts


def _seed_categories(conn: sqlite3.Connection, partner_id: int, context: str, now: int) -> list[_Category]:
    """Insert ``DEMO_CATEGORIES`` with their members."""
    ids: dict[str, int] = {}
    result = []
    for index, spec in enumerate(DEMO_CATEGORIES):
        ids[spec.key] = category_id(partner_id, index)
        spec_context = context if spec.context is None else spec.context
        ms.add_category(
            conn,
            category_id=ids[spec.key],
            partner_id=partner_id,
            name=spec.name,
            parent_id=ids.get(spec.parent) if spec.parent else None,
            privacy_context=spec_context,
            privacy=spec.privacy,
            now=now,
        )
        for member in spec.members:
            ms.add_category_member(conn, ids[spec.key], member)
        facts = entitlement.CategoryFacts(spec_context, spec.privacy, spec.members)
        result.append(_Category(ids[spec.key], spec.key, facts))
    return result


def _seed_entries(
    conn,
    rng: random.Random,
    partner_id: int,
    users: list[str],
    participant: str,
    categories: list[_Category],
    count: int,
    now: float,
    has_4k: bool,
) -> None:
    """Build every entry in memory, then write entries, categories, access tokens and the
    free-text index. Flavor assets are created on first use (``processing.materialize``)."""
    weights = [spec.weight for spec in DEMO_CATEGORIES]
    owner_weights = [3 if u == participant else 4 for u in users]
    seen_ids: set[str] = set()
    entry_rows: list[tuple[Any, ...]] = []
    category_rows: list[tuple[int, int]] = []
    access_rows: list[tuple[str, int]] = []
    first_seq = (conn.execute("SELECT coalesce(max(seq), 0) FROM media_entries").fetchone()[0]) + 1
    for index in range(count):
        seq = first_seq + index
        entry = _entry(rng, partner_id, users, owner_weights, participant, now, seen_ids, index)
        chosen = _entry_categories(rng, categories, weights, entry, participant)
        entry["categories_ids"] = ",".join(str(c.id) for c in chosen)
        if entry["media_type"] != ms.MEDIA_IMAGE and entry["status"] not in (ms.ENTRY_NO_CONTENT, ms.ENTRY_IMPORT):
            ids = processing.seeded_params_ids(entry["media_type"], has_4k)
            entry["flavor_params_ids"] = ",".join(str(i) for i in ids)
            entry["lazy_flavors"] = 1
        row = {**ms.ENTRY_DEFAULTS, **entry}
        entry_rows.append(tuple(row.get(name) for name in ms.ENTRY_COLUMNS))
        category_rows.extend((c.id, seq) for c in chosen)
        tokens = entitlement.entry_tokens(entry["user_id"], ms.entitled_users(entry), [c.facts for c in chosen])
        access_rows.extend((token, seq) for token in tokens)
    marks = ",".join("?" * len(ms.ENTRY_COLUMNS))
    conn.executemany(
        f"INSERT INTO media_entries(seq, {','.join(ms.ENTRY_COLUMNS)}) VALUES (?, {marks})",
        [(first_seq + i, *row) for i, row in enumerate(entry_rows)],
    )
    conn.executemany("INSERT INTO media_entry_categories(category_id, entry_seq) VALUES (?, ?)", category_rows)
    conn.executemany("INSERT OR IGNORE INTO media_entry_access(token, entry_seq) VALUES (?, ?)", access_rows)
    conn.execute(
        "INSERT INTO media_entries_fts(rowid, name, tags, description, admin_tags, extra, owner) "
        "SELECT e.seq, e.name, e.tags, coalesce(e.description, ''), e.admin_tags, "
        "e.id || ' ' || coalesce(e.reference_id, '') || ' ' || e.user_id, "
        "trim(coalesce(k.first_name, '') || ' ' || coalesce(k.last_name, '') || ' ' || coalesce(k.screen_name, '')) "
        "FROM media_entries e LEFT JOIN kusers k ON k.partner_id = e.partner_id AND k.puser_id = e.user_id "
        "WHERE e.seq >= ?",
        (first_seq,),
    )


def _unique_id(rng: random.Random, seen: set[str]) -> str:
    while True:
        candidate = ms.generate_id(rng)
        if candidate not in seen:
            seen.add(candidate)
            return candidate


def _entry(
    rng: random.Random,
    partner_id: int,
    users: list[str],
    owner_weights: list[int],
    participant: str,
    now: float,
    seen: set[str],
    index: int,
) -> dict[str, Any]:
    """One entry's columns (without categories)."""
    roll = rng.random()
    media_type = ms.MEDIA_VIDEO if roll < 0.6 else ms.MEDIA_IMAGE if roll < 0.85 else ms.MEDIA_AUDIO
    is_360 = media_type != ms.MEDIA_AUDIO and rng.random() < 0.13
    owner = rng.choices(users, weights=owner_weights)[0]
    topic, topic_tags = rng.choice(TOPICS)
    name = _name(rng, media_type, topic, is_360, index)
    width, height = _size(rng, media_type, is_360)
    ms_duration = _duration_ms(rng, media_type)
    created = int(now) - rng.randrange(HISTORY_DAYS * SECONDS_PER_DAY)
    updated = min(int(now), created + rng.randrange(30 * SECONDS_PER_DAY))
    plays = int(rng.paretovariate(1.2) * 20) - 20 if media_type != ms.MEDIA_IMAGE else 0
    tags = [*topic_tags.split(","), _kind_tag(media_type)]
    if is_360:
        tags.insert(0, "360")
    entry = {
        "id": _unique_id(rng, seen),
        "partner_id": partner_id,
        "name": name,
        "description": _description(rng, topic, media_type, owner),
        "user_id": owner,
        "creator_id": owner,
        "tags": ms.normalize_tags(",".join(tags)),
        "admin_tags": "",
        "media_type": media_type,
        "status": _status(rng, media_type),
        "created_at": created,
        "updated_at": updated,
        "plays": max(0, plays),
        "views": max(0, plays) + rng.randrange(0, 50),
        "last_played_at": updated if plays > 0 else None,
        "ms_duration": ms_duration,
        "duration": round(ms_duration / 1000),
        "width": width,
        "height": height,
        "reference_id": f"ref-{partner_id}-{index:06d}" if rng.random() < 0.3 else None,
        "license_type": -1,
        "entitled_edit": "",
        "entitled_publish": "",
        "entitled_view": "",
        "conversion_profile_id": processing.default_profile_id(partner_id),
        "version": 0 if media_type == ms.MEDIA_IMAGE else 1,
        "thumb_version": 100000 + rng.randrange(1, 9),
        "color": rng.choice(PALETTE),
    }
    _share(rng, entry, users, participant)
    return entry


def _name(rng: random.Random, media_type: int, topic: str, is_360: bool, index: int) -> str:
    kinds = {ms.MEDIA_VIDEO: VIDEO_KINDS, ms.MEDIA_IMAGE: IMAGE_KINDS}.get(media_type, AUDIO_KINDS)
    kind = rng.choice(kinds).format(n=rng.randrange(1, 25), q=rng.randrange(1, 5), year=rng.choice((2024, 2025, 2026)))
    prefix = "360° " if is_360 else ""
    name = f"{prefix}{topic} \u2013 {kind}"
    if index >= LARGE_PARTNER_NUMBERING:  # large partners: keep names distinguishable
        name += f" #{index}"
    return name


def _kind_tag(media_type: int) -> str:
    return {ms.MEDIA_VIDEO: "video", ms.MEDIA_IMAGE: "photo"}.get(media_type, "audio")


def _description(rng: random.Random, topic: str, media_type: int, owner: str) -> str:
    template = rng.choice(DESCRIPTIONS)
    media_word = {ms.MEDIA_VIDEO: "video", ms.MEDIA_IMAGE: "photo"}.get(media_type, "recording")
    return template.format(
        team=rng.choice(TEAMS),
        topic=topic,
        topic_lower=topic.lower(),
        media_word=media_word,
        owner_name=owner.split("@")[0],
    )


def _size(rng: random.Random, media_type: int, is_360: bool) -> tuple[int | None, int | None]:
    if media_type == ms.MEDIA_AUDIO:
        return None, None
    if is_360:
        return rng.choice(PANORAMA_SIZES)
    return rng.choice(VIDEO_SIZES if media_type == ms.MEDIA_VIDEO else IMAGE_SIZES)


def _duration_ms(rng: random.Random, media_type: int) -> int:
    if media_type == ms.MEDIA_IMAGE:
        return 0
    if media_type == ms.MEDIA_AUDIO:
        return rng.randrange(45, 3600) * 1000 + rng.randrange(1000)
    seconds = min(5400, max(8, int(rng.lognormvariate(5.0, 1.0))))
    return seconds * 1000 + rng.randrange(1000)


def _status(rng: random.Random, media_type: int) -> int:
    if rng.random() >= 0.08:
        return ms.ENTRY_READY
    if media_type == ms.MEDIA_IMAGE:
        return ms.ENTRY_NO_CONTENT
    return rng.choice(NOT_READY)


def _share(rng: random.Random, entry: dict, users: list[str], participant: str) -> None:
    """Share a few entries with the participant (publish or view) and some with others."""
    if entry["user_id"] != participant:
        roll = rng.random()
        if roll < 0.03:
            entry["entitled_publish"] = participant
        elif roll < 0.06:
            entry["entitled_view"] = participant
    if rng.random() < 0.05:
        other = rng.choice(users)
        if other != entry["user_id"]:
            column = "entitled_edit" if rng.random() < 0.3 else "entitled_view"
            entry[column] = ",".join([*ms.split_list(entry[column]), other])


def _entry_categories(
    rng: random.Random, categories: list[_Category], weights: list[int], entry: dict, participant: str
) -> list[_Category]:
    """About 15% of entries have no category (more of them for entries shared with the
    participant, so sharing is what makes them visible); the rest have one or two."""
    shared = participant in ms.entitled_users(entry)
    if rng.random() < (0.5 if shared else 0.15):
        return []
    chosen = rng.choices(categories, weights=weights)
    if rng.random() < 0.12:
        extra = rng.choices(categories, weights=weights)[0]
        if extra.id != chosen[0].id:
            chosen.append(extra)
    return chosen


# -- known datasets through the control surface ------------------------------------------------------

#: ``POST /__control/entries`` item fields (Kaltura names) -> entry columns.
_TEXT_FIELDS = {
    "name": "name",
    "description": "description",
    "userId": "user_id",
    "creatorId": "creator_id",
    "referenceId": "reference_id",
    "color": "color",
}
_INT_FIELDS = {
    "mediaType": "media_type",
    "status": "status",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "plays": "plays",
    "views": "views",
    "lastPlayedAt": "last_played_at",
    "msDuration": "ms_duration",
    "width": "width",
    "height": "height",
    "startDate": "start_date",
    "endDate": "end_date",
    "displayInSearch": "display_in_search",
    "moderationStatus": "moderation_status",
}
_LIST_FIELDS = {
    "entitledUsersEdit": "entitled_edit",
    "entitledUsersPublish": "entitled_publish",
    "entitledUsersView": "entitled_view",
}


def seed_categories(store: Store, partner_id: int, specs: list[dict[str, Any]], now: float) -> list[int]:
    """Create categories from control-surface specs (``name``, optional ``id``, ``parentId``,
    ``privacyContext`` (default none), ``privacy`` (default ALL), ``members``); returns their ids."""
    created = []
    with store.tx() as conn:
        next_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM media_categories").fetchone()[0]) + 1
        for spec in specs:
            if not isinstance(spec, dict) or not str(spec.get("name") or "").strip():
                raise ValueError("every category needs a name")
            category_id = int(spec.get("id") or next_id)
            next_id = max(next_id, category_id) + 1
            parent = spec.get("parentId")
            ms.add_category(
                conn,
                category_id=category_id,
                partner_id=partner_id,
                name=str(spec["name"]),
                parent_id=None if parent in (None, "") else int(parent),
                privacy_context=str(spec.get("privacyContext") or ""),
                privacy=int(spec.get("privacy") or PRIVACY_ALL),
                now=int(now),
            )
            for member in spec.get("members") or ():
                ms.add_category_member(conn, category_id, str(member))
            created.append(category_id)
    return created


def seed_entries(store: Store, partner_id: int, specs: list[dict[str, Any]], now: float) -> list[str]:
    """Create entries from control-surface specs: any of the fields above, ``tags``/``adminTags``
    (normalised like Kaltura's), ``categoriesIds`` and ``entitledUsers*`` (comma lists). Owners
    and entitled users that do not exist are created. Defaults: a READY video owned by ``admin``,
    created now. Returns the entry ids, in order."""
    partner = store.partner(partner_id)
    if partner is None:
        raise ValueError(f"unknown partner {partner_id}")
    ids = []
    with store.tx() as conn:
        for spec in specs:
            if not isinstance(spec, dict):
                raise ValueError("every entry must be an object")
            entry = _entry_columns(store, partner_id, spec, now, partner.has_4k)
            for user in {entry["user_id"], entry["creator_id"], *ms.entitled_users(entry)}:
                store.ensure_user(partner_id, user, now)
            seq = ms.insert_entry(conn, entry)
            categories = [int(c) for c in ms.split_list(str(spec.get("categoriesIds") or ""))]
            ms.set_entry_categories(conn, seq, ms.existing_category_ids(store, partner_id, categories))
            ms.refresh_access(conn, seq)
            ids.append(entry["id"])
    return ids


def _entry_columns(store: Store, partner_id: int, spec: dict[str, Any], now: float, has_4k: bool) -> dict[str, Any]:
    """The columns of one control-surface entry."""
    entry: dict[str, Any] = {
        "id": str(spec.get("id") or ms.generate_id()),
        "partner_id": partner_id,
        "name": "",
        "user_id": "admin",
        "media_type": ms.MEDIA_VIDEO,
        "status": ms.ENTRY_READY,
        "created_at": int(now),
        "conversion_profile_id": processing.default_profile_id(partner_id),
        "version": 1,
    }
    for field, column in _TEXT_FIELDS.items():
        if spec.get(field) is not None:
            entry[column] = str(spec[field])
    for field, column in _INT_FIELDS.items():
        if spec.get(field) is not None:
            entry[column] = int(spec[field])
    for field, column in _LIST_FIELDS.items():
        entry[column] = ",".join(dict.fromkeys(ms.split_list(str(spec.get(field) or ""))))
    entry["tags"] = ms.normalize_tags(spec.get("tags"))
    entry["admin_tags"] = ms.normalize_tags(spec.get("adminTags"))
    entry.setdefault("creator_id", entry["user_id"])
    entry.setdefault("updated_at", entry["created_at"])
    entry["duration"] = round((entry.get("ms_duration") or 0) / 1000)
    if entry["media_type"] == ms.MEDIA_IMAGE:
        entry["version"] = 0
    elif entry["status"] not in (ms.ENTRY_NO_CONTENT, ms.ENTRY_IMPORT):
        entry["flavor_params_ids"] = ",".join(str(i) for i in processing.seeded_params_ids(entry["media_type"], has_4k))
        entry["lazy_flavors"] = 1
    if store.scalar("SELECT 1 FROM media_entries WHERE id = ?", (entry["id"],)):
        raise ValueError(f"entry {entry['id']} already exists")
    return entry
