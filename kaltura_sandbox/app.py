"""The WSGI application: routing, the API envelope, multirequest, CORS and the control surface.

Routes:

* ``/api_v3/...`` (``/api_v3/service/S/action/A``, ``/api_v3/index.php?service=S&action=A``,
  ``/api_v3/service/multirequest``): the Kaltura API (reference §1).
* ``/p/...``: media delivery (thumbnails, playManifest, raw files), handled by ``delivery.handle``.
* ``/__control/...``: the test control surface, only when the server runs with ``--enable-control``.

Every API answer is HTTP 200 with the error in-band, except the faults the control surface injects
on purpose. An unexpected exception becomes ``INTERNAL_SERVERL_ERROR``; it is logged server-side
(without request parameters, which may hold secrets) and never shown as a traceback.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
import socket
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import delivery, registry, serialize
from . import ks as kslib
from . import params as P
from .context import Call, SandboxConfig, Session
from .control import Controls, Fault, FaultRate
from .errors import ApiError
from .store import Role, Store

log = logging.getLogger("kaltura_sandbox")

USER_BLOCKED = 0
USER_ACTIVE = 1
#: System names of the partner's default roles (``alpha/lib/enums/UserRoleId.php``).
PARTNER_ADMIN_ROLE = "PARTNER_ADMIN_ROLE"
BASE_USER_SESSION_ROLE = "BASE_USER_SESSION_ROLE"
WIDGET_SESSION_ROLE = "WIDGET_SESSION_ROLE"
#: Actions whose result is (or holds, as ``ks``) a new KS.
KS_ISSUING_ACTIONS = frozenset({"session.start", "session.startwidgetsession", "apptoken.startsession"})

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, HEAD, OPTIONS",
    "Access-Control-Expose-Headers": "X-Kaltura, X-Kaltura-Session, X-Me, X-Kaltura-App",
    "Access-Control-Max-Age": "86400",
}
SERVER_NAME = "kaltura-sandbox"
#: Parameters the envelope consumes; they are not action arguments.
COMMON_PARAMS = ("format", "clientTag", "apiVersion", "kalsig", "ignoreNull", "language", "callback")
_PLACEHOLDER = re.compile(r"\{(\d+):result((?::[^{}]*)?)\}")
MAX_FORM_MEMORY = 64 * 1024 * 1024


class SpoolingRequest(Request):
    """A request whose uploaded parts are written once, to a named file under ``files_dir/spool``.

    Kaltura's PHP writes an upload to its temporary directory once and moves it where it belongs;
    werkzeug's default spools to an anonymous file under /tmp that would have to be copied again.
    Here ``uploadToken.upload`` hard-links the part into place (``upload_token._receive``), so a
    500 MB upload is written once, not twice. The file is deleted when the request closes.
    """

    spool_dir: Path

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(mode="w+b", dir=self.spool_dir, prefix="part-")


@dataclass
class ParsedRequest:
    """The merged parameter tree and uploaded files of one HTTP request."""

    params: dict
    files: dict


class SandboxApp:
    """The sandbox WSGI application (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        config: SandboxConfig,
        controls: Controls | None = None,
        reset: Callable[[dict], None] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.controls = controls or Controls()
        self._reset = reset
        self._request_ids = itertools.count(1)

    # -- WSGI entry point ------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = SpoolingRequest(environ)
        request.spool_dir = Path(self.config.files_dir) / "spool"
        request.max_form_memory_size = MAX_FORM_MEMORY
        try:
            response = self.route(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = Response("Internal server error", status=500, mimetype="text/plain")
        try:
            return response(environ, start_response)
        finally:
            request.close()

    def route(self, request: Request) -> Response:
        """Dispatch by path prefix."""
        path = request.path
        if path.startswith("/__control"):
            if not self.config.enable_control:
                return Response("Not found", status=404, mimetype="text/plain")
            return self.control(request)
        if path.startswith("/p/"):
            return self._cors(delivery.handle(request, self.store, self.config), request)
        if path.startswith("/api_v3"):
            if request.method == "OPTIONS":
                return self._cors(Response("", status=200), request)
            return self._cors(self.api(request), request)
        return Response("Not found", status=404, mimetype="text/plain")

    @staticmethod
    def _cors(response: Response, request: Request) -> Response:
        """Let browsers on any origin call the API (uploads come straight from the browser)."""
        for name, value in CORS_HEADERS.items():
            response.headers.setdefault(name, value)
        # Echo the preflight's requested headers: "*" is not honoured by every browser.
        requested = request.headers.get("Access-Control-Request-Headers")
        response.headers.setdefault("Access-Control-Allow-Headers", requested or "*")
        return response

    # -- parameters ------------------------------------------------------------------------------

    def parse(self, request: Request) -> ParsedRequest:
        """Merge body, files, query and path parameters (reference §1.2)."""
        body: dict = {}
        content_type = request.headers.get("Content-Type", "").strip().lower()
        files: dict = {}
        if content_type == "application/json":
            decoded = P.parse_json_object(request.get_data(as_text=True))
            if decoded is not None:
                body = P.json_tree(decoded)
        elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = request.form
            if "json" in form and request.mimetype == "multipart/form-data":
                decoded = P.parse_json_object(form["json"])
                body = P.json_tree(decoded) if decoded is not None else {}
            else:
                body = P.build_tree(form.items(multi=False))
            files = P.build_tree(request.files.items(multi=False))
        params = P.merge(body, files)
        params = P.merge(params, P.build_tree(request.args.items(multi=False)))
        params = P.merge(params, P.build_tree(P.path_pairs(request.path)))
        return ParsedRequest(params=P.apply_nulls(_empty_arrays(params)), files=files)

    # -- the API ---------------------------------------------------------------------------------

    def api(self, request: Request) -> Response:
        """One API request (single action or multirequest); never an HTTP 500."""
        started = time.monotonic()
        try:
            return self._api(request, started)
        except ApiError as error:  # e.g. a malformed envelope parameter such as format[x]=1
            return self._error_response(request, error, started)
        except Exception:
            log.exception("internal error while handling %s", request.path)
            return self._error_response(request, ApiError("INTERNAL_SERVERL_ERROR"), started)

    @staticmethod
    def _error_response(request: Request, error: ApiError, started: float) -> Response:
        fmt = 1 if request.args.get("format") == "1" else 2
        body, mimetype = serialize.render(error, fmt, time.monotonic() - started)
        return Response(body, status=200, content_type=f"{mimetype}; charset=utf-8")

    def _api(self, request: Request, started: float) -> Response:
        parsed = self.parse(request)
        params = parsed.params
        fmt = P.coerce_int(params.get("format"), "format") if params.get("format") else 2
        if fmt not in serialize.SUPPORTED_FORMATS:
            return _unknown_format_response(fmt)
        service = _name(params.get("service")).lower()
        action = _name(params.get("action")).lower()
        is_multi = service == "multirequest"
        key = "multirequest" if is_multi else f"{service}.{action}"
        transport, lose_answer, rated_error = self._transport_fault(key, request)
        if transport is not None:
            return transport
        if rated_error is not None:
            body, mimetype = serialize.render(rated_error, fmt, time.monotonic() - started)
            return Response(body, status=200, content_type=f"{mimetype}; charset=utf-8")
        headers: dict[str, str] = {}
        if is_multi:
            result: Any = self.multirequest(params, request, headers)
        else:
            result = self.invoke(params, _files_tree(parsed.files), request, headers)
        if lose_answer:
            _drop_connection(request)
            return Response("", status=200)
        body, mimetype = serialize.render(
            result,
            fmt,
            time.monotonic() - started,
            P.coerce_bool(params.get("ignoreNull"), "") or False,
        )
        response = Response(body, status=200, content_type=f"{mimetype}; charset=utf-8")
        response.headers["X-Me"] = SERVER_NAME
        response.headers["X-Kaltura-Session"] = str(next(self._request_ids))
        response.headers.update(headers)
        return response

    def _transport_fault(self, key: str, request: Request) -> tuple[Response | None, bool, ApiError | None]:
        """Apply latency, then any HTTP-level fault queued for this action, else a fault rate's draw.

        Returns the response that replaces the call's, whether the call's own answer is to be
        lost after it ran (``drop_after``), and the in-band error a rate rule answers with instead.
        """
        self.controls.count(key)
        delay = self.controls.latency_for(key)
        if delay > 0:
            time.sleep(delay)
        fault: Fault | FaultRate | None = self.controls.take_fault(key, transport=True)
        if fault is None:
            fault = self.controls.draw_rate(key)
            if fault is None:
                return None, False, None
            if fault.kind == "delay":
                time.sleep(fault.seconds)
                return None, False, None
            if fault.kind == "api_error":
                return None, False, fault.error()
        if fault.kind == "drop_after":
            return None, True, None
        if fault.kind in ("http_500", "http_503"):
            status = 500 if fault.kind == "http_500" else 503
            return (
                Response(
                    f"<html><body><h1>{status}</h1>Injected by the sandbox control surface.</body></html>",
                    status=status,
                    mimetype="text/html",
                ),
                False,
                None,
            )
        if fault.kind == "stall":
            time.sleep(max(0.0, fault.seconds))
        _drop_connection(request)
        return Response("", status=200), False, None

    def invoke(self, params: dict, files: dict, request: Request, headers: dict[str, str]) -> Any:
        """Run one action and return its result, or the ``ApiError`` it raised."""
        service = _name(params.get("service"))
        action = _name(params.get("action"))
        try:
            return self._invoke(service, action, params, files, request)
        except ApiError as error:
            headers.update(error.headers)
            return error
        except Exception:
            log.exception("internal error in %s.%s", service.lower(), action.lower())
            return ApiError("INTERNAL_SERVERL_ERROR")

    def _invoke(self, service: str, action_name: str, params: dict, files: dict, request: Request) -> Any:
        if not service:
            raise ApiError("SERVICE_NOT_SPECIFIED")
        if not action_name:
            raise ApiError("ACTION_NOT_SPECIFIED")
        action = registry.lookup(service, action_name)
        if action is None:
            if registry.service_exists(service):
                raise ApiError("ACTION_DOES_NOT_EXISTS", ACTION_NAME=action_name, SERVICE_NAME=service)
            raise ApiError("SERVICE_DOES_NOT_EXISTS", SRV_NAME=service)
        fault = self.controls.take_fault(action.key, transport=False)
        if fault is not None:
            raise fault.error()
        ks_string = _ks_param(params)
        session, partner_id = self._authenticate(action, ks_string, params)
        if session is not None:
            self._check_user(session)
            self._authorize(action, session)
        call = Call(
            store=self.store,
            config=self.config,
            params=_action_params(params),
            files=files,
            session=session,
            ks=ks_string or None,
            partner_id=partner_id,
            base_url=request.host_url.rstrip("/"),
            service=action.service,
            action=action.name,
        )
        result = action.handler(call)
        if action.key in KS_ISSUING_ACTIONS:
            self._note_issued(result)
        return result

    def _note_issued(self, result: Any) -> None:
        """Remember when a KS was issued, so ``expire_sessions`` also expires unused ones."""
        issued = result.get("ks") if isinstance(result, dict) else result
        if isinstance(issued, str):
            self.controls.note_ks(issued, self.config.clock())

    # -- sessions and permissions ----------------------------------------------------------------

    def _authenticate(self, action: registry.Action, ks_string: str, params: dict) -> tuple[Session | None, int | None]:
        """The session and partner of the call; ``MISSING_KS``/``INVALID_KS``/``SERVICE_FORBIDDEN``."""
        requested_partner = _partner_param(params)
        if action.ks == "none":
            return None, requested_partner
        if not ks_string:
            if action.ks == "optional":
                return None, requested_partner
            if requested_partner is not None and self.store.partner(requested_partner):
                raise forbidden(action)
            raise ApiError("MISSING_KS")
        now = self.config.clock()
        session = kslib.validate(ks_string, self.store, now)
        if self.controls.note_ks(ks_string, now):
            raise kslib.invalid_ks("EXPIRED")
        return session, session.partner_id

    def _check_user(self, session: Session) -> None:
        """A blocked KS user gets ``USER_BLOCKED``; the user is created only where Kaltura does.

        Using a KS does not create its user (reference §7): Kaltura looks the user up and, when
        there is none, carries on with the session type's default role
        (``kPermissionManager::initPartnerUserObjects``); actions that need the user create it
        (``KalturaBaseService::getKuser``). Only a partner with ``FEATURE_END_USER_REPORTS``
        creates the user on every KS use (``kSessionUtils.class.php`` L414-425).
        """
        if session.is_anonymous:
            return
        partner = self.store.partner(session.partner_id)
        user: sqlite3.Row | None
        if partner is not None and partner.end_user_reports:
            user = self.store.ensure_user(session.partner_id, session.user_id, self.config.clock())
        else:
            user = self.store.user(session.partner_id, session.user_id)
        if user is not None and user["status"] == USER_BLOCKED:
            raise ApiError("USER_BLOCKED")

    def _authorize(self, action: registry.Action, session: Session) -> None:
        """``SERVICE_FORBIDDEN`` unless the session's role grants one of the action's permissions.

        Kaltura gates every action by the permissions of ``deployment/permissions/service.*.ini``
        (``kPermissionManager::isActionPermitted``, reference §7); ``ALWAYS_ALLOWED_ACTIONS`` is
        part of every role.
        """
        if action.always_allowed:
            return
        granted = self.permissions_of(session)
        if registry.ALL_PERMISSIONS in granted or not granted.isdisjoint(action.permissions):
            return
        raise forbidden(action)

    def permissions_of(self, session: Session) -> frozenset[str]:
        """The permission names a session acts with (``*`` = all), from its role."""
        role = self.role_of(session)
        return role.permissions if role is not None else frozenset()

    def role_of(self, session: Session) -> Role | None:
        """The role of a session, as ``kPermissionManager::getRoleIds`` (L596-699) resolves it.

        ``setrole`` wins (even on an ADMIN KS); else the KS user's own role (an active user
        with roles); else the partner's default for the session type: the widget role for a
        widget KS, the partner administrator role for ADMIN, the basic user-session role
        (``BASE_USER_SESSION_PERMISSION`` only) for USER.
        """
        ref = session.set_role
        if ref is not None:
            if ref.lstrip("-").isdigit() and int(ref) < 0:
                raise ApiError("INVALID_SET_ROLE")
            role = self.store.role(session.partner_id, ref)
            if role is None:
                raise ApiError("UNKNOWN_ROLE_ID")
            return role
        if not session.is_anonymous:
            user = self.store.user(session.partner_id, session.user_id)
            if user is not None and user["status"] == USER_ACTIVE and user["role_ids"]:
                return self.store.role(session.partner_id, user["role_ids"].split(",")[0])
        if session.is_widget:
            default = WIDGET_SESSION_ROLE
        elif session.is_admin:
            default = PARTNER_ADMIN_ROLE
        else:
            default = BASE_USER_SESSION_ROLE
        return self.store.role(session.partner_id, default)

    # -- multirequest ----------------------------------------------------------------------------

    def multirequest(self, params: dict, request: Request, headers: dict[str, str]) -> list:
        """Run the numbered sub-requests in order, resolving ``{N:result:path}`` references."""
        indexes = [int(k) for k in params if str(k).isdigit()]
        results: list[Any] = []
        shared = {name: params[name] for name in ("ks", "clientTag", "partnerId") if name in params}
        index = min(indexes, default=0)
        # Consecutive indexes from the lowest (0 or 1); the first gap or incomplete one ends it.
        while True:
            sub = params.get(str(index))
            if not isinstance(sub, dict) or not sub.get("service") or not sub.get("action"):
                break
            index += 1
            sub = {**shared, **{k: v for k, v in sub.items() if k != "format"}}
            sub = _substitute(sub, results)
            sub_files = _files_tree(sub)
            key = f"{_name(sub['service']).lower()}.{_name(sub['action']).lower()}"
            self.controls.count(key)
            result = self.invoke(sub, sub_files, request, {})
            results.append(serialize.ExceptionResult(result) if isinstance(result, ApiError) else result)
        del headers  # sub-request errors do not add HTTP headers
        return results

    # -- control surface -------------------------------------------------------------------------

    def control(self, request: Request) -> Response:
        """``/__control/<name>``: JSON in, JSON out (see README)."""
        name = request.path[len("/__control") :].strip("/")
        try:
            payload = request.get_json(silent=True) or {}
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            result = self._control_action(name, request.method, payload)
        except (ValueError, TypeError, KeyError) as exc:
            return _json_response({"error": str(exc)}, status=400)
        if result is None:
            return _json_response({"error": f"unknown control {request.method} {name}"}, 404)
        return _json_response(result)

    def _control_action(self, name: str, method: str, payload: dict) -> Any:
        handlers: dict[tuple[str, str], Callable[[dict], Any]] = {
            ("POST", "reset"): self._control_reset,
            ("POST", "latency"): self._control_latency,
            ("POST", "fault"): self._control_fault,
            ("POST", "fault_rate"): self._control_fault_rate,
            ("GET", "fault_rates"): lambda _: self.controls.rate_snapshot(),
            ("POST", "fault_rate/clear"): self._control_fault_rate_clear,
            ("POST", "expire_sessions"): self._control_expire,
            ("GET", "calls"): lambda _: self.controls.snapshot(),
            ("POST", "calls/reset"): self._control_calls_reset,
            ("POST", "partner"): self._control_partner,
            ("POST", "fail_conversion"): self._control_fail_conversion,
            ("POST", "conversion_delay"): self._control_conversion_delay,
            ("GET", "credentials"): self._control_credentials,
            ("POST", "categories"): self._control_categories,
            ("POST", "entries"): self._control_entries,
            ("POST", "roles"): self._control_roles,
        }
        handler = handlers.get((method, name))
        return None if handler is None else handler(payload)

    def _control_reset(self, payload: dict) -> dict:
        if self._reset is None:
            raise ValueError("reset is not available")
        seed = payload.get("seed", "demo")
        if seed not in ("demo", "none"):
            raise ValueError("seed must be 'demo' or 'none'")
        self._reset({"seed": seed, "entries": payload.get("entries")})
        self.controls.reset()
        return {"ok": True, "seed": seed}

    def _control_latency(self, payload: dict) -> dict:
        seconds = float(payload.get("seconds", 0))
        action = payload.get("action")
        self.controls.set_latency(seconds, str(action) if action else None)
        return {"ok": True}

    def _control_fault(self, payload: dict) -> dict:
        fault = Fault(
            action=str(payload["action"]),
            count=int(payload.get("count", 1)),
            kind=str(payload.get("kind", "api_error")),
            code=str(payload.get("code", "INTERNAL_SERVERL_ERROR")),
            seconds=float(payload.get("seconds", 30.0)),
        )
        self.controls.add_fault(fault)
        return {"ok": True}

    def _control_fault_rate(self, payload: dict) -> dict:
        action = payload.get("action")
        seed = payload.get("seed")
        rule = FaultRate(
            rate=float(payload["rate"]),
            kind=str(payload.get("kind", "http_503")),
            action=str(action) if action else None,
            code=str(payload.get("code", "INTERNAL_SERVERL_ERROR")),
            seconds=float(payload.get("seconds", 30.0)),
        )
        self.controls.add_fault_rate(rule, seed=int(seed) if seed is not None else None)
        return {"ok": True, "rules": len(self.controls.fault_rates)}

    def _control_fault_rate_clear(self, _: dict) -> dict:
        self.controls.clear_fault_rates()
        return {"ok": True}

    def _control_expire(self, _: dict) -> dict:
        self.controls.expire_sessions(self.config.clock())
        return {"ok": True}

    def _control_calls_reset(self, _: dict) -> dict:
        self.controls.reset_calls()
        return {"ok": True}

    def _control_partner(self, payload: dict) -> dict:
        partner_id = payload.pop("partner_id", None) or payload.pop("partnerId", None)
        if partner_id is None:
            partners = self.store.partners()
            if not partners:
                raise ValueError("no partner")
            partner_id = partners[0].id
        fields = {k: (int(v) if isinstance(v, bool) else v) for k, v in payload.items()}
        self.store.update_partner(int(partner_id), **fields)
        return {"ok": True, "partnerId": int(partner_id)}

    def _control_fail_conversion(self, payload: dict) -> dict:
        from . import media_store

        entry_id = payload.get("entry_id") or payload.get("entryId")
        if not entry_id:
            raise ValueError("entry_id is required")
        media_store.fail_conversion(self.store, str(entry_id))
        return {"ok": True}

    def _control_conversion_delay(self, payload: dict) -> dict:
        self.config.conversion_delay = max(0.0, float(payload["seconds"]))
        return {"ok": True, "seconds": self.config.conversion_delay}

    def _control_partner_id(self, payload: dict) -> int:
        partner_id = payload.get("partner_id") or payload.get("partnerId")
        if partner_id is None:
            partners = self.store.partners()
            if not partners:
                raise ValueError("no partner")
            return partners[0].id
        return int(partner_id)

    def _control_categories(self, payload: dict) -> dict:
        from . import media_seed

        specs = payload.get("categories")
        if not isinstance(specs, list):
            raise ValueError("categories must be a list")
        ids = media_seed.seed_categories(self.store, self._control_partner_id(payload), specs, self.config.clock())
        return {"ok": True, "ids": ids}

    def _control_entries(self, payload: dict) -> dict:
        from . import media_seed

        specs = payload.get("entries")
        if not isinstance(specs, list):
            raise ValueError("entries must be a list")
        ids = media_seed.seed_entries(self.store, self._control_partner_id(payload), specs, self.config.clock())
        return {"ok": True, "ids": ids}

    def _control_roles(self, payload: dict) -> dict:
        """Add user roles: ``{"roles": [{"id", "name", "systemName", "permissions": [...]}]}``
        (Kaltura's ``userRole.add``, which the sandbox does not serve)."""
        specs = payload.get("roles")
        if not isinstance(specs, list):
            raise ValueError("roles must be a list")
        partner_id = self._control_partner_id(payload)
        ids = []
        with self.store.tx():
            next_id = int(self.store.scalar("SELECT coalesce(max(id), 0) FROM roles") or 0) + 1
            for spec in specs:
                if not isinstance(spec, dict) or not spec.get("name"):
                    raise ValueError("every role needs a name")
                permissions = spec.get("permissions") or []
                if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
                    raise ValueError("permissions must be a list of permission names")
                role_id = int(spec.get("id") or next_id)
                next_id = max(next_id, role_id) + 1
                self.store.execute(
                    "INSERT INTO roles(id, partner_id, name, system_name, permissions, is_admin_role) "
                    "VALUES (?, ?, ?, ?, ?, 0)",
                    (role_id, partner_id, spec["name"], spec.get("systemName") or spec["name"], ",".join(permissions)),
                )
                ids.append(role_id)
        return {"ok": True, "ids": ids}

    def _control_credentials(self, _: dict) -> dict:
        from .seed import credentials

        return credentials(self.store)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def forbidden(action: registry.Action) -> ApiError:
    """``SERVICE_FORBIDDEN`` for ``service->action`` with the ``X-Kaltura`` headers."""
    error = ApiError("SERVICE_FORBIDDEN", SERVICE=f"{action.service}->{action.name}")
    error.headers["X-Kaltura"] = "error-SERVICE_FORBIDDEN"
    error.headers["X-Kaltura-App"] = f"exiting on error SERVICE_FORBIDDEN - {error.message}"
    return error


def _name(value: Any) -> str:
    """A service/action name; nested values print as PHP's "Array" (they match nothing)."""
    if value is None:
        return ""
    return "Array" if isinstance(value, (dict, list)) else str(value)


def _ks_param(params: dict) -> str:
    value = params.get("ks")
    return value.strip() if isinstance(value, str) else ""


def _partner_param(params: dict) -> int | None:
    for name in ("partnerId", "p"):
        value = params.get(name)
        if isinstance(value, (str, int)) and str(value).strip().lstrip("-").isdigit():
            return int(value)
    return None


def _action_params(params: dict) -> dict:
    """The action's own arguments: everything except the envelope's parameters."""
    return {k: v for k, v in params.items() if k not in ("service", "action", *COMMON_PARAMS)}


def _files_tree(tree: dict) -> dict:
    """The uploaded files found anywhere in a parameter tree, by top-level name."""
    return {k: v for k, v in tree.items() if isinstance(v, FileStorage)}


def _empty_arrays(tree: Any) -> Any:
    """The Python client sends an empty array as ``{"-": ""}``; make that ``[]``."""
    if isinstance(tree, dict):
        if set(tree) == {"-"}:
            return []
        return {k: _empty_arrays(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_empty_arrays(v) for v in tree]
    return tree


def _substitute(tree: Any, results: list) -> Any:
    """Replace ``{N:result[:path]}`` in string values with earlier results (1-based N)."""
    if isinstance(tree, dict):
        return {k: _substitute(v, results) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_substitute(v, results) for v in tree]
    if isinstance(tree, str) and "{" in tree:
        return _PLACEHOLDER.sub(lambda m: _reference(m, results), tree)
    return tree


def _reference(match: re.Match, results: list) -> str:
    number = int(match.group(1))
    if number < 1 or number > len(results):
        return ""
    value: Any = results[number - 1]
    path = [p for p in match.group(2).split(":") if p]
    for index, step in enumerate(path):
        value = _step(value, step, path[index + 1 :])
        if step == "_all":
            break
    return _as_text(value)


def _step(value: Any, step: str, rest: list[str]) -> Any:
    if isinstance(value, serialize.ExceptionResult) or value is None:
        return None
    if step == "_all" and isinstance(value, list):
        field = rest[0] if rest else None
        items = [item.get(field) if field and isinstance(item, dict) else item for item in value]
        return ",".join(_as_text(item) for item in items)
    if isinstance(value, dict):
        return value.get(step)
    if isinstance(value, list) and step.isdigit():
        position = int(step)
        return value[position] if position < len(value) else None
    return None


def _as_text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, serialize.ExceptionResult)):
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def _unknown_format_response(fmt: int | None) -> Response:
    """Kaltura answers an unknown ``format`` with an empty body and ``X-Kaltura`` headers."""
    response = Response("", status=200)
    response.headers["X-Kaltura"] = "error-UNKNOWN_RESPONSE_FORMAT"
    response.headers["X-Kaltura-App"] = (
        f"exiting on error UNKNOWN_RESPONSE_FORMAT - Response format provided [{fmt}] is not recognized by server"
    )
    return response


def _json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _drop_connection(request: Request) -> None:
    """Close the client connection without an HTTP response (the ``drop`` fault)."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
