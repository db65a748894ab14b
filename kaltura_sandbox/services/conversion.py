"""``conversionProfile.getDefault`` and ``flavorParams.list``: what renditions a partner gets,
and whether it can have 4K (reference §8).

The partner's default media profile lists the system flavor params it converts to. 4K params
(height >= 2160, and the 1440p one) require ``FEATURE_4K_FLAVORS``: without the partner's 4K
switch (``has_4k``) they are neither in the profile nor visible to ``flavorParams.list``.
Both actions need an admin role: a plain USER session gets ``SERVICE_FORBIDDEN`` unless its
``setrole`` role grants ``CONVERSION_PROFILE_READ`` / ``FLAVOR_PARAMS_READ``.
"""

from __future__ import annotations

from .. import media_store as ms
from .. import processing, registry
from ..context import Call
from ..errors import ApiError
from ..params import coerce_enum, coerce_int, coerce_str
from ..registry import action
from . import media

PROFILE_TYPE_MEDIA = "1"
PROFILE_TYPE_LIVE = "2"
PROFILE_CREATED_AT = 1_577_836_800  # profiles are part of the partner's setup


def profile_object(call: Call, profile_type: str) -> dict:
    """The partner's default ``KalturaConversionProfile`` of a type (media or live)."""
    partner = call.store.partner(call.require_partner())
    if partner is None:
        raise ApiError("MISSING_KS")
    has_4k = partner.has_4k
    is_live = profile_type == PROFILE_TYPE_LIVE
    profile_id = processing.default_profile_id(partner.id) + (1 if is_live else 0)
    flavor_ids = "" if is_live else ",".join(str(i) for i in processing.profile_flavor_ids(has_4k))
    return {
        "objectType": "KalturaConversionProfile",
        "relatedObjects": None,
        "id": profile_id,
        "partnerId": partner.id,
        "status": "2",
        "type": profile_type,
        "name": "Default - Live" if is_live else "Default",
        "systemName": "Default_Live" if is_live else "Default",
        "tags": "",
        "description": "The default set of flavors. If not specified otherwise all media "
        "uploaded will be converted based on the definition in this profile",
        "defaultEntryId": None,
        "createdAt": PROFILE_CREATED_AT,
        "flavorParamsIds": flavor_ids,
        "isDefault": True,
        "isPartnerDefault": True,
        "cropDimensions": None,
        "clipStart": None,
        "clipDuration": None,
        "xslTransformation": None,
        "storageProfileId": None,
        "mediaParserType": "0",
        "calculateComplexity": True,
        "collectionTags": "mbr,ism",
        "conditionalProfiles": None,
        "detectGOP": None,
        "mediaInfoXslTransformation": None,
        "defaultReplacementOptions": None,
        "defaultAudioLang": None,
    }


# Permissions: deployment/permissions/service.conversionprofile.ini (getdefault).
@action("conversionProfile", "getDefault", permissions=(registry.TRANSCODING_BASE,))
def conversion_profile_get_default(call: Call) -> dict:
    """The partner's default conversion profile (``type`` 1/null = media, 2 = live)."""
    profile_type = coerce_str(call.params.get("type"), "type") or PROFILE_TYPE_MEDIA
    if profile_type not in (PROFILE_TYPE_MEDIA, PROFILE_TYPE_LIVE):
        raise ApiError(
            "INVALID_ENUM_VALUE", ENUM_VAL=profile_type, PARAM_NAME="type", ENUM_TYPE="KalturaConversionProfileType"
        )
    return profile_object(call, profile_type)


def params_object(params: processing.FlavorParams) -> dict:
    """A ``KalturaFlavorParams`` (``KalturaAssetParams`` properties first)."""
    required = (
        [{"objectType": "KalturaString", "value": params.required_permission}] if params.required_permission else []
    )
    return {
        "objectType": "KalturaFlavorParams",
        "relatedObjects": None,
        "id": params.id,
        "partnerId": 0,
        "name": params.name,
        "systemName": params.system_name,
        "description": params.description,
        "createdAt": PROFILE_CREATED_AT,
        "isSystemDefault": 1,
        "tags": params.tags,
        "requiredPermissions": required,
        "sourceRemoteStorageProfileId": None,
        "remoteStorageProfileIds": None,
        "mediaParserType": None,
        "sourceAssetParamsIds": None,
        "videoCodec": params.video_codec,
        "videoBitrate": params.video_bitrate,
        "audioCodec": "" if params.is_source else "aac",
        "audioBitrate": params.audio_bitrate,
        "audioChannels": 0 if params.is_source else 2,
        "audioSampleRate": 0 if params.is_source else 44100,
        "width": params.width,
        "height": params.height,
        "frameRate": 0,
        "gopSize": 0,
        "conversionEngines": None if params.is_source else "2,99,3",
        "conversionEnginesExtraParams": None,
        "twoPass": False,
        "deinterlice": 0,
        "rotate": 0,
        "operators": None,
        "engineVersion": 0,
        "format": params.format,
        "aspectRatioProcessingMode": 0,
        "forceFrameToMultiplication16": 0 if params.is_source else 1,
        "isGopInSec": 0,
        "isAvoidVideoShrinkFramesizeToSource": 0,
        "isAvoidVideoShrinkBitrateToSource": 0,
        "isVideoFrameRateForLowBrAppleHls": 0,
        "multiStream": None,
        "anamorphicPixels": 0,
        "isAvoidForcedKeyFrames": 0,
        "forcedKeyFramesMode": 1,
        "isCropIMX": 0,
        "optimizationPolicy": 0,
        "maxFrameRate": params.max_frame_rate,
        "videoConstantBitrate": 0,
        "videoBitrateTolerance": 0,
        "watermarkData": None,
        "subtitlesData": None,
        "isEncrypted": 0,
        "contentAwareness": 0,
        "chunkedEncodeMode": 0,
        "clipOffset": None,
        "clipDuration": None,
    }


# Permissions: deployment/permissions/service.flavorparams.ini (list).
@action(
    "flavorParams",
    "list",
    permissions=(
        registry.TRANSCODING_BASE,
        registry.CONTENT_MANAGE_DISTRIBUTION_PROFILE_MODIFY,
        registry.CONTENT_MODERATE_BASE,
        registry.CONTENT_MANAGE_BASE,
        registry.KMC_READ_ONLY,
        registry.CAPTURE_DEVICE,
    ),
)
def flavor_params_list(call: Call) -> dict:
    """The flavor params the partner may use (4K ones only with the 4K switch)."""
    flt = call.obj("filter", type_name="KalturaFlavorParamsFilter")
    limit, offset = media.pager_window(call, search_index=False)
    partner = call.store.partner(call.require_partner())
    items = [p for p in processing.visible_params(bool(partner and partner.has_4k)) if _matches(p, flt)]
    page = items[offset : offset + limit] if limit else []
    return {
        "objectType": "KalturaFlavorParamsListResponse",
        "relatedObjects": None,
        "objects": [params_object(p) for p in page],
        "totalCount": len(items),
    }


def _matches(params: processing.FlavorParams, flt: dict) -> bool:
    """``KalturaFlavorParamsFilter``: idEqual/idIn, systemNameEqual/In, isSystemDefaultEqual,
    tagsEqual, formatEqual."""
    id_equal = coerce_int(flt.get("idEqual"), "idEqual")
    if id_equal is not None and params.id != id_equal:
        return False
    id_in = coerce_str(flt.get("idIn"), "idIn")
    if id_in is not None and str(params.id) not in ms.split_list(id_in):
        return False
    system_name = coerce_str(flt.get("systemNameEqual"), "systemNameEqual")
    if system_name is not None and params.system_name != system_name:
        return False
    system_in = coerce_str(flt.get("systemNameIn"), "systemNameIn")
    if system_in is not None and params.system_name not in ms.split_list(system_in):
        return False
    default = coerce_enum(flt.get("isSystemDefaultEqual"), "isSystemDefaultEqual", (-1, 0, 1), "KalturaNullableBoolean")
    if default == 0:
        return False
    tags = coerce_str(flt.get("tagsEqual"), "tagsEqual")
    if tags is not None and params.tags != tags:
        return False
    fmt = coerce_str(flt.get("formatEqual"), "formatEqual")
    return fmt is None or params.format == fmt
