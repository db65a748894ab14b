"""``media.*`` and ``baseEntry.list``: listing, reading, creating and changing media entries.

Lists follow Kaltura's rules (reference §4.1, §5): READY entries only unless the filter asks for
statuses; ``pageSize`` clamped to [0, 500] and ``pageIndex`` to >= 1; an offset of 10,000 or
more fails with ``QUERY_EXCEEDED_MAX_MATCHES_ALLOWED``; a USER session without ``list:*`` sees
only its own entries; entitlement (privacy contexts, categories, entitledUsers*) restricts the
rest. ``media.get`` applies the single-entry entitlement check: an entry the KS may not see is
``ENTRY_ID_NOT_FOUND``.

Writes follow reference §4.4 and §6.3: ``media.add`` creates a NO_CONTENT entry owned by the KS
user (only an ADMIN session may name another owner, who is created if missing);
``media.addContent`` attaches an upload token, which starts processing (or waits for the upload
to finish); ``media.update`` changes only the properties sent; ``media.delete`` marks the entry
DELETED. Changing someone else's entry without an ADMIN session, ``edit`` privilege or
``entitledUsersEdit`` membership is ``INVALID_KS "", "-4,INVALID_TYPE"``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from .. import delivery, entitlement, processing, registry, search
from .. import media_store as ms
from ..context import Call
from ..errors import ApiError
from ..params import coerce_enum, coerce_int, coerce_str, coerce_time
from ..registry import action

MAX_PAGE_SIZE = 500
USER_BLOCKED, USER_DELETED = 0, 2
DEFAULT_PAGE_SIZE = 30
MAX_MATCHES = 10_000
MAX_IN_VALUES = 500

#: ``KalturaMediaEntryOrderBy`` (with ``KalturaPlayableEntryOrderBy``/``KalturaBaseEntryOrderBy``,
#: reference §4.1) -> the column it sorts. Fields the sandbox keeps at one value for every entry
#: (moderationCount, rank, totalRank, partnerSortValue) sort as ties; ``weight`` (search relevance)
#: too. Sphinx sorts a missing date as 0, which SQLite's NULLs-first ascending order matches.
ORDER_COLUMNS = {
    "createdAt": "e.created_at",
    "updatedAt": "e.updated_at",
    "name": "e.name COLLATE NOCASE",
    "plays": "e.plays",
    "views": "e.views",
    "duration": "e.duration",
    "mediaType": "e.media_type",
    "lastPlayedAt": "e.last_played_at",
    "startDate": "e.start_date",
    "endDate": "e.end_date",
    "moderationCount": "NULL",
    "rank": "NULL",
    "totalRank": "NULL",
    "partnerSortValue": "NULL",
    "weight": "NULL",
}
#: ``available_from``: the start date when one is set, else the creation time
#: (``entry::setStartDate``/``setCreatedAt``); what ``recent`` sorts by.
AVAILABLE_FROM = "coalesce(e.start_date, e.created_at)"
DEFAULT_ORDER = "e.created_at DESC, e.seq DESC"

# Permission items (deployment/permissions/service.media.ini, service.baseentry.ini).
MEDIA_LIST = (
    registry.PLAYLIST_ADD,
    registry.PLAYLIST_UPDATE,
    registry.PLAYLIST_BASE,
    registry.CONTENT_MODERATE_BASE,
    registry.CONTENT_MANAGE_BASE,
    registry.BASE_USER_SESSION,
    registry.WIDGET_SESSION,
)
BASE_ENTRY_LIST = (*MEDIA_LIST, registry.KMC_READ_ONLY, registry.PLAYBACK_BASE)
BASE_ENTRY_GET = (
    registry.CONTENT_MANAGE_BASE,
    registry.KMC_READ_ONLY,
    registry.BASE_USER_SESSION,
    registry.WIDGET_SESSION,
    registry.PLAYBACK_BASE,
    registry.CAPTURE_DEVICE,
)
MEDIA_ADD = (
    registry.CONTENT_INGEST_ORPHAN_VIDEO,
    registry.CONTENT_INGEST_ORPHAN_AUDIO,
    registry.LIVE_STREAM_ADD,
    registry.CONTENT_INGEST_UPLOAD,
    registry.CONTENT_MANAGE_BASE,
    registry.BASE_USER_SESSION,
    registry.CAPTURE_DEVICE,
)
ENTRY_UPDATE = (
    registry.CONTENT_MANAGE_SCHEDULE,
    registry.CONTENT_MANAGE_ACCESS_CONTROL,
    registry.CONTENT_MANAGE_METADATA,
    registry.CONTENT_MODERATE_METADATA,
    registry.CONTENT_MANAGE_THUMBNAIL,
    registry.CONTENT_INGEST_UPLOAD,
    registry.CONTENT_MANAGE_ASSIGN_CATEGORIES,
    registry.BASE_USER_SESSION,
    registry.CAPTURE_DEVICE,
)
ENTRY_DELETE = (registry.CONTENT_MANAGE_DELETE, registry.BASE_USER_SESSION)

MEDIA_FILTERS = ("KalturaMediaEntryFilter", "KalturaMediaEntryBaseFilter", "KalturaMediaEntryFilterForPlaylist")


# -- scope and permissions -----------------------------------------------------------------------


def scope_of(call: Call) -> entitlement.Scope:
    """The entitlement scope of the calling KS."""
    partner = call.store.partner(call.partner_id)
    return entitlement.scope_for(call.session, bool(partner and partner.entitlement_enabled))


def invalid_type() -> ApiError:
    """``INVALID_KS "", "-4,INVALID_TYPE"``: the session may not touch this entry/owner."""
    return ApiError("INVALID_KS", KSID="", ERR_CODE="-4", ERR_DESC="INVALID_TYPE")


def visible_entry(call: Call, entry_id: str | None):
    """The entry if it exists (not deleted) and the KS may see it, else ``ENTRY_ID_NOT_FOUND``."""
    processing.settle(call.store, call.now())
    entry = ms.get_entry(call.store, call.require_partner(), entry_id or "")
    if entry is None or not entry_visible(call, entry, scope_of(call)):
        raise ApiError("ENTRY_ID_NOT_FOUND", ENTRY_ID=entry_id)
    return entry


def entry_visible(call: Call, entry, scope: entitlement.Scope) -> bool:
    """The single-entry entitlement check for one entry row."""
    return entitlement.entry_visible(
        scope,
        entry_id=entry["id"],
        owner=entry["user_id"],
        entitled_users=ms.entitled_users(entry),
        categories=ms.entry_category_facts(call.store, entry["seq"]),
    )


def visible_entry_ids(call: Call, entry_ids: list[str]) -> list[str]:
    """The ids (in order) of existing entries among ``entry_ids`` that the KS may see."""
    if not entry_ids:
        return []
    scope = scope_of(call)
    marks = ",".join("?" * len(entry_ids))
    rows = call.store.query(
        f"SELECT * FROM media_entries WHERE partner_id = ? AND status != ? AND id IN ({marks})",
        (call.require_partner(), ms.ENTRY_DELETED, *entry_ids),
    )
    by_id = {row["id"]: row for row in rows}
    facts = ms.entries_category_facts(call.store, [row["seq"] for row in rows]) if scope.enforced else {}
    visible = []
    for entry_id in entry_ids:
        row = by_id.get(entry_id)
        if row is not None and entitlement.entry_visible(
            scope,
            entry_id=row["id"],
            owner=row["user_id"],
            entitled_users=ms.entitled_users(row),
            categories=facts.get(row["seq"], []),
        ):
            visible.append(entry_id)
    return visible


def editable_entry(call: Call, entry_id: str | None):
    """The entry if the KS may change it (see ``entitlement.may_edit``)."""
    entry = visible_entry(call, entry_id)
    allowed = entitlement.may_edit(
        call.session,
        entry_id=entry["id"],
        owner=entry["user_id"],
        entitled_edit=ms.split_list(entry["entitled_edit"]),
    )
    if not allowed:
        raise invalid_type()
    return entry


# -- the API object ------------------------------------------------------------------------------


def duration_type(seconds: int | None) -> str:
    """``durationType``: short (<= 4 min), medium (<= 20 min), long, or notavailable."""
    if seconds is None or seconds < 0:
        return "notavailable"
    if seconds <= 240:
        return "short"
    return "medium" if seconds <= 1200 else "long"


def entry_object(call: Call, entry, category_names: dict[int, str] | None = None) -> dict:
    """A ``KalturaMediaEntry``, properties in the server's parent-first order."""
    base = call.base_url
    show_categories = not (call.session and call.session.privacy_context)
    ids = [int(i) for i in ms.split_list(entry["categories_ids"])]
    names = category_names if category_names is not None else ms.category_full_names(call.store, ids)
    return {
        "objectType": "KalturaMediaEntry",
        "relatedObjects": None,
        **_base_entry_fields(entry, base, show_categories, ids, names),
        "plays": entry["plays"],
        "views": entry["views"],
        "lastPlayedAt": entry["last_played_at"],
        "width": entry["width"],
        "height": entry["height"],
        "duration": entry["duration"],
        "msDuration": entry["ms_duration"],
        "durationType": duration_type(entry["duration"]),
        "mediaType": entry["media_type"],
        "conversionQuality": entry["conversion_profile_id"],
        "sourceType": "1",
        "searchProviderType": None,
        "searchProviderId": None,
        "creditUserName": None,
        "creditUrl": None,
        "mediaDate": None,
        "dataUrl": delivery.data_url(base, entry),
        "flavorParamsIds": entry["flavor_params_ids"],
        "isTrimDisabled": None,
        "streams": None,
    }


def _base_entry_fields(entry, base: str, show_categories: bool, ids: list[int], names: dict[int, str]) -> dict:
    """The ``KalturaBaseEntry`` part of an entry object."""
    return {
        "id": entry["id"],
        "name": entry["name"],
        "description": entry["description"],
        "partnerId": entry["partner_id"],
        "userId": entry["user_id"],
        "creatorId": entry["creator_id"],
        "tags": entry["tags"],
        "adminTags": entry["admin_tags"] or None,
        "categories": ",".join(names[i] for i in ids if i in names) if show_categories else None,
        "categoriesIds": entry["categories_ids"] if show_categories else None,
        "status": entry["status"],
        "moderationStatus": entry["moderation_status"],
        "moderationCount": 0,
        "type": 1,
        "createdAt": entry["created_at"],
        "updatedAt": entry["updated_at"],
        "rank": 0,
        "totalRank": 0,
        "votes": 0,
        "groupId": None,
        "partnerData": entry["partner_data"],
        "downloadUrl": delivery.download_url(base, entry),
        "searchText": f"_PAR_ONLY_ _{entry['partner_id']}_ _MEDIA_TYPE_{entry['media_type']}|  "
        f"{entry['name']} {entry['tags']} {entry['description'] or ''}".rstrip(),
        "licenseType": entry["license_type"],
        "version": entry["version"],
        "thumbnailUrl": delivery.thumbnail_url(base, entry["partner_id"], entry["id"], entry["thumb_version"]),
        "accessControlId": 1,
        "startDate": entry["start_date"],
        "endDate": entry["end_date"],
        "referenceId": entry["reference_id"],
        "replacingEntryId": None,
        "replacedEntryId": None,
        "replacementStatus": "0",
        "partnerSortValue": 0,
        "conversionProfileId": entry["conversion_profile_id"],
        "redirectEntryId": None,
        "rootEntryId": entry["id"],
        "parentEntryId": None,
        "operationAttributes": [],
        "entitledUsersEdit": entry["entitled_edit"],
        "entitledUsersPublish": entry["entitled_publish"],
        "entitledUsersView": entry["entitled_view"],
        "capabilities": "",
        "templateEntryId": None,
        "displayInSearch": entry["display_in_search"],
        "application": None,
        "applicationVersion": None,
        "blockAutoTranscript": False,
    }


def entry_objects(call: Call, rows: list) -> list[dict]:
    """Entry objects for a page of rows, resolving category names once."""
    ids = {int(i) for row in rows for i in ms.split_list(row["categories_ids"])}
    names = ms.category_full_names(call.store, ids)
    return [entry_object(call, row, names) for row in rows]


# -- list filters --------------------------------------------------------------------------------


@dataclass
class Query:
    """SQL conditions (ANDed) and parameters accumulated from a filter."""

    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    #: A condition that few entries meet (free text, ids, owner, categories): counting then
    #: starts from those entries instead of from everything entitlement allows.
    selective: bool = False

    def add(self, condition: str, *params: Any) -> None:
        self.where.append(condition)
        self.params.extend(params)

    def add_selective(self, condition: str, *params: Any) -> None:
        self.add(condition, *params)
        self.selective = True

    def add_in(self, column: str, values: list, negate: bool = False) -> None:
        if not values:
            self.add("1" if negate else "0")
            return
        marks = ",".join("?" * len(values))
        self.add(f"{column} {'NOT IN' if negate else 'IN'} ({marks})", *values)


def _text(flt: dict, name: str) -> str | None:
    value = coerce_str(flt.get(name), name)
    return value if value not in (None, "") else None


def _int_list(value: str | None, name: str) -> list[int]:
    return [coerce_int(v, name) or 0 for v in ms.split_list(value)][:MAX_IN_VALUES]


def _match(query: Query, expression: str, columns: tuple[str, ...] | str) -> None:
    """Restrict to entries whose free-text document matches ``expression`` in ``columns``."""
    query.add_selective(
        "e.seq IN (SELECT rowid FROM media_entries_fts WHERE media_entries_fts MATCH ?)",
        search.in_columns(columns, expression),
    )


def _no_match(query: Query) -> None:
    """The filter can match nothing: an empty list, as Kaltura's index answers."""
    query.add_selective("0")


#: ``*Like`` filters (``baseObjectFilter::LIKE``) and the index columns they search.
LIKE_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nameLike", ("name",)),
    ("tagsLike", ("tags",)),
    ("descriptionLike", ("description",)),
    ("adminTagsLike", ("admin_tags",)),
)
#: ``*MultiLike*`` filters: (name, columns, all values must match, combined fields).
MULTI_LIKE_FILTERS: tuple[tuple[str, tuple[str, ...], bool, bool], ...] = (
    ("nameMultiLikeOr", ("name",), False, False),
    ("nameMultiLikeAnd", ("name",), True, False),
    ("tagsMultiLikeOr", ("tags",), False, False),
    ("tagsMultiLikeAnd", ("tags",), True, False),
    ("adminTagsMultiLikeOr", ("admin_tags",), False, False),
    ("adminTagsMultiLikeAnd", ("admin_tags",), True, False),
    ("tagsNameMultiLikeOr", ("tags", "name"), False, True),
    ("tagsNameMultiLikeAnd", ("tags", "name"), True, True),
    ("tagsAdminTagsMultiLikeOr", ("tags", "admin_tags"), False, True),
    ("tagsAdminTagsMultiLikeAnd", ("tags", "admin_tags"), True, True),
    ("tagsAdminTagsNameMultiLikeOr", ("tags", "admin_tags", "name"), False, True),
    ("tagsAdminTagsNameMultiLikeAnd", ("tags", "admin_tags", "name"), True, True),
)


def _apply_text_filters(call: Call, query: Query, flt: dict) -> None:
    """``freeText``, ``*Like`` and ``*MultiLike*``: Kaltura's search-index semantics (``search.py``,
    reference §4.1; ``SphinxCriteria.php`` L778-968, L1285-1351)."""
    free_text = _text(flt, "freeText")
    if free_text is not None:
        _apply_free_text(call, query, free_text)
    for name, columns in LIKE_FILTERS:
        value = _text(flt, name)
        if value is None:
            continue
        try:
            _match(query, search.like_expression(value), columns)
        except search.NoMatch:
            _no_match(query)
    for name, columns, match_all, combined in MULTI_LIKE_FILTERS:
        value = _text(flt, name)
        if value is None:
            continue
        try:
            expression = search.multi_like_expression(value, match_all=match_all, combined_fields=combined)
        except search.NoMatch:
            _no_match(query)
            continue
        _match(query, expression, columns)
    if _text(flt, "nameEqual") is not None:
        query.add("e.name = ?", _text(flt, "nameEqual"))


def _apply_free_text(call: Call, query: Query, text: str) -> None:
    """``freeText``: words (AND), comma alternatives (OR), ``word*`` prefixes, ``"whole field"``."""
    try:
        parsed = search.parse_free_text(text)
    except search.NoMatch:
        _no_match(query)
        return
    if parsed.expression is not None:
        _match(query, parsed.expression, search.FREE_TEXT_COLUMNS)
        return
    tokens = parsed.whole_field or ()
    seqs = _whole_field_seqs(call, tokens)
    if not seqs:
        _no_match(query)
        return
    query.add_selective(f"e.seq IN ({','.join('?' * len(seqs))})", *seqs)


def _whole_field_seqs(call: Call, tokens: tuple[str, ...]) -> list[int]:
    """Entries with a field made of exactly these words (``^text$`` over ``FREE_TEXT_FIELDS``).

    The index finds the entries holding the words as a phrase; each is then checked field by
    field: name, tags, description, entry id, reference id, owner id, owner names.
    """
    phrase = search.in_columns(search.FREE_TEXT_COLUMNS, '"' + " ".join(tokens) + '"')
    rows = call.store.query(
        "SELECT e.seq, e.name, e.tags, e.description, e.id, e.reference_id, e.user_id, "
        "k.first_name, k.last_name, k.screen_name FROM media_entries e "
        "LEFT JOIN kusers k ON k.partner_id = e.partner_id AND k.puser_id = e.user_id "
        "WHERE e.partner_id = ? AND e.seq IN "
        "(SELECT rowid FROM media_entries_fts WHERE media_entries_fts MATCH ?)",
        (call.require_partner(), phrase),
    )
    matched = []
    for row in rows:
        names = " ".join(part for part in (row["first_name"], row["last_name"], row["screen_name"]) if part)
        fields = [row["name"], row["tags"], row["description"], row["id"], row["reference_id"], row["user_id"], names]
        if search.whole_field_matches(tokens, fields):
            matched.append(row["seq"])
    return matched


def _apply_id_filters(query: Query, flt: dict) -> None:
    if _text(flt, "idEqual") is not None:
        query.add_selective("e.id = ?", _text(flt, "idEqual"))
    if _text(flt, "idIn") is not None:
        query.add_in("e.id", ms.split_list(_text(flt, "idIn"))[:MAX_IN_VALUES])
        query.selective = True
    if _text(flt, "idNotIn") is not None:
        query.add_in("e.id", ms.split_list(_text(flt, "idNotIn")), negate=True)
    if _text(flt, "referenceIdEqual") is not None:
        query.add_selective("e.reference_id = ?", _text(flt, "referenceIdEqual"))
    if _text(flt, "referenceIdIn") is not None:
        query.add_in("e.reference_id", ms.split_list(_text(flt, "referenceIdIn")))
        query.selective = True


def _apply_status_filters(query: Query, flt: dict) -> None:
    """Status filters, with Kaltura's READY-only default (none of it when idEqual is set)."""
    status_equal = coerce_enum(flt.get("statusEqual"), "statusEqual", ms.ENTRY_STATUSES, "KalturaEntryStatus")
    status_in = _text(flt, "statusIn")
    status_not_equal = coerce_enum(flt.get("statusNotEqual"), "statusNotEqual", ms.ENTRY_STATUSES, "KalturaEntryStatus")
    status_not_in = _text(flt, "statusNotIn")
    if status_equal is not None:
        query.add("e.status = ?", status_equal)
    if status_in is not None:
        query.add_in("e.status", _int_list(status_in, "statusIn"))
    if status_not_equal is not None:
        query.add("e.status != ?", status_not_equal)
    if status_not_in is not None:
        query.add_in("e.status", _int_list(status_not_in, "statusNotIn"), negate=True)
    explicit = any(v is not None for v in (status_equal, status_in, status_not_equal, status_not_in))
    if not explicit and _text(flt, "idEqual") is None:
        query.add("e.status = ?", ms.ENTRY_READY)
    if not explicit or ms.ENTRY_DELETED not in _requested_statuses(status_equal, status_in):
        query.add("e.status != ?", ms.ENTRY_DELETED)


def _requested_statuses(status_equal: int | None, status_in: str | None) -> set[int]:
    statuses = set(_int_list(status_in, "statusIn")) if status_in else set()
    if status_equal is not None:
        statuses.add(status_equal)
    return statuses


def _apply_owner_filters(query: Query, flt: dict) -> None:
    for name, column in (("userIdEqual", "e.user_id"), ("creatorIdEqual", "e.creator_id")):
        if _text(flt, name) is not None:
            query.add_selective(f"{column} = ?", _text(flt, name))
    if _text(flt, "userIdIn") is not None:
        query.add_in("e.user_id", ms.split_list(_text(flt, "userIdIn")))
    if _text(flt, "userIdNotIn") is not None:
        query.add_in("e.user_id", ms.split_list(_text(flt, "userIdNotIn")), negate=True)


#: ``entitledUsers*Match*`` (``KalturaBaseEntryFilter`` L17-22: ``_matchor_entitled_kusers_*``)
#: and the entry column holding that list.
ENTITLED_USER_FILTERS = (
    ("entitledUsersEditMatchOr", "entitled_edit", False),
    ("entitledUsersEditMatchAnd", "entitled_edit", True),
    ("entitledUsersPublishMatchOr", "entitled_publish", False),
    ("entitledUsersPublishMatchAnd", "entitled_publish", True),
    ("entitledUsersViewMatchOr", "entitled_view", False),
    ("entitledUsersViewMatchAnd", "entitled_view", True),
)


def _apply_entitled_user_filters(query: Query, flt: dict) -> None:
    """Entries whose ``entitledUsersEdit``/``Publish``/``View`` list holds any (Or) or every
    (And) of the given user ids (reference §4.1)."""
    for name, column, match_all in ENTITLED_USER_FILTERS:
        value = _text(flt, name)
        if value is None:
            continue
        users = ms.split_list(value)[:MAX_IN_VALUES]
        if not users:
            _no_match(query)
            continue
        # The list is stored comma-separated without spaces; wrapping it in commas makes each
        # id a whole item.
        member = f"(',' || e.{column} || ',') LIKE ? ESCAPE '\\'"
        conditions = [member] * len(users)
        patterns = [f"%,{_like_escape(user)},%" for user in users]
        query.add_selective(f" {'AND' if match_all else 'OR'} ".join(conditions), *patterns)


def _like_escape(text: str) -> str:
    """Escape SQL ``LIKE`` wildcards (a user id may contain ``%`` or ``_``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _apply_media_filters(query: Query, flt: dict) -> None:
    media_type = coerce_enum(flt.get("mediaTypeEqual"), "mediaTypeEqual", ms.MEDIA_TYPES, "KalturaMediaType")
    if media_type is not None:
        query.add("e.media_type = ?", media_type)
    if _text(flt, "mediaTypeIn") is not None:
        query.add_in("e.media_type", _int_list(_text(flt, "mediaTypeIn"), "mediaTypeIn"))
    for name, operator in (
        ("durationLessThan", "<"),
        ("durationLessThanOrEqual", "<="),
        ("durationGreaterThan", ">"),
        ("durationGreaterThanOrEqual", ">="),
    ):
        value = coerce_int(flt.get(name), name)
        if value is not None:
            query.add(f"e.duration {operator} ?", value)


def _apply_category_filters(call: Call, query: Query, flt: dict) -> None:
    in_categories = "e.seq IN (SELECT entry_seq FROM media_entry_categories WHERE status = 2 AND category_id IN ({}))"
    match_or = _int_list(_text(flt, "categoriesIdsMatchOr"), "categoriesIdsMatchOr")
    names = ms.split_list(_text(flt, "categoriesMatchOr"))
    if names:
        match_or += ms.category_ids_by_full_names(call.store, call.require_partner(), names)
    if _text(flt, "categoriesIdsMatchOr") is not None or names:
        if match_or:
            query.add_selective(in_categories.format(",".join("?" * len(match_or))), *match_or)
        else:
            query.add("0")
    for category_id in _int_list(_text(flt, "categoriesIdsMatchAnd"), "categoriesIdsMatchAnd"):
        query.add(in_categories.format("?"), category_id)
    for category_id in _int_list(_text(flt, "categoriesIdsNotContains"), "categoriesIdsNotContains"):
        query.add("NOT " + in_categories.format("?"), category_id)
    ancestors = _text(flt, "categoryAncestorIdIn")
    if ancestors is not None:
        # Entries in these categories or any category below them (reference §4.1).
        subtree = _category_subtree(call, _int_list(ancestors, "categoryAncestorIdIn"))
        if subtree:
            query.add_selective(in_categories.format(",".join("?" * len(subtree))), *subtree)
        else:
            _no_match(query)
    empty = coerce_enum(flt.get("categoriesIdsEmpty"), "categoriesIdsEmpty", (-1, 0, 1), "KalturaNullableBoolean")
    if empty in (0, 1):
        query.add("e.categories_ids = ''" if empty == 1 else "e.categories_ids != ''")


def _category_subtree(call: Call, roots: list[int]) -> list[int]:
    """The given categories of the partner and every category below them."""
    children: dict[int | None, list[int]] = {}
    for cid, row in ms.categories(call.store, call.require_partner()).items():
        children.setdefault(row["parent_id"], []).append(cid)
    known = {cid for ids in children.values() for cid in ids}
    found: list[int] = []
    pending = [cid for cid in roots if cid in known]
    while pending:
        cid = pending.pop()
        if cid not in found:
            found.append(cid)
            pending.extend(children.get(cid, []))
    return found


def _apply_time_filters(call: Call, query: Query, flt: dict) -> None:
    for name, column, operator in (
        ("createdAtGreaterThanOrEqual", "e.created_at", ">="),
        ("createdAtLessThanOrEqual", "e.created_at", "<="),
        ("updatedAtGreaterThanOrEqual", "e.updated_at", ">="),
        ("updatedAtLessThanOrEqual", "e.updated_at", "<="),
    ):
        value = coerce_time(flt.get(name), name, call.now())
        if value is not None:
            query.add(f"{column} {operator} ?", value)


def order_clause(order_by: str | None) -> str:
    """SQL ``ORDER BY`` for Kaltura's ``orderBy`` (comma list of ``+field``/``-field``).

    ``recent`` and ``-recent`` sort by ``available_from``, newest first, and ``+recent`` oldest
    first (reference §4.1; ``SphinxEntryCriteria.php`` L268-278, which the reference misreads as
    "all newest first"). Unknown values are dropped; with none left the list is newest first.
    """
    terms = []
    for item in ms.split_list(order_by):
        if item in ("recent", "-recent", "+recent"):
            terms.append(f"{AVAILABLE_FROM} {'ASC' if item == '+recent' else 'DESC'}")
            continue
        direction, name = ("DESC", item[1:]) if item.startswith("-") else ("ASC", item.lstrip("+"))
        column = ORDER_COLUMNS.get(name)
        if column:
            terms.append(f"{column} {direction}")
    if not terms:
        return DEFAULT_ORDER
    return ", ".join(terms) + ", e.seq DESC"


def _apply_order_filters(call: Call, query: Query, order_by: str | None) -> None:
    """``recent``/``-recent`` also leave out entries not available yet (a start date in the
    future): ``_lte_available_from = now`` (``SphinxEntryCriteria.php`` L268-272)."""
    if any(item in ("recent", "-recent") for item in ms.split_list(order_by)):
        query.add(f"{AVAILABLE_FROM} <= ?", int(call.now()))


def build_query(call: Call, flt: dict, *, media_fields: bool) -> Query:
    """Every filter condition of an entry list (without entitlement)."""
    query = Query()
    query.add("e.partner_id = ?", call.require_partner())
    _apply_id_filters(query, flt)
    _apply_status_filters(query, flt)
    _apply_text_filters(call, query, flt)
    _apply_owner_filters(query, flt)
    _apply_entitled_user_filters(query, flt)
    _apply_category_filters(call, query, flt)
    _apply_time_filters(call, query, flt)
    _apply_order_filters(call, query, _text(flt, "orderBy"))
    if media_fields:
        _apply_media_filters(query, flt)
    return query


def pager_window(call: Call, *, search_index: bool = True) -> tuple[int, int]:
    """(limit, offset) from ``pager``: size clamped to [0, 500], index >= 1.

    Lists answered by Kaltura's search index (entries) refuse offsets of 10,000 or more with
    ``QUERY_EXCEEDED_MAX_MATCHES_ALLOWED``; database-backed lists (``search_index=False``) do not.
    """
    pager = call.obj("pager", type_name="KalturaFilterPager")
    size = coerce_int(pager.get("pageSize"), "pageSize")
    index = coerce_int(pager.get("pageIndex"), "pageIndex")
    size = DEFAULT_PAGE_SIZE if size is None else max(0, min(MAX_PAGE_SIZE, size))
    index = 1 if index is None else max(1, index)
    offset = (index - 1) * size
    if search_index and size and offset >= MAX_MATCHES:
        raise ApiError("QUERY_EXCEEDED_MAX_MATCHES_ALLOWED")
    return size, offset


def _filters_by_id(flt: dict) -> bool:
    return any(_text(flt, name) is not None for name in ("idEqual", "idIn", "referenceIdEqual", "referenceIdIn"))


def list_entries(call: Call, *, media_fields: bool, response_type: str) -> dict:
    """The shared body of ``media.list`` and ``baseEntry.list``."""
    flt = call.obj("filter", type_name="KalturaBaseEntryFilter")
    limit, offset = pager_window(call)
    processing.settle(call.store, call.now())
    query = build_query(call, flt, media_fields=media_fields)
    scope = scope_of(call)
    restriction = entitlement.list_restriction(scope, _filters_by_id(flt))
    order = order_clause(_text(flt, "orderBy"))
    if restriction.check_each:
        rows, total = _checked_page(call, query, order, limit, offset, scope)
    else:
        rows, total = _restricted_page(call, query, restriction, order, limit, offset)
    return {
        "objectType": response_type,
        "relatedObjects": None,
        "objects": entry_objects(call, rows),
        "totalCount": total,
    }


def _restricted_page(
    call: Call, query: Query, restriction: entitlement.ListRestriction, order: str, limit: int, offset: int
) -> tuple[list, int]:
    """A page and total of a list restricted in SQL (owner-only or entitlement tokens)."""
    count_condition, count_params = restriction.sql(for_count=not query.selective)
    page_condition, page_params = restriction.sql(for_count=False)
    if count_condition is None or page_condition is None:
        return ms.search_entries(call.store, query.where, query.params, order, limit, offset)
    return ms.search_entries(
        call.store,
        [*query.where, count_condition],
        [*query.params, *count_params],
        order,
        limit,
        offset,
        page_where=[*query.where, page_condition],
        page_params=[*query.params, *page_params],
    )


def _checked_page(
    call: Call, query: Query, order: str, limit: int, offset: int, scope: entitlement.Scope
) -> tuple[list, int]:
    """Id-filtered lists without the owner restriction: check each match (at most 500 ids)."""
    rows, _ = ms.search_entries(call.store, query.where, query.params, order, MAX_IN_VALUES, 0)
    allowed = [row for row in rows if entry_visible(call, row, scope)]
    return (allowed[offset : offset + limit] if limit else []), len(allowed)


# Permissions: deployment/permissions/service.media.ini (list).
@action("media", "list", permissions=MEDIA_LIST)
def media_list(call: Call) -> dict:
    """List media entries (``KalturaMediaListResponse``)."""
    return list_entries(call, media_fields=True, response_type="KalturaMediaListResponse")


# Permissions: deployment/permissions/service.baseentry.ini (list).
@action("baseEntry", "list", permissions=BASE_ENTRY_LIST)
def base_entry_list(call: Call) -> dict:
    """List entries of any type; media fields apply only with a ``KalturaMediaEntryFilter``."""
    flt = call.obj("filter", type_name="KalturaBaseEntryFilter")
    media_fields = flt.get("objectType") in MEDIA_FILTERS
    return list_entries(call, media_fields=media_fields, response_type="KalturaBaseEntryListResponse")


# Permissions: deployment/permissions/service.media.ini (get).
@action("media", "get", permissions=(registry.CONTENT_MANAGE_BASE, registry.BASE_USER_SESSION, registry.WIDGET_SESSION))
def media_get(call: Call) -> dict:
    """One media entry, if the KS may see it."""
    entry = visible_entry(call, call.str("entryId", required=True))
    return entry_object(call, entry)


# Permissions: deployment/permissions/service.baseentry.ini (get).
@action("baseEntry", "get", permissions=BASE_ENTRY_GET)
def base_entry_get(call: Call) -> dict:
    """One entry of any type, if the KS may see it; a media entry is a ``KalturaMediaEntry``
    (reference §4.4; ``BaseEntryService::getAction`` returns the entry's own API type)."""
    entry = visible_entry(call, call.str("entryId", required=True))
    return entry_object(call, entry)


# -- writing entries -----------------------------------------------------------------------------

READONLY_FIELDS = frozenset(
    {
        "id",
        "partnerId",
        "status",
        "moderationStatus",
        "moderationCount",
        "type",
        "createdAt",
        "updatedAt",
        "rank",
        "totalRank",
        "votes",
        "downloadUrl",
        "searchText",
        "version",
        "thumbnailUrl",
        "replacingEntryId",
        "replacedEntryId",
        "replacementStatus",
        "operationAttributes",
        "capabilities",
        "plays",
        "views",
        "lastPlayedAt",
        "width",
        "height",
        "duration",
        "durationType",
        "dataUrl",
        "flavorParamsIds",
        "mediaDate",
        "isTrimDisabled",
        "rootEntryId",
        "redirectEntryId",
        "defaultLanguage",
        "responseLanguage",
    }
)
INSERT_ONLY_FIELDS = frozenset(
    {
        "creatorId",
        "mediaType",
        "conversionQuality",
        "sourceType",
        "templateEntryId",
        "application",
        "applicationVersion",
    }
)
ADMIN_FIELDS = ("adminTags", "startDate", "endDate")


@dataclass
class EntryInput:
    """Validated column values from a ``KalturaMediaEntry`` parameter (only what was sent)."""

    columns: dict[str, Any] = field(default_factory=dict)
    category_ids: list[int] | None = None


def _set_fields(obj: dict) -> dict:
    """The properties actually sent (``objectType`` is not a property)."""
    return {k: v for k, v in obj.items() if k != "objectType"}


def parse_entry_input(call: Call, obj: dict, *, inserting: bool) -> EntryInput:
    """Validate a ``KalturaMediaEntry`` and map it to entry columns."""
    sent = _set_fields(obj)
    for name in sent:
        if name in READONLY_FIELDS or (not inserting and name in INSERT_ONLY_FIELDS):
            # KalturaObject::validateForInsert/validateForUpdate name the property with its class.
            raise ApiError("PROPERTY_VALIDATION_NOT_UPDATABLE", PROP_NAME=f"KalturaMediaEntry::{name}")
    session = call.session
    if session is not None and not session.is_admin:
        for name in ADMIN_FIELDS:
            if name in sent and not (name == "adminTags" and session.has("editadmintags")):
                raise ApiError("PROPERTY_VALIDATION_ADMIN_PROPERTY", PROP_NAME=name)
    result = EntryInput()
    _map_text_fields(sent, result)
    _map_number_fields(call, sent, result, inserting=inserting)
    result.category_ids = _category_input(call, sent)
    return result


def _map_text_fields(sent: dict, result: EntryInput) -> None:
    for name, column in (
        ("name", "name"),
        ("description", "description"),
        ("partnerData", "partner_data"),
        ("userId", "user_id"),
        ("creatorId", "creator_id"),
        ("referenceId", "reference_id"),
    ):
        if name in sent:
            result.columns[column] = coerce_str(sent[name], name)
    reference = result.columns.get("reference_id")
    if reference is not None and 0 < len(reference) < 2:
        raise ApiError("PROPERTY_VALIDATION_MIN_LENGTH", PROP_NAME="referenceId", MIN_LEN="2")
    if "name" in result.columns and result.columns["name"] is None:
        result.columns["name"] = ""
    for name, column in (("tags", "tags"), ("adminTags", "admin_tags")):
        if name in sent:
            result.columns[column] = ms.normalize_tags(coerce_str(sent[name], name))
    for name, column in (
        ("entitledUsersEdit", "entitled_edit"),
        ("entitledUsersPublish", "entitled_publish"),
        ("entitledUsersView", "entitled_view"),
    ):
        if name in sent:
            users = ms.split_list(coerce_str(sent[name], name))
            result.columns[column] = ",".join(dict.fromkeys(users))


def _map_number_fields(call: Call, sent: dict, result: EntryInput, *, inserting: bool) -> None:
    if "mediaType" in sent and inserting:
        result.columns["media_type"] = coerce_enum(sent["mediaType"], "mediaType", ms.MEDIA_TYPES, "KalturaMediaType")
    for name, column in (
        ("licenseType", "license_type"),
        ("msDuration", "ms_duration"),
        ("conversionProfileId", "conversion_profile_id"),
    ):
        if name in sent:
            result.columns[column] = coerce_int(sent[name], name)
    if "displayInSearch" in sent:
        result.columns["display_in_search"] = coerce_enum(
            sent["displayInSearch"], "displayInSearch", (-2, -1, 0, 1, 2), "KalturaEntryDisplayInSearchType"
        )
    for name, column in (("startDate", "start_date"), ("endDate", "end_date")):
        if name in sent:
            value = coerce_time(sent[name], name, call.now())
            result.columns[column] = None if value is None or value == -1 else value
    if result.columns.get("ms_duration") is not None:
        result.columns["duration"] = round(result.columns["ms_duration"] / 1000)


def _category_input(call: Call, sent: dict) -> list[int] | None:
    """``categoriesIds`` (or full names in ``categories``) -> existing category ids."""
    partner_id = call.require_partner()
    if "categoriesIds" in sent:
        ids = [
            coerce_int(v, "categoriesIds") or 0
            for v in ms.split_list(coerce_str(sent["categoriesIds"], "categoriesIds"))
        ]
        return ms.existing_category_ids(call.store, partner_id, ids)
    if "categories" in sent:
        names = ms.split_list(coerce_str(sent["categories"], "categories"))
        return ms.category_ids_by_full_names(call.store, partner_id, names)
    return None


def _owner_for_insert(call: Call, requested: str | None, creator: str | None) -> tuple[str, str]:
    """The owner and creator of a new entry (``KalturaEntryService::checkAndSetValidUserInsert``).

    Without ``userId`` both are the KS user, created if missing (reference §7: ``media.add`` as
    the user creates it). A USER session may only name itself (``INVALID_KS -4`` otherwise); an
    ADMIN session may name anyone, and that user (and the creator) is created if missing.
    """
    if not requested:
        own = call.kuser_id()
        return own, own
    session = call.session
    if session is None or not session.is_admin:
        own = call.kuser_id()
        if requested.lower() != own.lower():
            raise invalid_type()
        return own, own
    partner_id = call.require_partner()
    owner = call.store.ensure_user(partner_id, requested.strip(), call.now())["puser_id"]
    creator_id = (creator or "").strip() or owner
    call.store.ensure_user(partner_id, creator_id, call.now())
    return owner, creator_id


def _entitled_users(call: Call, data: EntryInput, entry: sqlite3.Row | None = None) -> None:
    """Users named in ``entitledUsers*`` are created when missing; deleted ones are dropped
    (reference §7; ``api_v3/lib/types/entry/KalturaBaseEntry.php``: ``validateUsers``,
    ``ensureKusersExist``). A blocked user newly added is ``USER_BLOCKED``
    (``alpha/lib/model/entry.php``: ``setEntitledPusersEdit`` and friends)."""
    partner_id = call.require_partner()
    for column in ("entitled_edit", "entitled_publish", "entitled_view"):
        if column not in data.columns:
            continue
        before = set(ms.split_list(entry[column])) if entry is not None else set()
        kept = []
        for user_id in ms.split_list(data.columns[column]):
            row = call.store.user(partner_id, user_id)
            if row is not None and row["status"] == USER_DELETED:
                continue
            if row is None:
                row = call.store.ensure_user(partner_id, user_id, call.now())
            elif row["status"] == USER_BLOCKED and user_id not in before:
                raise ApiError("USER_BLOCKED")
            kept.append(row["puser_id"])
        data.columns[column] = ",".join(dict.fromkeys(kept))


# Permissions: deployment/permissions/service.media.ini (add).
@action("media", "add", permissions=MEDIA_ADD)
def media_add(call: Call) -> dict:
    """Create a media entry without content (status NO_CONTENT)."""
    obj = call.obj("entry", required=True, type_name="KalturaMediaEntry")
    data = parse_entry_input(call, obj, inserting=True)
    owner, creator = _owner_for_insert(call, data.columns.pop("user_id", None), data.columns.pop("creator_id", None))
    _entitled_users(call, data)
    partner = call.store.partner(call.require_partner())
    assert partner is not None
    now = int(call.now())
    columns = {
        "id": _unused_entry_id(call),
        "partner_id": partner.id,
        "name": "",
        "user_id": owner,
        "creator_id": creator,
        "status": ms.ENTRY_NO_CONTENT,
        "created_at": now,
        "updated_at": now,
        "conversion_profile_id": processing.default_profile_id(partner.id),
        **data.columns,
    }
    with call.store.tx() as conn:
        seq = ms.insert_entry(conn, columns)
        ms.set_entry_categories(conn, seq, data.category_ids or [])
        ms.refresh_access(conn, seq)
    return entry_object(call, ms.get_entry(call.store, partner.id, columns["id"]))


def _unused_entry_id(call: Call) -> str:
    while True:
        candidate = ms.generate_id()
        if call.store.scalar("SELECT 1 FROM media_entries WHERE id = ?", (candidate,)) is None:
            return candidate


# Permissions: deployment/permissions/service.media.ini (update).
@action("media", "update", permissions=ENTRY_UPDATE)
def media_update(call: Call) -> dict:
    """Change the properties sent in ``mediaEntry``; the rest stays as it was."""
    entry = editable_entry(call, call.str("entryId", required=True))
    obj = call.obj("mediaEntry", required=True, type_name="KalturaMediaEntry")
    data = parse_entry_input(call, obj, inserting=False)
    _check_owner_change(call, entry, data)
    _entitled_users(call, data, entry)
    changes = {k: v for k, v in data.columns.items() if entry[k] != v}
    if "user_id" in changes:
        call.store.ensure_user(entry["partner_id"], changes["user_id"], call.now())
    changes["updated_at"] = int(call.now())
    with call.store.tx() as conn:
        ms.update_entry(conn, entry["seq"], changes)
        if data.category_ids is not None:
            ms.set_entry_categories(conn, entry["seq"], data.category_ids)
        ms.refresh_access(conn, entry["seq"])
    return entry_object(call, ms.get_entry(call.store, entry["partner_id"], entry["id"]))


def _check_owner_change(call: Call, entry, data: EntryInput) -> None:
    """Only ADMIN (or ``edituser``) may change the owner; only the owner or ADMIN may change
    who can edit or publish (reference §3.5, §4.4)."""
    session = call.session
    if session is None or session.is_admin:
        return
    new_owner = data.columns.get("user_id")
    if new_owner is not None and new_owner != entry["user_id"] and not session.has("edituser", new_owner):
        raise invalid_type()
    owner_only = ("entitled_edit", "entitled_publish")
    touches = any(c in data.columns and data.columns[c] != entry[c] for c in owner_only)
    if touches and call.kuser_id() != entry["user_id"]:
        raise invalid_type()


def delete_entry(call: Call, *, owner_only: bool) -> None:
    """Mark the entry DELETED (it disappears from lists, ``get`` and delivery).

    ``media.delete`` is ``@validateUser entry entryId edit``: ADMIN sessions, ``edit:<id>``/``edit:*``,
    the owner and users in ``entitledUsersEdit`` may; ``baseEntry.delete`` adds ``ownerOnly``,
    so ``entitledUsersEdit`` is not enough there (``KalturaDispatcher::validateUser``, reference §4.4).
    Anyone else gets ``INVALID_KS "", "-4,INVALID_TYPE"``.
    """
    entry = visible_entry(call, call.str("entryId", required=True))
    allowed = entitlement.may_edit(
        call.session,
        entry_id=entry["id"],
        owner=entry["user_id"],
        entitled_edit=() if owner_only else ms.split_list(entry["entitled_edit"]),
    )
    if not allowed:
        raise invalid_type()
    with call.store.tx() as conn:
        ms.update_entry(
            conn,
            entry["seq"],
            {
                "status": ms.ENTRY_DELETED,
                "next_at": None,
                "lazy_flavors": 0,
                "updated_at": int(call.now()),
            },
        )
        conn.execute(
            "UPDATE media_flavors SET status = ?, next_at = NULL WHERE entry_id = ?", (ms.FLAVOR_DELETED, entry["id"])
        )


# Permissions: deployment/permissions/service.media.ini (delete).
@action("media", "delete", permissions=ENTRY_DELETE)
def media_delete(call: Call) -> None:
    """Delete a media entry (owner, ``entitledUsersEdit``, ``edit`` privilege or ADMIN)."""
    delete_entry(call, owner_only=False)


# Permissions: deployment/permissions/service.baseentry.ini (delete).
@action("baseEntry", "delete", permissions=ENTRY_DELETE)
def base_entry_delete(call: Call) -> None:
    """Delete an entry of any type (owner, ``edit`` privilege or ADMIN only)."""
    delete_entry(call, owner_only=True)


# -- content -------------------------------------------------------------------------------------

TOKEN_RESOURCE = "KalturaUploadedFileTokenResource"


# Permissions: deployment/permissions/service.media.ini (addcontent).
@action(
    "media",
    "addContent",
    permissions=(registry.CONTENT_INGEST_UPLOAD, registry.BASE_USER_SESSION, registry.CAPTURE_DEVICE),
)
def media_add_content(call: Call) -> dict:
    """Attach an upload token's file to a NO_CONTENT entry (reference §6.3).

    A fully uploaded token starts processing at once; a token still being uploaded is attached
    and the entry waits in IMPORT until its final chunk arrives.
    """
    entry = editable_entry(call, call.str("entryId", required=True))
    resource = call.obj("resource", required=True, type_name="KalturaResource")
    resource_type = resource.get("objectType")
    if not resource_type:
        raise ApiError("OBJECT_TYPE_ABSTRACT", OBJ_TYPE="KalturaResource")
    if resource_type != TOKEN_RESOURCE:
        raise ApiError("RESOURCE_TYPE_NOT_SUPPORTED", RES_TYPE=resource_type)
    if entry["status"] != ms.ENTRY_NO_CONTENT:
        raise ApiError("ENTRY_ALREADY_WITH_CONTENT")
    token_id = coerce_str(resource.get("token"), "token")
    # Any (not deleted) token of the partner: KalturaUploadedFileTokenResource looks it up with
    # UploadTokenPeer::retrieveByPK, which, unlike uploadToken.get/upload, is not restricted to
    # the KS user (reference §6.3).
    token = ms.get_token(call.store, entry["partner_id"], token_id or "")
    if token is None:
        raise ApiError("UPLOAD_TOKEN_NOT_FOUND")
    if token["status"] == ms.TOKEN_FULL_UPLOAD:
        ingest_token(call, entry, token)
    elif token["status"] in (ms.TOKEN_PENDING, ms.TOKEN_PARTIAL_UPLOAD):
        _attach_token(call, entry, token)
    else:
        raise ApiError("UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY")
    return entry_object(call, ms.get_entry(call.store, entry["partner_id"], entry["id"]))


def _attach_token(call: Call, entry, token) -> None:
    """Remember the token on the entry (IMPORT) until the upload completes."""
    now = int(call.now())
    ms.update_token(
        call.store, token["id"], attached_object_type="entry", attached_object_id=entry["id"], updated_at=now
    )
    with call.store.tx() as conn:
        ms.update_entry(
            conn,
            entry["seq"],
            {
                "status": ms.ENTRY_IMPORT,
                "upload_token_id": token["id"],
                "updated_at": now,
            },
        )


def ingest_token(call: Call, entry: sqlite3.Row, token: sqlite3.Row) -> None:
    """Move a fully uploaded token's file into the entry and start processing; close the token."""
    partner = call.store.partner(entry["partner_id"])
    with call.store.tx() as conn:
        changes = processing.ingest(
            conn,
            entry,
            token,
            files_dir=call.config.files_dir,
            now=call.now(),
            delay=call.config.conversion_delay,
            has_4k=bool(partner and partner.has_4k),
        )
        ms.update_entry(conn, entry["seq"], changes)
    ms.update_token(
        call.store,
        token["id"],
        status=ms.TOKEN_CLOSED,
        attached_object_type="entry",
        attached_object_id=entry["id"],
        updated_at=int(call.now()),
    )


def ingest_attached(call: Call, token: sqlite3.Row) -> None:
    """After a final chunk: process the entry that was waiting for this token, if any."""
    entry_id = token["attached_object_id"]
    if token["attached_object_type"] != "entry" or not entry_id:
        return
    entry = ms.get_entry(call.store, token["partner_id"], entry_id)
    if entry is not None and entry["status"] == ms.ENTRY_IMPORT:
        ingest_token(call, entry, token)
