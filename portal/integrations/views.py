"""Hub settings → Integrations → Kaltura: connect, test, replace and remove the App Tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, current_app, flash, g, redirect, url_for
from flask_login import current_user, login_required

from portal import db, registry
from portal.accounts.forms import EmptyForm
from portal.concurrency import capped_live_checks
from portal.extensions import limiter
from portal.htmx import render
from portal.integrations import bp, services
from portal.integrations.forms import CustomRuleForm, KalturaForm
from portal.kaltura.vault import Slot
from portal.models import KalturaConnection, UserIdMode
from portal.security import HubAccess, Need, hub_access
from portal.validation import FieldError

SETTINGS_URL = "/hubs/<slug>/settings/integrations/kaltura"
SLOT_NAMES = {"client": "client token", "server": "server token"}


@bp.route(SETTINGS_URL, methods=["GET", "POST"])
@login_required
@capped_live_checks
def kaltura(slug: str):
    """The Kaltura tab: admins connect the hub; support reads it; POST validates, tests and saves."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    connection = services.connection_of(db.session(), access.hub)
    form = _form(connection)
    if not form.is_submitted():
        return _page(access, connection, form)
    access = _admin_on_paid_plan(slug)
    if not form.validate():
        return _page(access, connection, form, status=422)
    outcome = services.save_connection(
        db.session(),
        gateway=registry.kaltura(),
        vault=registry.vault(),
        hub=access.hub,
        actor=current_user,
        service_url=_service_url(form),
        client_text=form.client_token.data or "",
        server_text=form.server_token.data or "",
        mode=UserIdMode(form.user_id_mode.data) if form.user_id_mode.data else None,
        request_id=g.request_id,
    )
    if outcome.saved:
        flash(
            "Saved. The connection test passed; the tokens are stored encrypted and will not be shown again.", "success"
        )
        return redirect(url_for("integrations.kaltura", slug=slug), 303)
    _attach_errors(form, outcome)
    return _page(access, connection, form, outcome=outcome, status=422)


@bp.post(SETTINGS_URL + "/test")
@login_required
@limiter.limit("12 per minute", key_func=lambda: f"kaltura-test:{current_user.get_id()}")
@capped_live_checks
def kaltura_test(slug: str):
    """Run the live checks on the pasted tokens (or the saved ones) and show the rows."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    connection = services.connection_of(db.session(), access.hub)
    form = _form(connection)
    form.validate()  # only to show length errors next to their fields; the checks below decide the status
    outcome = services.Outcome()
    # Support tests what is saved; only admins can try tokens they are about to paste.
    pasted = access.can_manage
    chosen = services.candidate(
        gateway=registry.kaltura(),
        vault=registry.vault(),
        hub=access.hub,
        connection=connection,
        service_url=_service_url(form) if pasted else None,
        client_text=(form.client_token.data or "") if pasted else "",
        server_text=(form.server_token.data or "") if pasted else "",
        outcome=outcome,
    )
    mode = UserIdMode(form.user_id_mode.data or UserIdMode.EMAIL.value) if pasted else _saved_mode(connection)
    user_id = services.mapped_user_id(current_user.email, mode, connection.custom_rule if connection else None)
    services.test_connection(registry.kaltura(), chosen, user_id, outcome)
    _attach_errors(form, outcome)
    return _page(access, connection, form, outcome=outcome, block="kaltura_form", status=200 if outcome.ok else 422)


@bp.route(SETTINGS_URL + "/<any(client, server):slot>/remove", methods=["GET", "POST"])
@login_required
def kaltura_remove(slug: str, slot: Slot):
    """Confirm, then forget one saved token (the hub stops working with Kaltura until it is replaced)."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    connection = services.connection_of(db.session(), access.hub)
    info = getattr(connection, f"{slot}_token_info", None) if connection else None
    if info is None:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        token_id = services.remove_token(
            db.session(), hub=access.hub, slot=slot, actor=current_user, request_id=g.request_id
        )
        flash(f"Removed the {SLOT_NAMES[slot]} {token_id}. Paste a new one to reconnect the hub.", "success")
        return redirect(url_for("integrations.kaltura", slug=slug), 303)
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
            rule_form.custom_rule.errors.append(error.message)
        else:
            flash("Saved the user-id rule.", "success")
            return redirect(url_for("integrations.kaltura", slug=slug), 303)
    return _page(access, connection, _form(connection), rule_form=rule_form, status=422)


@bp.app_template_filter("countdown")
def countdown(value: str | None) -> str:
    """'in 23 days', 'expired 2 days ago', or 'never' for an ISO timestamp."""
    if not value:
        return "never expires"
    delta = datetime.fromisoformat(value) - datetime.now(UTC)
    days = int(abs(delta.total_seconds()) // 86400)
    hours = int(abs(delta.total_seconds()) % 86400 // 3600)
    span = f"{days} day{'s' if days != 1 else ''}" if days else f"{hours} hour{'s' if hours != 1 else ''}"
    return f"expires in {span}" if delta.total_seconds() > 0 else f"expired {span} ago"


def _admin_on_paid_plan(slug: str) -> HubAccess:
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if not access.hub.plan.is_paid:
        abort(403, "The Kaltura integration needs a paid plan. Contact support to upgrade this hub.")
    return access


def _form(connection: KalturaConnection | None) -> KalturaForm:
    form = KalturaForm(
        service_url=connection.service_url if connection else None,
        user_id_mode=_saved_mode(connection).value,
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


def _saved_mode(connection: KalturaConnection | None) -> UserIdMode:
    return connection.user_id_mode if connection else UserIdMode.EMAIL


def _service_url(form: KalturaForm) -> str | None:
    if form.service_url.data == "custom":
        return (form.custom_service_url.data or "").strip() or None
    return form.service_url.data or None


def _attach_errors(form: KalturaForm, outcome: services.Outcome) -> None:
    """Put every rejection on the form field it belongs to (warnings stay in the findings list)."""
    for finding in outcome.findings:
        if finding.level == "error" and finding.field:
            outcome.error(finding.field, finding.message)
    for name, messages in outcome.field_errors.items():
        target = getattr(
            form, "custom_service_url" if name == "service_url" and form.service_url.data == "custom" else name, None
        )
        if target is not None:
            target.errors = [*target.errors, *messages]


def _page(
    access: HubAccess,
    connection: KalturaConnection | None,
    form: KalturaForm,
    *,
    outcome=None,
    rule_form=None,
    block: str | None = None,
    status: int = 200,
):
    return render(
        "integrations/kaltura.html",
        block=block,
        status=status,
        access=access,
        hub=access.hub,
        connection=connection,
        form=form,
        outcome=outcome,
        rule_form=rule_form or CustomRuleForm(custom_rule=connection.custom_rule if connection else ""),
        example_user_id=services.mapped_user_id(
            current_user.email, _saved_mode(connection), connection.custom_rule if connection else None
        ),
        slot_names=SLOT_NAMES,
    )
