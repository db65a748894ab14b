"""The audit log pages: everything for support staff, one hub's events under its settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import abort, request
from flask_login import current_user, login_required

from portal import db
from portal.audit_log import bp, services
from portal.audit_log.forms import AuditFilterForm
from portal.htmx import render
from portal.security import Need, hub_access

bp.add_app_template_global(services.action_label, "audit_action_label")


@bp.get("/audit")
@login_required
def index():
    """Every event of every hub (and sign-ins, which belong to none), for support staff only."""
    if not current_user.is_support:
        abort(
            403,
            "Only support staff can read the whole audit log. Hub admins find their hub's log "
            "under Hub settings → Audit log.",
        )
    hubs = services.hub_choices(db.session())
    form, query = filters(visible=None, hubs=hubs)
    page = services.search(db.session(), query, visible_hubs=None)
    return render(
        "audit/index.html", block="audit_log", status=422 if form.errors else 200, form=form, page=page, show_hub=True
    )


@bp.get("/hubs/<slug>/settings/audit")
@login_required
def hub(slug: str):
    """One hub's events, for its admins and support staff."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    form, query = filters(visible=[access.hub.id], hubs=None)
    page = services.search(db.session(), query, visible_hubs=[access.hub.id])
    return render(
        "audit/hub.html",
        block="audit_log",
        status=422 if form.errors else 200,
        access=access,
        hub=access.hub,
        form=form,
        page=page,
        show_hub=False,
    )


def filters(
    *, visible: Sequence[int] | None, hubs: Sequence[Any] | None
) -> tuple[AuditFilterForm, services.AuditQuery]:
    """The filter form from the query string, and the query its valid fields describe."""
    form = AuditFilterForm(request.args)
    form.hub.choices = [("", "All hubs")] + [(str(h.id), h.name) for h in hubs or []]
    actions = services.recorded_actions(db.session(), visible_hubs=visible)
    form.action.choices = [("", "Any event")] + [(a, services.action_label(a)) for a in actions]
    form.validate()
    valid = {name for name, field in form._fields.items() if not field.errors}
    query = services.AuditQuery(
        hub_id=int(form.hub.data) if hubs is not None and "hub" in valid and form.hub.data else None,
        actor=form.actor.data if "actor" in valid else None,
        action=form.action.data if "action" in valid and form.action.data else None,
        since=form.since.data if "since" in valid else None,
        until=form.until.data if "until" in valid else None,
        page=request.args.get("page", 1, type=int) or 1,
    )
    return form, query
