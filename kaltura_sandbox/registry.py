"""The action registry: which ``service.action`` names exist and what they require.

Service modules register handlers with the ``@action`` decorator::

    @action("media", "get", permission="MEDIA_READ")
    def media_get(call: Call) -> dict: ...

Names are matched case-insensitively, like Kaltura's dispatcher (``uploadToken`` and
``uploadtoken`` are the same service). The core checks the KS requirement (``MISSING_KS`` /
``INVALID_KS``) and the role permission (``SERVICE_FORBIDDEN``) before the handler runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Call

KS_MODES = ("required", "optional", "none")

#: Permission names used with ``@action(permission=...)``. An ADMIN session passes every check; a
#: USER session passes when its role grants the name: the ``setrole`` role, else the KS user's own
#: role, else the partner's default user role (which has only the ``BASE_*`` permissions). The demo
#: server App Token's role grants USER_READ, USER_ADD, CONVERSION_PROFILE_READ, FLAVOR_PARAMS_READ.
PERMISSIONS = (
    "APP_TOKEN_ADD",
    "APP_TOKEN_DELETE",
    "APP_TOKEN_LIST",
    "APP_TOKEN_UPDATE",
    "CONVERSION_PROFILE_READ",
    "FLAVOR_PARAMS_READ",
    "USER_ADD",
    "USER_READ",
)


@dataclass(frozen=True)
class Action:
    """One registered API action and its access rules.

    ``ks``: "required" (no KS -> MISSING_KS), "optional" (a KS is validated if present), or
    "none" (the action ignores the KS, e.g. session.start).
    ``admin_only``: a USER session needs a role granting ``permission`` (or, when no
    permission is named, an admin role) to call it.
    ``permission``: the role permission a USER session needs; ADMIN sessions always pass.
    """

    service: str
    name: str
    handler: Callable[[Call], object]
    ks: str = "required"
    admin_only: bool = False
    permission: str | None = None

    @property
    def key(self) -> str:
        """The lowercase ``service.action`` name used for counters and faults."""
        return f"{self.service}.{self.name}"


_ACTIONS: dict[tuple[str, str], Action] = {}


def action(
    service: str,
    name: str,
    *,
    ks: str = "required",
    admin_only: bool = False,
    permission: str | None = None,
) -> Callable[[Callable[[Call], object]], Callable[[Call], object]]:
    """Register ``fn(call) -> result`` as the handler of ``service.name``."""
    if ks not in KS_MODES:
        raise ValueError(f"ks must be one of {KS_MODES}, not {ks!r}")

    def register(fn: Callable[[Call], object]) -> Callable[[Call], object]:
        key = (service.lower(), name.lower())
        _ACTIONS[key] = Action(key[0], key[1], fn, ks, admin_only, permission)
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
