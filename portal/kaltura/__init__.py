"""The Kaltura gateway: the only code in the portal that talks to Kaltura (DESIGN §2-3).

Public API:

* :class:`KalturaGateway` (``gateway.py``): build one from settings, call its typed methods.
* :func:`parse_app_token`, :func:`validate_pair` (``tokens.py``): pasted App Token JSON → typed
  :class:`AppToken` plus :class:`Finding` rows; no network.
* :func:`run_live_checks` (``diagnostics.py``): "Test connection" rows; never raises.
* the errors of ``errors.py``; the typed results of ``types.py``; the URL policy of ``outbound.py``.

No Flask in this package: views and services pass settings and values in.
"""

from portal.kaltura.diagnostics import CheckRow, run_live_checks
from portal.kaltura.errors import (
    Forbidden,
    InvalidSession,
    KalturaApiError,
    KalturaError,
    KalturaUnavailable,
    NotFound,
    OutboundBlocked,
)
from portal.kaltura.gateway import GatewaySettings, KalturaGateway
from portal.kaltura.outbound import SAAS_REGIONS, KalturaRegion, OutboundPolicy, ServiceUrl
from portal.kaltura.tokens import AppToken, Finding, PairResult, parse_app_token, validate_pair
from portal.kaltura.types import (
    ConversionProfile,
    FlavorParams,
    FourKResult,
    KalturaUser,
    MediaEntry,
    MediaPage,
    Privileges,
    SessionInfo,
    SessionType,
)

__all__ = [
    "SAAS_REGIONS",
    "AppToken",
    "CheckRow",
    "ConversionProfile",
    "Finding",
    "FlavorParams",
    "Forbidden",
    "FourKResult",
    "GatewaySettings",
    "InvalidSession",
    "KalturaApiError",
    "KalturaError",
    "KalturaGateway",
    "KalturaRegion",
    "KalturaUnavailable",
    "KalturaUser",
    "MediaEntry",
    "MediaPage",
    "NotFound",
    "OutboundBlocked",
    "OutboundPolicy",
    "PairResult",
    "Privileges",
    "ServiceUrl",
    "SessionInfo",
    "SessionType",
    "parse_app_token",
    "run_live_checks",
    "validate_pair",
]
