"""Live checks of a hub's Kaltura connection (issue 4, item 5): "Test connection" and ``portal kaltura check``.

:func:`run_live_checks` asks Kaltura, in order: does the service answer; does a session start with
each token; are the effective privileges of each session (as Kaltura reports them, not as pasted)
right for its role; do the partner ids match; how many entries can the client token's session
list; does the account produce 4K flavors. Each answer is a :class:`CheckRow` that passes, warns
or fails, with Kaltura's error code when there is one and what to do.

It never raises: an unreachable or slow Kaltura is a failing row (the service check makes a single
attempt, so it fails within one timeout), and once Kaltura stops answering the remaining checks
are reported as not run instead of each waiting for its own timeout.

The whole run has one time budget, :data:`CHECK_BUDGET` seconds (well inside gunicorn's 75-second
worker timeout): every call is cut off when it runs out, and the checks not yet run are reported
as skipped. A Kaltura that answers slowly but validly therefore costs at most the budget, not the
sum of its answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from portal.kaltura.client import time_left, time_limit
from portal.kaltura.errors import KalturaApiError, KalturaError, KalturaUnavailable, OutboundBlocked
from portal.kaltura.gateway import KalturaGateway, TokenRef
from portal.kaltura.outbound import ServiceUrl
from portal.kaltura.types import SessionInfo, SessionType

logger = logging.getLogger("portal.kaltura")

Status = Literal["pass", "warn", "fail", "skip"]

#: What an admin can do so that the portal may look up and create members' Kaltura users. Kaltura has no
#: permission named ADMIN_USER_BASE: ``user.list``/``user.get`` of others need ADMIN_BASE, ``user.add``
#: needs ADMIN_USER_ADD (``deployment/permissions/service.user.ini``).
USER_ROLE_ADVICE = (
    "create a Kaltura role with the permissions ADMIN_BASE (read users) and ADMIN_USER_ADD (add users), "
    "then create the server App Token with sessionPrivileges 'disableentitlement,setrole:ROLE_ID' (ROLE_ID "
    "is the new role's id) and paste it here"
)
#: ``user.add`` with this id proves the permission without creating anyone: Kaltura checks the role before
#: the action runs, and then refuses the id itself (spaces are not allowed in user ids, reference §7).
PROBE_USER_ID = "portal permission check"

#: Seconds one run of the live checks may take in all; PORTAL_KALTURA_TIMEOUT may not exceed it.
CHECK_BUDGET = 30.0


@dataclass(frozen=True)
class CheckRow:
    """One live check. ``status`` is pass/warn/fail, or skip when an earlier failure made it pointless."""

    key: str
    status: Status
    title: str
    detail: str
    code: str | None = None
    what_to_do: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "title": self.title,
            "detail": self.detail,
            "code": self.code,
            "what_to_do": self.what_to_do,
        }

    @property
    def failed(self) -> bool:
        return self.status == "fail"


class _Run:
    """The state of one run: rows so far, and whether Kaltura has stopped answering (or time ran out)."""

    def __init__(self, budget: float) -> None:
        self.rows: list[CheckRow] = []
        self.stopped: str | None = None
        self.out_of_time = f"the test reached its {budget:g}-second limit"

    def add(self, row: CheckRow) -> None:
        self.rows.append(row)

    def skip(self, key: str, title: str, because: str) -> None:
        # Once time has run out, that is the reason for everything not run, whatever it depended on.
        reason = self.out_of_time if self.stopped == self.out_of_time else because
        self.add(CheckRow(key, "skip", title, f"Not run: {reason}."))

    def attempt(self, key: str, title: str, action: Callable[[], CheckRow]) -> CheckRow | None:
        """Run one check, turning any failure into a failing row. Returns the row."""
        if not self.stopped and time_left() == 0:
            self.stopped = self.out_of_time
        if self.stopped:
            self.skip(key, title, self.stopped)
            return None
        try:
            row = action()
        except KalturaUnavailable as error:
            if time_left() == 0:
                self.stopped = self.out_of_time
                row = _error_row(
                    key, title, error, f"The test stopped here: it reached its time limit. {error.summary()}"
                )
            else:
                self.stopped = "Kaltura stopped answering"
                row = _error_row(key, title, error)
        except OutboundBlocked as error:
            self.stopped = "the portal may not connect to this service URL"
            row = _error_row(key, title, error)
        except KalturaError as error:
            row = _error_row(key, title, error)
        except Exception:  # last resort: the settings page must get rows, never a 500
            logger.exception("kaltura live check %s crashed", key)
            row = CheckRow(
                key,
                "fail",
                title,
                "The check failed unexpectedly; the details are in the server log.",
                what_to_do="try again, and contact support if it keeps happening",
            )
        self.add(row)
        return row


def _error_row(key: str, title: str, error: KalturaError, detail: str | None = None) -> CheckRow:
    code = error.code if isinstance(error, KalturaApiError) else None
    return CheckRow(key, "fail", title, detail or error.summary(), code, error.what_to_do())


def run_live_checks(
    gateway: KalturaGateway,
    service_url: str | ServiceUrl,
    client_token: TokenRef,
    server_token: TokenRef,
    user_id: str | None = None,
    *,
    budget: float = CHECK_BUDGET,
) -> list[CheckRow]:
    """Run every live check against Kaltura and return the rows, in a fixed order. Never raises.

    ``user_id`` is the Kaltura user the client token's session is started for (the admin's own
    mapped id makes the entry count meaningful); ``None`` starts an anonymous USER session.
    Each call is tried once, so a stalled Kaltura fails its row within one timeout, and the whole
    run ends within ``budget`` seconds.
    """
    with gateway.single_attempt() as quick, time_limit(budget):
        return _run_checks(quick, service_url, client_token, server_token, user_id, budget)


def _run_checks(
    gateway: KalturaGateway,
    service_url: str | ServiceUrl,
    client_token: TokenRef,
    server_token: TokenRef,
    user_id: str | None,
    budget: float,
) -> list[CheckRow]:
    run = _Run(budget)
    target = _service_row(run, gateway, service_url)
    sessions: dict[str, SessionInfo] = {}

    def start(role: str, token: TokenRef, user: str | None, kind: SessionType | None) -> CheckRow:
        assert target is not None
        info = gateway.start_session(target, token, user, session_type=kind, fresh=True)
        sessions[role] = info
        who = f"as Kaltura user {info.user_id!r}" if info.user_id else "as an anonymous user"
        kind_name = _session_type_name(info)
        return CheckRow(
            f"{role}_session",
            "pass",
            f"The {role} token starts a session",
            f"Kaltura started a {kind_name} session {who} for partner {info.partner_id}.",
        )

    run.attempt(
        "client_session",
        "The client token starts a session",
        lambda: start("client", client_token, user_id, SessionType.USER),
    )
    run.attempt(
        "server_session", "The server token starts a session", lambda: start("server", server_token, None, None)
    )
    _privilege_rows(run, sessions, user_id)
    _partner_row(run, sessions, client_token, server_token)
    _entries_row(run, gateway, target, client_token, user_id, "client" in sessions)
    _four_k_row(run, gateway, target, server_token, "server" in sessions)
    _user_rows(run, gateway, target, server_token, "server" in sessions)
    return run.rows


def _service_row(run: _Run, gateway: KalturaGateway, service_url: str | ServiceUrl) -> ServiceUrl | None:
    title = "Kaltura answers at the service URL"
    target: list[ServiceUrl] = []

    def check() -> CheckRow:
        url = service_url if isinstance(service_url, ServiceUrl) else gateway.check_service_url(service_url)
        target.append(url)
        gateway.ping(url, retry=False)
        return CheckRow("service", "pass", title, f"A Kaltura API answered at {url.origin}.")

    run.attempt("service", title, check)
    return target[0] if target and not run.stopped else None


def _session_type_name(info: SessionInfo) -> str:
    return info.session_type.name if isinstance(info.session_type, SessionType) else f"type {info.session_type}"


def _privilege_rows(run: _Run, sessions: dict[str, SessionInfo], user_id: str | None) -> None:
    client_title = "The client session's privileges fit its role"
    server_title = "The server session's privileges fit its role"
    if "client" in sessions:
        run.attempt("client_privileges", client_title, lambda: _client_privileges(sessions["client"], user_id))
    else:
        run.skip("client_privileges", client_title, "no client session")
    if "server" in sessions:
        run.attempt("server_privileges", server_title, lambda: _server_privileges(sessions["server"]))
    else:
        run.skip("server_privileges", server_title, "no server session")


def _client_privileges(info: SessionInfo, user_id: str | None) -> CheckRow:
    title = "The client session's privileges fit its role"
    privileges = info.privileges
    shown = str(privileges) or "(none)"
    if not privileges.enables_entitlement:
        return CheckRow(
            "client_privileges",
            "fail",
            title,
            f"Kaltura's session has no enableentitlement (privileges: {shown}), so users could see "
            "media they are not entitled to.",
            what_to_do="create the client token with enableentitlement in its sessionPrivileges",
        )
    problems = []
    if info.session_type == SessionType.ADMIN:
        problems.append("it is an ADMIN session (least privilege: use USER with a role)")
    if not privileges.lists_all:
        problems.append("without list:* users see only media they own")
    if not privileges.privacy_context:
        problems.append("without privacycontext users do not see media published to your categories")
    if user_id and info.user_id and info.user_id != user_id:
        problems.append(f"the token fixes the user to {info.user_id!r}, so every portal user acts as that user")
    if problems:
        return CheckRow(
            "client_privileges",
            "warn",
            title,
            f"Privileges {shown}: " + "; ".join(problems) + ".",
            what_to_do="adjust the client token's sessionPrivileges as described, then paste it again",
        )
    return CheckRow("client_privileges", "pass", title, f"USER session with entitlement enforced ({shown}).")


def _server_privileges(info: SessionInfo) -> CheckRow:
    title = "The server session's privileges fit its role"
    shown = str(info.privileges) or "(none)"
    if not info.privileges.disables_entitlement:
        return CheckRow(
            "server_privileges",
            "fail",
            title,
            f"Kaltura's session does not disable entitlement (privileges: {shown}), so user lookups and "
            "checks could miss users and media.",
            what_to_do="create the server token with disableentitlement (and without enableentitlement)",
        )
    if info.session_type == SessionType.ADMIN:
        return CheckRow(
            "server_privileges",
            "warn",
            title,
            f"ADMIN session with entitlement disabled ({shown}). It "
            "works, but an ADMIN session can change everything in the account.",
            what_to_do="least privilege: use a USER session type with a role (setrole) that allows "
            "user and conversion-profile reads and user.add",
        )
    return CheckRow(
        "server_privileges", "pass", title, f"{_session_type_name(info)} session with entitlement disabled ({shown})."
    )


def _partner_row(run: _Run, sessions: dict[str, SessionInfo], client: TokenRef, server: TokenRef) -> None:
    title = "Both tokens belong to the same Kaltura account"
    if "client" not in sessions or "server" not in sessions:
        run.skip("partner", title, "both sessions are needed")
        return

    def check() -> CheckRow:
        ids = {sessions["client"].partner_id, sessions["server"].partner_id, client.partner_id, server.partner_id}
        if len(ids) == 1:
            return CheckRow("partner", "pass", title, f"Both sessions are for partner {ids.pop()}.")
        return CheckRow(
            "partner",
            "fail",
            title,
            f"The client session is for partner {sessions['client'].partner_id} and the server session "
            f"for partner {sessions['server'].partner_id}.",
            what_to_do="create both App Tokens in the same Kaltura account",
        )

    run.attempt("partner", title, check)


def _entries_row(
    run: _Run, gateway: KalturaGateway, target: ServiceUrl | None, token: TokenRef, user_id: str | None, ready: bool
) -> None:
    title = "The client token's session can list entries"
    if target is None or not ready:
        run.skip("entries", title, "no client session")
        return

    def check() -> CheckRow:
        count = gateway.count_entries(target, token, user_id)
        who = f"user {user_id!r}" if user_id else "an anonymous user"
        if count == 0:
            return CheckRow(
                "entries",
                "warn",
                title,
                f"The session for {who} can list no entries, so the picker will be empty.",
                what_to_do="check the token's privileges (list:*, privacycontext) and "
                "the user's entitlements in Kaltura",
            )
        noun = "entry" if count == 1 else "entries"
        return CheckRow("entries", "pass", title, f"The session for {who} can list {count} {noun}.")

    run.attempt("entries", title, check)


def _four_k_row(run: _Run, gateway: KalturaGateway, target: ServiceUrl | None, token: TokenRef, ready: bool) -> None:
    title = "The account produces 4K flavors"
    if target is None or not ready:
        run.skip("four_k", title, "no server session")
        return

    def check() -> CheckRow:
        result = gateway.check_4k(target, token)
        if result.supported is None:
            return CheckRow(
                "four_k",
                "warn",
                title,
                result.reason,
                result.error_code,
                "ask your Kaltura account manager to confirm 4K flavors, or widen the server token's role",
            )
        if result.supported:
            return CheckRow("four_k", "pass", title, result.reason)
        return CheckRow(
            "four_k",
            "fail",
            title,
            result.reason,
            what_to_do="ask Kaltura to enable 4K flavors and add one to the default conversion profile",
        )

    run.attempt("four_k", title, check)


def _user_rows(run: _Run, gateway: KalturaGateway, target: ServiceUrl | None, token: TokenRef, ready: bool) -> None:
    """Whether the server token may look up and create users (a token made by the help article's recipe
    may do neither: it then passes every other check and fails only when a member first uses Kaltura)."""
    read_title = "The server token can look up users"
    add_title = "The server token can create users"
    if target is None or not ready:
        run.skip("users_read", read_title, "no server session")
        run.skip("users_add", add_title, "no server session")
        return

    def can_read() -> CheckRow:
        try:
            gateway.get_user(target, token, PROBE_USER_ID.replace(" ", "-"))
        except KalturaApiError as error:
            if not error.is_forbidden:
                raise
            return CheckRow(
                "users_read",
                "warn",
                read_title,
                f"Kaltura refused user.list ({error.code}): the portal cannot check whether a member already "
                "has a Kaltura user. Each member's own session is asked instead, and members Kaltura does not "
                "know yet stay 'pending' until their first upload creates them.",
                error.code,
                USER_ROLE_ADVICE,
            )
        return CheckRow("users_read", "pass", read_title, "The server session may list Kaltura users (user.list).")

    def can_add() -> CheckRow:
        try:
            gateway.add_user(target, token, PROBE_USER_ID)
        except KalturaApiError as error:
            if error.is_forbidden:
                return CheckRow(
                    "users_add",
                    "warn",
                    add_title,
                    f"Kaltura refused user.add ({error.code}): members without a Kaltura user are not created "
                    "by the portal. Kaltura creates each one on their first upload; until then they are "
                    "'pending' (they can browse, and their account page says so).",
                    error.code,
                    USER_ROLE_ADVICE,
                )
            # Any other refusal came after the permission check: the role allows user.add.
        return CheckRow(
            "users_add",
            "pass",
            add_title,
            "The server session may add Kaltura users (user.add, checked without creating one).",
        )

    run.attempt("users_read", read_title, can_read)
    run.attempt("users_add", add_title, can_add)
