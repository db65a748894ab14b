"""Hub settings → Integrations → Kaltura: connect, test, replace and remove the App Tokens."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import abort, current_app, flash, g, request, url_for
from flask_login import current_user, login_required
from limits import parse as parse_limit

from portal import db, registry
from portal.accounts.forms import EmptyForm
from portal.audit_log.events import security_event
from portal.concurrency import LiveChecksBusy, live_check_slots
from portal.extensions import limiter
from portal.forms import attach_error
from portal.htmx import render, see_other
from portal.integrations import bp, services
from portal.integrations.forms import CustomRuleForm, KalturaForm
from portal.kaltura.vault import Slot
from portal.models import KalturaConnection, UserIdMode
from portal.security import HubAccess, Need, hub_access
from portal.validation import FieldError

SETTINGS_URL = "/hubs/<slug>/settings/integrations/kaltura"
SLOT_NAMES = {"client": "client token", "server": "server token"}
#: Live tests (and saves, which test first) one user may run per minute; each costs Kaltura calls.
TEST_LIMIT = "12 per minute"
#: Seconds to suggest before trying again when another live test is still running.
BUSY_RETRY_AFTER = 5


@bp.route(SETTINGS_URL, methods=["GET", "POST"])
@login_required
def kaltura(slug: str):
    """The Kaltura tab: admins connect the hub; support reads it; POST validates, tests and saves."""
    need = Need.INTEGRATION if request.method == "POST" else Need.SETTINGS
    access = hub_access(db.session(), current_user, slug, need)
    connection = services.connection_of(db.session(), access.hub)
    form = _form(connection)
    if not form.is_submitted():
        return _page(access, connection, form)
    if wait := over_test_limit():
        return _page(access, connection, form, block="kaltura_form_section", status=429, wait=wait)
    if not form.validate():
        return _page(access, connection, form, block="kaltura_form_section", status=422)
    try:
        with live_check_slots(access.hub.id, current_user.id):
            report = services.save_connection(
                db.session(),
                gateway=registry.kaltura(),
                vault=registry.vault(),
                hub=access.hub,
                actor=current_user,
                typed=_typed(form),
                request_id=g.request_id,
            )
    except LiveChecksBusy as busy:
        return _busy(access, connection, form, busy)
    if report.saved:
        flash(
            "Saved. The connection test passed; the tokens are stored encrypted and will not be shown again.", "success"
        )
        for warning in report.warnings:
            flash(f"Warning: {warning}", "warning")
        return see_other(url_for("integrations.kaltura", slug=slug))
    _attach(form, report)
    return _page(access, connection, form, report=report, block="kaltura_form_section", status=422)


@bp.post(SETTINGS_URL + "/test")
@login_required
def kaltura_test(slug: str):
    """Run the live checks on the pasted tokens (admins) or the saved ones (support) and show the rows in place."""
    access = hub_access(db.session(), current_user, slug, Need.LIVE_TEST)
    connection = services.connection_of(db.session(), access.hub)
    form = _form(connection)
    if "swap_tokens" in request.form:
        # "Swap the two fields": the admin pasted each token into the other's field.
        form.client_token.data, form.server_token.data = form.server_token.data, form.client_token.data
    if wait := over_test_limit():
        return _page(access, connection, form, block="kaltura_form_section", status=429, wait=wait)
    if not form.validate():
        return _page(access, connection, form, block="kaltura_form_section", status=422)
    try:
        with live_check_slots(access.hub.id, current_user.id):
            report = services.test_connection(
                db.session(),
                gateway=registry.kaltura(),
                vault=registry.vault(),
                hub=access.hub,
                tester=current_user,
                may_change=access.can_manage,
                typed=_typed(form),
                request_id=g.request_id,
            )
    except LiveChecksBusy as busy:
        return _busy(access, connection, form, busy)
    except services.NotPermitted as refusal:
        abort(403, str(refusal))
    _attach(form, report)
    status = 200 if report.ok else 422
    return _page(access, connection, form, report=report, block="kaltura_form_section", status=status)


@bp.route(SETTINGS_URL + "/<any(client, server):slot>/remove", methods=["GET", "POST"])
@login_required
def kaltura_remove(slug: str, slot: Slot):
    """Confirm, then forget one saved token (the hub stops working with Kaltura until it is replaced)."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    connection = services.connection_of(db.session(), access.hub)
    info = connection.token_info(slot) if connection else None
    if info is None:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        token_id = services.remove_token(
            db.session(), hub=access.hub, slot=slot, actor=current_user, request_id=g.request_id
        )
        flash(f"Removed the {SLOT_NAMES[slot]} {token_id}. Paste a new one to reconnect the hub.", "success")
        return see_other(url_for("integrations.kaltura", slug=slug))
    return render(
        "integrations/kaltura_remove.html",
        access=access,
        hub=access.hub,
        slot=slot,
        slot_name=SLOT_NAMES[slot],
        info=info,
        form=form,
    )


@bp.post(SETTINGS_URL + "/user-id-rule")
@login_required
def kaltura_rule(slug: str):
    """Support defines the hub's custom Kaltura user-id rule (admins cannot)."""
    access = hub_access(db.session(), current_user, slug, Need.SUPPORT)
    rule_form = CustomRuleForm()
    connection = services.connection_of(db.session(), access.hub)
    if rule_form.validate_on_submit():
        try:
            services.set_custom_rule(
                db.session(),
                hub=access.hub,
                rule=rule_form.custom_rule.data or "",
                actor=current_user,
                request_id=g.request_id,
            )
        except FieldError as error:
            attach_error(rule_form, error, default="custom_rule")
        else:
            flash("Saved the user-id rule.", "success")
            return see_other(url_for("integrations.kaltura", slug=slug))
    return _page(access, connection, _form(connection), rule_form=rule_form, status=422)


@bp.app_template_filter("countdown")
def countdown(value: str | None) -> str:
    """'expires in 23 days', 'expired 2 days ago', or 'never expires' for an ISO timestamp."""
    if not value:
        return "never expires"
    delta = datetime.fromisoformat(value) - datetime.now(UTC)
    days = int(abs(delta.total_seconds()) // 86400)
    hours = int(abs(delta.total_seconds()) % 86400 // 3600)
    span = f"{days} day{'s' if days != 1 else ''}" if days else f"{hours} hour{'s' if hours != 1 else ''}"
    return f"expires in {span}" if delta.total_seconds() > 0 else f"expired {span} ago"


def over_test_limit() -> int | None:
    """Count one live test for the current user; the seconds to wait when they ran too many, else None.

    Counted here rather than by a decorator so that the refusal is shown in place, with what was
    typed (pasted tokens included) still in the form, instead of replacing the form with an error page.
    """
    if not limiter.enabled:
        return None
    limit = parse_limit(current_app.config.get("KALTURA_TEST_LIMIT") or TEST_LIMIT)
    key = ("kaltura-test", str(current_user.id))
    if limiter.limiter.hit(limit, *key):
        return None
    reset_at = limiter.limiter.get_window_stats(limit, *key).reset_time
    return max(1, int(reset_at - time.time()))


def _form(connection: KalturaConnection | None) -> KalturaForm:
    form = KalturaForm(
        service_url=connection.service_url if connection else None,
        user_id_mode=(connection.user_id_mode if connection else UserIdMode.EMAIL).value,
    )
    choices = registry.kaltura().service_url_choices()
    sandbox = (current_app.config["KALTURA_SANDBOX_URL"] or "").rstrip("/")
    form.service_url.choices = [
        (url, "Local Kaltura sandbox (development)" if url == sandbox else label) for url, label in choices
    ]
    if connection and connection.service_url not in {url for url, _ in choices}:
        form.service_url.choices.append((connection.service_url, connection.service_url))
    if current_app.config["KALTURA_CUSTOM_HOSTS"]:
        form.service_url.choices.append(("custom", "Another Kaltura host (enter it below)"))
    return form


def _typed(form: KalturaForm) -> services.Typed:
    if form.service_url.data == "custom":
        url = (form.custom_service_url.data or "").strip() or None
    else:
        url = form.service_url.data or None
    return services.Typed(
        service_url=url,
        client_text=form.client_token.data or "",
        server_text=form.server_token.data or "",
        mode=UserIdMode(form.user_id_mode.data) if form.user_id_mode.data else None,
    )


def _attach(form: KalturaForm, report: services.Report) -> None:
    """Put every refusal on the form field it belongs to, once (warnings are listed under the form)."""
    url_field = "custom_service_url" if form.service_url.data == "custom" else "service_url"
    for problem in report.problems:
        if problem.field is not None:
            attach_error(
                form, FieldError(url_field if problem.field == "service_url" else problem.field, problem.message)
            )


def _busy(access: HubAccess, connection: KalturaConnection | None, form: KalturaForm, busy: LiveChecksBusy):
    """Another live test of this hub or by this user is running: say so in place, keeping what was typed."""
    security_event("security.rate_limited", scope=f"live-check-{busy.scope}", hub=access.hub)
    return _page(access, connection, form, block="kaltura_form_section", status=429, busy=busy.description)


def _page(
    access: HubAccess,
    connection: KalturaConnection | None,
    form: KalturaForm,
    *,
    report: services.Report | None = None,
    rule_form: CustomRuleForm | None = None,
    block: str | None = None,
    status: int = 200,
    wait: int | None = None,
    busy: str | None = None,
):
    response = render(
        "integrations/kaltura.html",
        block=block,
        status=status,
        access=access,
        hub=access.hub,
        connection=connection,
        form=form,
        report=report,
        wait=wait,
        busy=busy,
        rule_form=rule_form or CustomRuleForm(custom_rule=connection.custom_rule if connection else ""),
        example_user_id=services.example_user_id(current_user, connection),
        mode_examples={mode: services.example_user_id(current_user, connection, mode) for mode in UserIdMode},
        slot_names=SLOT_NAMES,
    )
    if wait or busy:
        response.headers["Retry-After"] = str(wait or BUSY_RETRY_AFTER)
    return response
