"""The action registry: which ``service.action`` names exist and which permissions allow them.

Service modules register handlers with the ``@action`` decorator, naming the Kaltura permissions
that allow the action, exactly as ``deployment/permissions/service.<name>.ini`` of Kaltura's server
lists them for the action's permission item (partner-group items such as ``-1>BATCH_BASE`` are
left out: they belong to Kaltura's internal partners)::

    @action("media", "get", permissions=(CONTENT_MANAGE_BASE, BASE_USER_SESSION, WIDGET_SESSION))
    def media_get(call: Call) -> dict: ...

Names are matched case-insensitively, like Kaltura's dispatcher (``uploadToken`` and
``uploadtoken`` are the same service). The core checks the KS requirement (``MISSING_KS`` /
``INVALID_KS``) and then whether the session's role grants one of the action's permissions
(``SERVICE_FORBIDDEN`` otherwise) before the handler runs; see ``app.SandboxApp._authorize``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Call

KS_MODES = ("required", "optional", "none")

# -- Kaltura permission names (alpha/lib/enums/PermissionName.php, deployment/permissions/*.ini) --

#: Granted to every role, and to calls without a KS (``kPermissionManager::getPermissionsFromDb``).
ALWAYS_ALLOWED = "ALWAYS_ALLOWED_ACTIONS"
#: The only permission of ``BASE_USER_SESSION_ROLE``: a USER session without a role
#: (``deployment/base/scripts/init_data/03.UserRole.ini``).
BASE_USER_SESSION = "BASE_USER_SESSION_PERMISSION"
#: The only permission of ``WIDGET_SESSION_ROLE`` (anonymous widget sessions).
WIDGET_SESSION = "WIDGET_SESSION_PERMISSION"
PLAYBACK_BASE = "PLAYBACK_BASE_PERMISSION"
CAPTURE_DEVICE = "CAPTURE_DEVICE_PERMISSION"
BASE_UPLOAD = "BASE_UPLOAD_PERMISSION"
KMC_READ_ONLY = "KMC_READ_ONLY"
KMC_ACCESS = "KMC_ACCESS"
CONTENT_MANAGE_BASE = "CONTENT_MANAGE_BASE"
CONTENT_MANAGE_DELETE = "CONTENT_MANAGE_DELETE"
CONTENT_MANAGE_METADATA = "CONTENT_MANAGE_METADATA"
CONTENT_MANAGE_SCHEDULE = "CONTENT_MANAGE_SCHEDULE"
CONTENT_MANAGE_ACCESS_CONTROL = "CONTENT_MANAGE_ACCESS_CONTROL"
CONTENT_MANAGE_THUMBNAIL = "CONTENT_MANAGE_THUMBNAIL"
CONTENT_MANAGE_ASSIGN_CATEGORIES = "CONTENT_MANAGE_ASSIGN_CATEGORIES"
CONTENT_MANAGE_DISTRIBUTION_PROFILE_MODIFY = "CONTENT_MANAGE_DISTRIBUTION_PROFILE_MODIFY"
CONTENT_MODERATE_BASE = "CONTENT_MODERATE_BASE"
CONTENT_MODERATE_METADATA = "CONTENT_MODERATE_METADATA"
CONTENT_INGEST_UPLOAD = "CONTENT_INGEST_UPLOAD"
CONTENT_INGEST_ORPHAN_VIDEO = "CONTENT_INGEST_ORPHAN_VIDEO"
CONTENT_INGEST_ORPHAN_AUDIO = "CONTENT_INGEST_ORPHAN_AUDIO"
LIVE_STREAM_ADD = "LIVE_STREAM_ADD"
PLAYLIST_BASE = "PLAYLIST_BASE"
PLAYLIST_ADD = "PLAYLIST_ADD"
PLAYLIST_UPDATE = "PLAYLIST_UPDATE"
ATTACHMENT_MODIFY = "ATTACHMENT_MODIFY"
CAPTION_MODIFY = "CAPTION_MODIFY"
ADMIN_BASE = "ADMIN_BASE"
ADMIN_USER_ADD = "ADMIN_USER_ADD"
ADMIN_USER_UPDATE = "ADMIN_USER_UPDATE"
ADMIN_USER_DELETE = "ADMIN_USER_DELETE"
ACCOUNT_BASE = "ACCOUNT_BASE"
EP_BASE = "EP_BASE"
WEBCAST_PRODUCER = "WEBCAST_PRODUCER_PERMISSION"
APP_TOKEN_BASE = "APP_TOKEN_BASE"
APP_TOKEN_ADD = "APP_TOKEN_ADD"
APP_TOKEN_UPDATE = "APP_TOKEN_UPDATE"
APP_TOKEN_DELETE = "APP_TOKEN_DELETE"
SESSION_READ = "SESSION_READ_PERMISSION"
TRANSCODING_BASE = "TRANSCODING_BASE"

#: A role's permission list with this item grants every permission (``UserRole::getPermissionNames``
#: translates ``*`` to all permissions valid for the partner): the partner administrator role.
ALL_PERMISSIONS = "*"


@dataclass(frozen=True)
class Action:
    """One registered API action and its access rules.

    ``ks``: "required" (no KS -> MISSING_KS), "optional" (a KS is validated if present), or
    "none" (the action ignores the KS, e.g. session.start).
    ``permissions``: the Kaltura permissions of the action's permission item; a session whose
    role grants any of them (or ``*``) may call it. ``ALWAYS_ALLOWED_ACTIONS`` lets anyone.
    """

    service: str
    name: str
    handler: Callable[[Call], object]
    permissions: tuple[str, ...]
    ks: str = "required"

    @property
    def key(self) -> str:
        """The lowercase ``service.action`` name used for counters and faults."""
        return f"{self.service}.{self.name}"

    @property
    def always_allowed(self) -> bool:
        """Whether every session (and no session) may call it."""
        return ALWAYS_ALLOWED in self.permissions


_ACTIONS: dict[tuple[str, str], Action] = {}


def action(
    service: str,
    name: str,
    *,
    permissions: tuple[str, ...],
    ks: str = "required",
) -> Callable[[Callable[[Call], object]], Callable[[Call], object]]:
    """Register ``fn(call) -> result`` as the handler of ``service.name``."""
    if ks not in KS_MODES:
        raise ValueError(f"ks must be one of {KS_MODES}, not {ks!r}")
    if not permissions:
        raise ValueError(f"{service}.{name} needs at least one permission")

    def register(fn: Callable[[Call], object]) -> Callable[[Call], object]:
        key = (service.lower(), name.lower())
        _ACTIONS[key] = Action(key[0], key[1], fn, tuple(permissions), ks)
        return fn

    return register


def lookup(service: str, name: str) -> Action | None:
    """The action registered under ``service.name`` (case-insensitive), or None."""
    return _ACTIONS.get((service.lower(), name.lower()))


def service_exists(service: str) -> bool:
    """Whether any action is registered for ``service`` (case-insensitive)."""
    wanted = service.lower()
    return any(key[0] == wanted for key in _ACTIONS)


def all_actions() -> list[Action]:
    """Every registered action, sorted by service and name."""
    return [_ACTIONS[key] for key in sorted(_ACTIONS)]
