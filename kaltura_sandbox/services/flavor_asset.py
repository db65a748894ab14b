"""``flavorAsset.list``: the renditions of entries (reference §6.3).

Each entry's source asset (``isOriginal``) and its web renditions, with their status as of now
(QUEUED -> CONVERTING -> READY, NOT_APPLICABLE when a rendition would upscale the source, ERROR
when the conversion failed). Allowed for user and widget sessions; the filter must name the
entries (``entryIdEqual``, or up to 500 ids in ``entryIdIn``), and only flavors of entries the
session may see are listed.
"""

from __future__ import annotations

from .. import media_store as ms
from .. import processing, registry
from ..context import Call
from ..errors import ApiError
from ..params import coerce_enum, coerce_int, coerce_str
from ..registry import action
from . import media

MAX_ENTRY_IDS = 500
FILTER_TYPES = ("KalturaAssetFilter", "KalturaFlavorAssetFilter")
FLAVOR_STATUSES = (-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)


def flavor_object(row) -> dict:
    """A ``KalturaFlavorAsset`` (``KalturaAsset`` properties first)."""
    return {
        "objectType": "KalturaFlavorAsset",
        "relatedObjects": None,
        "id": row["id"],
        "entryId": row["entry_id"],
        "partnerId": row["partner_id"],
        "version": 1,
        "size": row["size_bytes"] // 1024,
        "tags": row["tags"],
        "fileExt": row["file_ext"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "deletedAt": None,
        "description": row["description"],
        "partnerData": None,
        "partnerDescription": None,
        "actualSourceAssetParamsIds": None,
        "sizeInBytes": row["size_bytes"],
        "flavorParamsId": row["flavor_params_id"],
        "width": row["width"],
        "height": row["height"],
        "bitrate": row["bitrate"],
        "frameRate": row["frame_rate"],
        "isOriginal": bool(row["is_original"]),
        "isWeb": bool(row["is_web"]),
        "containerFormat": row["container_format"],
        "videoCodecId": row["video_codec_id"],
        "status": row["status"],
        "language": None,
        "label": None,
        "isDefault": None,
    }


# Permissions: deployment/permissions/service.flavorasset.ini (list).
@action(
    "flavorAsset",
    "list",
    permissions=(
        registry.CONTENT_MANAGE_BASE,
        registry.BASE_USER_SESSION,
        registry.WIDGET_SESSION,
        registry.PLAYBACK_BASE,
    ),
)
def flavor_asset_list(call: Call) -> dict:
    """Flavor assets by ``entryIdEqual``/``entryIdIn``, status and flavor params filters."""
    flt = call.obj("filter", type_name="KalturaAssetFilter")
    limit, offset = media.pager_window(call, search_index=False)
    processing.settle(call.store, call.now())
    query = media.Query()
    query.add("f.partner_id = ?", call.require_partner())
    _entry_scope(call, query, flt)
    _status_filters(query, flt)
    params_equal = coerce_int(flt.get("flavorParamsIdEqual"), "flavorParamsIdEqual")
    if params_equal is not None:
        query.add("f.flavor_params_id = ?", params_equal)
    params_in = coerce_str(flt.get("flavorParamsIdIn"), "flavorParamsIdIn")
    if params_in:
        query.add_in("f.flavor_params_id", [coerce_int(v, "flavorParamsIdIn") for v in ms.split_list(params_in)])
    clause = " AND ".join(query.where)
    total = call.store.scalar(f"SELECT count(*) FROM media_flavors f WHERE {clause}", query.params)
    rows = call.store.query(
        f"SELECT * FROM media_flavors f WHERE {clause} "
        "ORDER BY f.entry_id, f.is_original DESC, f.height, f.bitrate LIMIT ? OFFSET ?",
        (*query.params, limit, offset),
    )
    return {
        "objectType": "KalturaFlavorAssetListResponse",
        "relatedObjects": None,
        "objects": [flavor_object(row) for row in rows],
        "totalCount": total,
    }


def _entry_scope(call: Call, query: media.Query, flt: dict) -> None:
    """Only flavors of the named entries that the session may see.

    ``entryIdEqual`` or ``entryIdIn`` is required (``KalturaAssetFilter::validateEntryIdsFiltered``,
    reference §6.3): without either the answer is ``PROPERTY_VALIDATION_CANNOT_BE_NULL``. Up to
    ``MAX_ENTRY_IDS`` ids are taken from ``entryIdIn``, so one call polls many uploads.
    """
    equal = coerce_str(flt.get("entryIdEqual"), "entryIdEqual")
    listed = coerce_str(flt.get("entryIdIn"), "entryIdIn")
    if not equal and not listed:
        cls = flt.get("objectType") if flt.get("objectType") in FILTER_TYPES else "KalturaAssetFilter"
        raise ApiError("PROPERTY_VALIDATION_CANNOT_BE_NULL", PROP_NAME=f"{cls}::entryIdEqual/{cls}::entryIdIn")
    ids = [equal] if equal else ms.split_list(listed)[:MAX_ENTRY_IDS]
    visible = media.visible_entry_ids(call, list(dict.fromkeys(ids)))
    processing.materialize(call.store, call.require_partner(), visible)
    query.add_in("f.entry_id", visible)


def _status_filters(query: media.Query, flt: dict) -> None:
    status = coerce_enum(flt.get("statusEqual"), "statusEqual", FLAVOR_STATUSES, "KalturaFlavorAssetStatus")
    if status is not None:
        query.add("f.status = ?", status)
    for name, negate in (("statusIn", False), ("statusNotIn", True)):
        value = coerce_str(flt.get(name), name)
        if value:
            query.add_in("f.status", [coerce_int(v, name) for v in ms.split_list(value)], negate=negate)
    if flt.get("statusEqual") is None and not coerce_str(flt.get("statusIn"), "statusIn"):
        query.add("f.status != ?", ms.FLAVOR_DELETED)
