"""Media storage: entries, categories, flavor assets and upload tokens in the sandbox's SQLite.

Everything a list filters or sorts on is a real, indexed column, so a 100,000-entry partner still
lists in milliseconds:

* ``media_entries``: one row per entry. ``status`` is the stored status; entries that are being
  converted carry a timeline (``proc_t1``/``proc_t2``) and ``next_at``, the moment the status
  changes next (``processing.settle`` applies due changes before every read).
* ``media_entries_fts``: an FTS5 index over name, tags, description, admin tags, the id-like
  fields (entry id, reference id, owner id) and the owner's names (first, last, screen name):
  the fields Kaltura's ``freeText`` and ``*Like`` filters search (``search.py``).
* ``media_entry_access``: the entitlement "search tokens" of every entry, the same facts Kaltura's
  search index keeps in ``privacy_by_contexts`` and ``entitled_kusers`` (see ``entitlement.py``),
  so an entitled listing is an indexed ``IN`` lookup instead of a per-row rule evaluation.
* ``media_categories`` / ``media_category_members`` / ``media_entry_categories``: categories with
  their privacy context and privacy, their members, and the entries in them.
* ``media_flavors``: flavor assets (source and web renditions) with their own status timeline.
  Seeded entries get theirs on first use (``lazy_flavors``, see ``processing.materialize``), so
  seeding a large partner does not write half a million flavor rows up front.
* ``media_upload_tokens``: upload tokens; the uploaded bytes live under ``files_dir/uploads``.
"""

from __future__ import annotations

import random
import secrets
import sqlite3
import string
from collections.abc import Iterable, Sequence
from typing import Any

from . import entitlement
from .store import Store, register_schema

# -- Kaltura enums (reference §4.3, §6.1, §6.3) ------------------------------------------------

ENTRY_ERROR_IMPORTING = -2
ENTRY_ERROR_CONVERTING = -1
ENTRY_IMPORT = 0
ENTRY_PRECONVERT = 1
ENTRY_READY = 2
ENTRY_DELETED = 3
ENTRY_PENDING = 4
ENTRY_NO_CONTENT = 7
ENTRY_STATUSES = (-2, -1, 0, 1, 2, 3, 4, 5, 6, 7)

MEDIA_VIDEO = 1
MEDIA_IMAGE = 2
MEDIA_AUDIO = 5
MEDIA_TYPES = (1, 2, 5, 201, 202, 203, 204)

TOKEN_PENDING = 0
TOKEN_PARTIAL_UPLOAD = 1
TOKEN_FULL_UPLOAD = 2
TOKEN_CLOSED = 3
TOKEN_TIMED_OUT = 4
TOKEN_DELETED = 5
TOKEN_ERROR = 6  # internal: too many parked chunks; never shown through the API

FLAVOR_ERROR = -1
FLAVOR_QUEUED = 0
FLAVOR_CONVERTING = 1
FLAVOR_READY = 2
FLAVOR_DELETED = 3
FLAVOR_NOT_APPLICABLE = 4

PRIVACY_ALL = 1
PRIVACY_AUTHENTICATED = 2
PRIVACY_MEMBERS_ONLY = 3

# Entry and token ids: "{dc}_{8 chars}" and "{dc}_{32 hex}", the sandbox being data center 0.
ID_ALPHABET = string.digits + string.ascii_lowercase
DATA_CENTER = "0"

register_schema(
    """
    CREATE TABLE IF NOT EXISTS media_categories (
        id INTEGER PRIMARY KEY,
        partner_id INTEGER NOT NULL,
        parent_id INTEGER,
        name TEXT NOT NULL,
        full_name TEXT NOT NULL,
        description TEXT,
        tags TEXT NOT NULL DEFAULT '',
        privacy_context TEXT NOT NULL DEFAULT '',
        privacy INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS media_categories_partner ON media_categories(partner_id);
    CREATE TABLE IF NOT EXISTS media_category_members (
        category_id INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        permission_level INTEGER NOT NULL DEFAULT 3,
        PRIMARY KEY (category_id, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS media_entries (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        partner_id INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        description TEXT,
        user_id TEXT NOT NULL,
        creator_id TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '',
        admin_tags TEXT NOT NULL DEFAULT '',
        media_type INTEGER,
        status INTEGER NOT NULL,
        moderation_status INTEGER NOT NULL DEFAULT 6,
        display_in_search INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        plays INTEGER NOT NULL DEFAULT 0,
        views INTEGER NOT NULL DEFAULT 0,
        last_played_at INTEGER,
        ms_duration INTEGER NOT NULL DEFAULT 0,
        duration INTEGER NOT NULL DEFAULT 0,
        width INTEGER,
        height INTEGER,
        reference_id TEXT,
        partner_data TEXT,
        license_type INTEGER NOT NULL DEFAULT -1,
        start_date INTEGER,
        end_date INTEGER,
        entitled_edit TEXT NOT NULL DEFAULT '',
        entitled_publish TEXT NOT NULL DEFAULT '',
        entitled_view TEXT NOT NULL DEFAULT '',
        categories_ids TEXT NOT NULL DEFAULT '',
        conversion_profile_id INTEGER,
        version INTEGER NOT NULL DEFAULT 0,
        thumb_version INTEGER NOT NULL DEFAULT 100000,
        flavor_params_ids TEXT NOT NULL DEFAULT '',
        source_file TEXT,
        source_ext TEXT,
        source_size INTEGER,
        color TEXT,
        upload_token_id TEXT,
        proc_t1 REAL,
        proc_t2 REAL,
        next_at REAL,
        fail_conversion INTEGER NOT NULL DEFAULT 0,
        lazy_flavors INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS media_entries_created ON media_entries(partner_id, created_at);
    CREATE INDEX IF NOT EXISTS media_entries_updated ON media_entries(partner_id, updated_at);
    CREATE INDEX IF NOT EXISTS media_entries_name
        ON media_entries(partner_id, name COLLATE NOCASE);
    CREATE INDEX IF NOT EXISTS media_entries_lazy ON media_entries(partner_id)
        WHERE lazy_flavors = 1;
    CREATE INDEX IF NOT EXISTS media_entries_plays ON media_entries(partner_id, plays);
    CREATE INDEX IF NOT EXISTS media_entries_duration ON media_entries(partner_id, duration);
    CREATE INDEX IF NOT EXISTS media_entries_status
        ON media_entries(partner_id, status, created_at);
    CREATE INDEX IF NOT EXISTS media_entries_owner
        ON media_entries(partner_id, user_id, created_at);
    CREATE INDEX IF NOT EXISTS media_entries_reference ON media_entries(partner_id, reference_id);
    CREATE INDEX IF NOT EXISTS media_entries_next ON media_entries(next_at)
        WHERE next_at IS NOT NULL;
    CREATE VIRTUAL TABLE IF NOT EXISTS media_entries_fts USING fts5(
        name, tags, description, admin_tags, extra, owner,
        tokenize = 'unicode61 remove_diacritics 2', prefix = '3'
    );
    CREATE TABLE IF NOT EXISTS media_entry_categories (
        category_id INTEGER NOT NULL,
        entry_seq INTEGER NOT NULL,
        status INTEGER NOT NULL DEFAULT 2,
        PRIMARY KEY (category_id, entry_seq)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS media_entry_categories_entry
        ON media_entry_categories(entry_seq);
    CREATE TABLE IF NOT EXISTS media_entry_access (
        token TEXT NOT NULL,
        entry_seq INTEGER NOT NULL,
        PRIMARY KEY (token, entry_seq)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS media_entry_access_entry ON media_entry_access(entry_seq);
    CREATE TABLE IF NOT EXISTS media_flavors (
        id TEXT PRIMARY KEY,
        partner_id INTEGER NOT NULL,
        entry_id TEXT NOT NULL,
        flavor_params_id INTEGER NOT NULL,
        is_original INTEGER NOT NULL DEFAULT 0,
        is_web INTEGER NOT NULL DEFAULT 1,
        width INTEGER NOT NULL DEFAULT 0,
        height INTEGER NOT NULL DEFAULT 0,
        bitrate INTEGER NOT NULL DEFAULT 0,
        frame_rate REAL NOT NULL DEFAULT 0,
        container_format TEXT,
        video_codec_id TEXT,
        file_ext TEXT,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        tags TEXT NOT NULL DEFAULT '',
        description TEXT,
        status INTEGER NOT NULL,
        final_status INTEGER NOT NULL,
        t1 REAL,
        t2 REAL,
        next_at REAL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS media_flavors_entry ON media_flavors(entry_id);
    CREATE INDEX IF NOT EXISTS media_flavors_next ON media_flavors(next_at)
        WHERE next_at IS NOT NULL;
    CREATE TABLE IF NOT EXISTS media_upload_tokens (
        id TEXT PRIMARY KEY,
        partner_id INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        file_name TEXT,
        file_size REAL,
        uploaded_file_size INTEGER,
        auto_finalize INTEGER,
        upload_path TEXT,
        attached_object_type TEXT,
        attached_object_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS media_upload_tokens_user
        ON media_upload_tokens(partner_id, user_id, created_at);
    """
)


# -- ids and tags --------------------------------------------------------------------------------


def generate_id(rng: random.Random | None = None) -> str:
    """A Kaltura object id such as ``0_ab12cd34`` (entries, flavor assets)."""
    number = secrets.randbelow(36**8) if rng is None else rng.getrandbits(42) % 36**8
    chars = []
    for _ in range(8):
        number, digit = divmod(number, 36)
        chars.append(ID_ALPHABET[digit])
    return DATA_CENTER + "_" + "".join(chars)


def generate_token_id() -> str:
    """An upload token id: ``0_`` and 32 lowercase hex characters (an md5-sized value)."""
    return DATA_CENTER + "_" + secrets.token_hex(16)


def normalize_tags(raw: str | None) -> str:
    """Kaltura's tag normalisation on save (reference §4.4).

    Split on commas, trim, lowercase, drop tags shorter than 2 characters, cut each to 100
    bytes, de-duplicate (first wins) and join with ", ": ``"360,VR, a ,vr"`` -> ``"360, vr"``.
    """
    seen: list[str] = []
    for part in (raw or "").split(","):
        tag = part.strip().lower()
        if len(tag) < 2:
            continue
        tag = tag.encode("utf-8")[:100].decode("utf-8", "ignore")
        if tag not in seen:
            seen.append(tag)
    return ", ".join(seen)


def split_list(value: str | None) -> list[str]:
    """A comma list as trimmed, non-empty items (user id lists, id lists)."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


# -- categories ----------------------------------------------------------------------------------


def add_category(
    conn: sqlite3.Connection,
    *,
    category_id: int,
    partner_id: int,
    name: str,
    parent_id: int | None,
    privacy_context: str,
    privacy: int,
    now: int,
    description: str | None = None,
) -> None:
    """Insert a category; ``full_name`` is built from the parent's (``Parent>Child``)."""
    full_name = name
    if parent_id is not None:
        parent = conn.execute("SELECT full_name FROM media_categories WHERE id = ?", (parent_id,)).fetchone()
        if parent is not None:
            full_name = f"{parent['full_name']}>{name}"
    conn.execute(
        "INSERT INTO media_categories(id, partner_id, parent_id, name, full_name, description, "
        "privacy_context, privacy, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (category_id, partner_id, parent_id, name, full_name, description, privacy_context, privacy, now, now),
    )


def add_category_member(conn: sqlite3.Connection, category_id: int, user_id: str) -> None:
    """Make a user a member of a category (idempotent)."""
    conn.execute(
        "INSERT OR IGNORE INTO media_category_members(category_id, user_id) VALUES (?, ?)",
        (category_id, user_id),
    )


def categories(store: Store, partner_id: int) -> dict[int, sqlite3.Row]:
    """Every category of the partner by id."""
    rows = store.query("SELECT * FROM media_categories WHERE partner_id = ?", (partner_id,))
    return {row["id"]: row for row in rows}


def category_members(conn: sqlite3.Connection, category_ids: Iterable[int]) -> dict[int, list[str]]:
    """The member user ids of each of these categories."""
    ids = list(category_ids)
    members: dict[int, list[str]] = {cid: [] for cid in ids}
    if not ids:
        return members
    marks = ",".join("?" * len(ids))
    for row in conn.execute(
        f"SELECT category_id, user_id FROM media_category_members WHERE category_id IN ({marks})",
        ids,
    ):
        members[row["category_id"]].append(row["user_id"])
    return members


def category_full_names(store: Store, ids: Iterable[int]) -> dict[int, str]:
    """``full_name`` of each existing category id."""
    wanted = list(ids)
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    rows = store.query(f"SELECT id, full_name FROM media_categories WHERE id IN ({marks})", wanted)
    return {row["id"]: row["full_name"] for row in rows}


def existing_category_ids(store: Store, partner_id: int, ids: Iterable[int]) -> list[int]:
    """The subset of ``ids`` that are categories of this partner, in the given order."""
    known = set(categories(store, partner_id))
    result: list[int] = []
    for cid in ids:
        if cid in known and cid not in result:
            result.append(cid)
    return result


def category_ids_by_full_names(store: Store, partner_id: int, names: Iterable[str]) -> list[int]:
    """Category ids for full names (``Parent>Child``); unknown names are skipped."""
    by_name = {row["full_name"]: cid for cid, row in categories(store, partner_id).items()}
    return [by_name[name] for name in names if name in by_name]


# -- entries -------------------------------------------------------------------------------------

ENTRY_COLUMNS = (
    "id",
    "partner_id",
    "name",
    "description",
    "user_id",
    "creator_id",
    "tags",
    "admin_tags",
    "media_type",
    "status",
    "moderation_status",
    "display_in_search",
    "created_at",
    "updated_at",
    "plays",
    "views",
    "last_played_at",
    "ms_duration",
    "duration",
    "width",
    "height",
    "reference_id",
    "partner_data",
    "license_type",
    "start_date",
    "end_date",
    "entitled_edit",
    "entitled_publish",
    "entitled_view",
    "categories_ids",
    "conversion_profile_id",
    "version",
    "thumb_version",
    "flavor_params_ids",
    "source_file",
    "source_ext",
    "source_size",
    "color",
    "upload_token_id",
    "proc_t1",
    "proc_t2",
    "next_at",
    "fail_conversion",
    "lazy_flavors",
)
_UPDATABLE = frozenset(ENTRY_COLUMNS) - {"id", "partner_id"}
#: Column defaults for bulk inserts that pass every column (mirrors the schema's DEFAULTs).
ENTRY_DEFAULTS: dict[str, Any] = {
    "name": "",
    "tags": "",
    "admin_tags": "",
    "moderation_status": 6,
    "display_in_search": 1,
    "plays": 0,
    "views": 0,
    "ms_duration": 0,
    "duration": 0,
    "license_type": -1,
    "entitled_edit": "",
    "entitled_publish": "",
    "entitled_view": "",
    "categories_ids": "",
    "version": 0,
    "thumb_version": 100000,
    "flavor_params_ids": "",
    "fail_conversion": 0,
    "lazy_flavors": 0,
}


def insert_entry(conn: sqlite3.Connection, fields: dict[str, Any]) -> int:
    """Insert one entry row and index it for free text; returns its ``seq``."""
    names = [name for name in ENTRY_COLUMNS if name in fields]
    marks = ",".join("?" * len(names))
    cursor = conn.execute(
        f"INSERT INTO media_entries({','.join(names)}) VALUES ({marks})",
        [fields[name] for name in names],
    )
    seq = int(cursor.lastrowid or 0)
    index_text(conn, seq, {**ENTRY_DEFAULTS, "description": None, "reference_id": None, **fields})
    return seq


def owner_names(conn: sqlite3.Connection, partner_id: int, user_id: str) -> str:
    """The owner's first, last and screen name as one text (``entry::getUserNames``)."""
    row = conn.execute(
        "SELECT first_name, last_name, screen_name FROM kusers WHERE partner_id = ? AND puser_id = ?",
        (partner_id, user_id),
    ).fetchone()
    if row is None:
        return ""
    return " ".join(part for part in (row[0], row[1], row[2]) if part)


def index_text(conn: sqlite3.Connection, seq: int, entry: dict[str, Any] | sqlite3.Row) -> None:
    """(Re)write the entry's free-text document: the fields ``freeText`` and ``*Like`` search."""
    extra = " ".join(str(value) for value in (entry["id"], entry["reference_id"], entry["user_id"]) if value)
    conn.execute("DELETE FROM media_entries_fts WHERE rowid = ?", (seq,))
    conn.execute(
        "INSERT INTO media_entries_fts(rowid, name, tags, description, admin_tags, extra, owner) "
        "VALUES (?,?,?,?,?,?,?)",
        (
            seq,
            entry["name"] or "",
            entry["tags"] or "",
            entry["description"] or "",
            entry["admin_tags"] or "",
            extra,
            owner_names(conn, entry["partner_id"], entry["user_id"]),
        ),
    )


def reindex_owner(conn: sqlite3.Connection, partner_id: int, user_id: str) -> None:
    """Refresh the owner names in the free-text documents of a user's entries."""
    conn.execute(
        "UPDATE media_entries_fts SET owner = ? WHERE rowid IN "
        "(SELECT seq FROM media_entries WHERE partner_id = ? AND user_id = ?)",
        (owner_names(conn, partner_id, user_id), partner_id, user_id),
    )


def get_entry(store: Store, partner_id: int, entry_id: str, *, include_deleted: bool = False) -> sqlite3.Row | None:
    """The entry row with this id in this partner (deleted entries only when asked)."""
    row = store.query_one("SELECT * FROM media_entries WHERE id = ? AND partner_id = ?", (entry_id, partner_id))
    if row is None or (row["status"] == ENTRY_DELETED and not include_deleted):
        return None
    return row


def update_entry(conn: sqlite3.Connection, seq: int, changes: dict[str, Any]) -> None:
    """Write changed columns of an entry and refresh its free-text document."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable entry columns: {sorted(unknown)}")
    if not changes:
        return
    assignments = ", ".join(f"{name} = ?" for name in changes)
    conn.execute(f"UPDATE media_entries SET {assignments} WHERE seq = ?", (*changes.values(), seq))
    if {"name", "tags", "description", "admin_tags", "reference_id", "user_id"} & set(changes):
        row = conn.execute("SELECT * FROM media_entries WHERE seq = ?", (seq,)).fetchone()
        index_text(conn, seq, row)


def set_entry_categories(conn: sqlite3.Connection, seq: int, category_ids: Sequence[int]) -> None:
    """Replace the entry's (active) category memberships and its ``categories_ids`` column."""
    conn.execute("DELETE FROM media_entry_categories WHERE entry_seq = ?", (seq,))
    conn.executemany(
        "INSERT OR IGNORE INTO media_entry_categories(category_id, entry_seq) VALUES (?, ?)",
        [(cid, seq) for cid in category_ids],
    )
    conn.execute(
        "UPDATE media_entries SET categories_ids = ? WHERE seq = ?",
        (",".join(str(cid) for cid in category_ids), seq),
    )


def refresh_access(conn: sqlite3.Connection, seq: int) -> None:
    """Recompute the entry's entitlement search tokens from its owner, users and categories."""
    entry = conn.execute("SELECT * FROM media_entries WHERE seq = ?", (seq,)).fetchone()
    cats = conn.execute(
        "SELECT c.id, c.privacy_context, c.privacy FROM media_categories c "
        "JOIN media_entry_categories ec ON ec.category_id = c.id "
        "WHERE ec.entry_seq = ? AND ec.status = 2",
        (seq,),
    ).fetchall()
    members = category_members(conn, [c["id"] for c in cats])
    tokens = entitlement.entry_tokens(
        owner=entry["user_id"],
        entitled_users=entitled_users(entry),
        categories=[entitlement.CategoryFacts(c["privacy_context"], c["privacy"], members[c["id"]]) for c in cats],
    )
    conn.execute("DELETE FROM media_entry_access WHERE entry_seq = ?", (seq,))
    conn.executemany(
        "INSERT OR IGNORE INTO media_entry_access(token, entry_seq) VALUES (?, ?)",
        [(token, seq) for token in tokens],
    )


def entitled_users(entry: sqlite3.Row | dict[str, Any]) -> list[str]:
    """Everyone in the entry's ``entitledUsersEdit``/``Publish``/``View`` lists."""
    users: list[str] = []
    for column in ("entitled_edit", "entitled_publish", "entitled_view"):
        users.extend(split_list(entry[column]))
    return users


def entry_category_facts(store: Store, seq: int) -> list[entitlement.CategoryFacts]:
    """The active categories of an entry as entitlement facts (context, privacy, members)."""
    with store.lock:
        cats = store.conn.execute(
            "SELECT c.id, c.privacy_context, c.privacy FROM media_categories c "
            "JOIN media_entry_categories ec ON ec.category_id = c.id "
            "WHERE ec.entry_seq = ? AND ec.status = 2",
            (seq,),
        ).fetchall()
        members = category_members(store.conn, [c["id"] for c in cats])
    return [entitlement.CategoryFacts(c["privacy_context"], c["privacy"], members[c["id"]]) for c in cats]


def entries_category_facts(store: Store, seqs: list[int]) -> dict[int, list[entitlement.CategoryFacts]]:
    """``entry_category_facts`` of many entries at once (one query for categories, one for members)."""
    facts: dict[int, list[entitlement.CategoryFacts]] = {seq: [] for seq in seqs}
    if not seqs:
        return facts
    marks = ",".join("?" * len(seqs))
    with store.lock:
        rows = store.conn.execute(
            "SELECT ec.entry_seq, c.id, c.privacy_context, c.privacy FROM media_categories c "
            "JOIN media_entry_categories ec ON ec.category_id = c.id "
            f"WHERE ec.entry_seq IN ({marks}) AND ec.status = 2",
            seqs,
        ).fetchall()
        members = category_members(store.conn, {row["id"] for row in rows})
    for row in rows:
        facts[row["entry_seq"]].append(
            entitlement.CategoryFacts(row["privacy_context"], row["privacy"], members[row["id"]])
        )
    return facts


def search_entries(
    store: Store,
    where: Sequence[str],
    params: Sequence[Any],
    order_by: str,
    limit: int,
    offset: int,
    *,
    page_where: Sequence[str] | None = None,
    page_params: Sequence[Any] | None = None,
) -> tuple[list[sqlite3.Row], int]:
    """One page of entries matching ``where`` (ANDed SQL conditions) and the total count.

    ``page_where``/``page_params`` may state the same conditions in a form that is faster for
    an ordered ``LIMIT`` query (see ``entitlement.ListRestriction.sql``). The count is skipped
    when the page itself shows the total (a first page that is not full), and otherwise
    remembered until the database changes: paging through a large result, or repeating a
    listing, counts once.
    """
    clause = " AND ".join(f"({condition})" for condition in where) or "1"
    page_clause = " AND ".join(f"({c})" for c in (page_where or where)) or "1"
    with store.lock:
        rows: list[sqlite3.Row] = []
        if limit > 0:
            # Order and cut narrow (seq-only) rows first, then read the page's full rows.
            rows = store.conn.execute(
                "SELECT * FROM media_entries e WHERE e.seq IN (SELECT e.seq FROM media_entries e "
                f"WHERE {page_clause} ORDER BY {order_by} LIMIT ? OFFSET ?) ORDER BY {order_by}",
                (*(params if page_params is None else page_params), limit, offset),
            ).fetchall()
        if offset == 0 and len(rows) < limit:
            return rows, len(rows)
        return rows, _count(store, f"SELECT count(*) FROM media_entries e WHERE {clause}", params)


_COUNT_CACHE_SIZE = 256
_count_cache: dict[tuple, tuple[sqlite3.Connection, int, int]] = {}


def _count(store: Store, sql: str, params: Sequence[Any]) -> int:
    """``count(*)`` of a query, cached per connection until any row of the database changes
    (``total_changes`` moves with every insert, update and delete)."""
    key = (sql, tuple(params))
    conn = store.conn
    cached = _count_cache.get(key)
    if cached is not None and cached[0] is conn and cached[1] == conn.total_changes:
        return cached[2]
    total = conn.execute(sql, params).fetchone()[0]
    if len(_count_cache) >= _COUNT_CACHE_SIZE:
        _count_cache.pop(next(iter(_count_cache)))
    _count_cache[key] = (conn, conn.total_changes, total)
    return total


# -- flavor assets -------------------------------------------------------------------------------

FLAVOR_COLUMNS = (
    "id",
    "partner_id",
    "entry_id",
    "flavor_params_id",
    "is_original",
    "is_web",
    "width",
    "height",
    "bitrate",
    "frame_rate",
    "container_format",
    "video_codec_id",
    "file_ext",
    "size_bytes",
    "tags",
    "description",
    "status",
    "final_status",
    "t1",
    "t2",
    "next_at",
    "created_at",
    "updated_at",
)


def insert_flavors(conn: sqlite3.Connection, flavors: Iterable[dict[str, Any]]) -> None:
    """Insert flavor asset rows (missing columns take their defaults)."""
    # Sorted by id, inserts append to the primary-key B-tree instead of splitting it at random.
    rows = sorted(flavors, key=lambda row: row["id"])
    if not rows:
        return
    names = [name for name in FLAVOR_COLUMNS if name in rows[0]]
    sql = f"INSERT OR IGNORE INTO media_flavors({','.join(names)}) VALUES ({','.join('?' * len(names))})"
    inserted = conn.executemany(sql, [[row[name] for name in names] for row in rows]).rowcount
    if inserted == len(rows):
        return
    # A random 8-character id collided with an existing one: give the losers fresh ids.
    for row in rows:
        found = conn.execute(
            "SELECT entry_id, flavor_params_id FROM media_flavors WHERE id = ?", (row["id"],)
        ).fetchone()
        if found is not None and (found[0], found[1]) == (row["entry_id"], row["flavor_params_id"]):
            continue
        while not conn.execute(sql, [row[name] for name in names]).rowcount:
            row["id"] = generate_id()


def entry_flavors(store: Store, entry_id: str) -> list[sqlite3.Row]:
    """The entry's flavor assets, source first."""
    return store.query(
        "SELECT * FROM media_flavors WHERE entry_id = ? AND status != ? ORDER BY is_original DESC, height, bitrate",
        (entry_id, FLAVOR_DELETED),
    )


# -- upload tokens -------------------------------------------------------------------------------

TOKEN_UPDATABLE = frozenset(
    {
        "status",
        "file_name",
        "uploaded_file_size",
        "upload_path",
        "attached_object_type",
        "attached_object_id",
        "updated_at",
    }
)


def insert_token(store: Store, fields: dict[str, Any]) -> None:
    """Insert an upload token row."""
    names = list(fields)
    store.execute(
        f"INSERT INTO media_upload_tokens({','.join(names)}) VALUES ({','.join('?' * len(names))})",
        [fields[name] for name in names],
    )


def get_token(store: Store, partner_id: int, token_id: str) -> sqlite3.Row | None:
    """A (non-deleted) upload token of the partner, or None."""
    return store.query_one(
        "SELECT * FROM media_upload_tokens WHERE id = ? AND partner_id = ? AND status != ?",
        (token_id, partner_id, TOKEN_DELETED),
    )


def update_token(store: Store, token_id: str, **changes: Any) -> None:
    """Write changed columns of an upload token."""
    unknown = set(changes) - TOKEN_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable token columns: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in changes)
    store.execute(f"UPDATE media_upload_tokens SET {assignments} WHERE id = ?", (*changes.values(), token_id))


# -- test / control hooks ------------------------------------------------------------------------


def fail_conversion(store: Store, entry_id: str) -> bool:
    """Make the entry's conversion fail (ERROR_CONVERTING); True if the entry exists.

    A conversion still in progress (or not started yet: no content, or waiting for its upload)
    ends in ERROR_CONVERTING with its web flavors in ERROR. A video or audio entry that already
    finished converting is switched to ERROR_CONVERTING at once, as if a reconversion had
    failed. Images are not converted, so they are not affected.
    """
    with store.tx() as conn:
        row = conn.execute(
            "SELECT seq, status, next_at, media_type FROM media_entries WHERE id = ?", (entry_id,)
        ).fetchone()
        if row is None:
            return False
        conn.execute("UPDATE media_entries SET fail_conversion = 1 WHERE seq = ?", (row["seq"],))
        conn.execute(
            "UPDATE media_flavors SET final_status = ?, description = ? "
            "WHERE entry_id = ? AND is_original = 0 AND final_status = ?",
            (FLAVOR_ERROR, "Conversion failed (sandbox fault injection)", entry_id, FLAVOR_READY),
        )
        converted = row["media_type"] in (MEDIA_VIDEO, MEDIA_AUDIO)
        if converted and row["next_at"] is None and row["status"] in (ENTRY_READY, ENTRY_PRECONVERT, ENTRY_PENDING):
            conn.execute(
                "UPDATE media_entries SET status = ? WHERE seq = ?",
                (ENTRY_ERROR_CONVERTING, row["seq"]),
            )
            conn.execute(
                "UPDATE media_flavors SET status = final_status, next_at = NULL WHERE entry_id = ? AND is_original = 0",
                (entry_id,),
            )
    return True
