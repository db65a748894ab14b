"""Identity pages: the mapping preview, the member table with drift, moving a member, support's email change."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, request, url_for
from flask_login import current_user, login_required

from portal import db, registry
from portal.accounts.forms import EmptyForm
from portal.accounts.services import change_email
from portal.forms import attach_error
from portal.htmx import render, see_other
from portal.identity.forms import EmailChangeForm
from portal.identity.links import (
    IdentityError,
    connection_for,
    drift_of,
    identity_statistics,
    link_of,
    member_identity_rows,
    move_member,
)
from portal.identity.preview import mapping_preview
from portal.models import Hub, Membership, User, UserIdMode
from portal.security import Need, hub_access
from portal.validation import FieldError

# Its own blueprint, so that portal.identity (services, no Flask) does not import Flask.
bp = Blueprint("identity", __name__)

KALTURA_URL = "/hubs/<slug>/settings/integrations/kaltura"
PROBLEMS = {
    "": "Every member",
    "drifted": "Drifted",
    "pending": "Pending",
    "failed": "Failed",
    "unlinked": "Not linked yet",
}
PAGE_SIZE = 50


def _page_number() -> int:
    raw = (request.args.get("page") or "1").strip()
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        abort(400, "The page must be a whole number from 1.")
    return int(raw)


@bp.get(KALTURA_URL + "/mapping-preview")
@login_required
def preview(slug: str):
    """What a user-id mode (or support's rule) would make of every member, before it is saved. HTMX, paged."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    connection = connection_for(db.session(), access.hub)
    raw_mode = request.args.get("user_id_mode") or (connection.user_id_mode.value if connection else "email")
    if raw_mode not in {m.value for m in UserIdMode}:
        abort(400, f"Unknown user-id mode {raw_mode[:40]!r}: choose email, email_prefix or custom.")
    mode = UserIdMode(raw_mode)
    # Only support writes rules; admins preview the hub's saved rule.
    rule = request.args.get("custom_rule") if access.is_support else None
    rule = (rule or "").strip() or (connection.custom_rule if connection else None)
    error = None
    result = None
    try:
        result = mapping_preview(
            db.session(), registry.kaltura() if connection else None, access.hub, mode, rule, page=_page_number()
        )
    except FieldError as problem:
        error = problem.message
    return render(
        "identity/preview.html",
        block="mapping_preview",
        status=422 if error else 200,
        access=access,
        hub=access.hub,
        preview=result,
        error=error,
        mode=mode,
        rule=rule if access.is_support else None,
    )


@bp.get(KALTURA_URL + "/identities")
@login_required
def members(slug: str):
    """Every member's Kaltura link (no Kaltura call): state, id, and drift from today's mapping."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    problem = request.args.get("problem") or ""
    if problem not in PROBLEMS:
        abort(400, f"Unknown filter {problem[:40]!r}: choose one of {', '.join(p for p in PROBLEMS if p)}.")
    page = _page_number()
    rows, total = member_identity_rows(
        db.session(), access.hub, page=page, page_size=PAGE_SIZE, problem=problem or None
    )
    return render(
        "identity/members.html",
        block="identity_members",
        access=access,
        hub=access.hub,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        problem=problem,
        problems=PROBLEMS,
        stats=identity_statistics(db.session(), access.hub),
        connection=connection_for(db.session(), access.hub),
    )


@bp.route(KALTURA_URL + "/identities/<int:user_id>/move", methods=["GET", "POST"])
@login_required
def move(slug: str, user_id: int):
    """Confirm, then move a drifted member to the Kaltura id the mapping gives them now (admins)."""
    access = hub_access(db.session(), current_user, slug, Need.INTEGRATION)
    member = _member(access.hub, user_id)
    drift = drift_of(db.session(), access.hub, member)
    if drift is None:
        abort(404, f"{member.email} uses the Kaltura id the mapping gives them: there is nothing to move.")
    form = EmptyForm()
    error = None
    if form.validate_on_submit():
        try:
            link = move_member(db.session(), registry.kaltura(), access.hub, member, actor=current_user)
        except IdentityError as problem:
            error = problem.message
        else:
            flash(
                f"Moved {member.email} to the Kaltura id {link.kaltura_user_id} ({link.state.label.lower()}).",
                "success",
            )
            return see_other(url_for("identity.members", slug=slug))
    return render(
        "identity/move.html",
        status=502 if error else 200,
        access=access,
        hub=access.hub,
        member=member,
        drift=drift,
        link=link_of(db.session(), access.hub, member),
        form=form,
        error=error,
    )


@bp.route("/support/users/<int:user_id>/email", methods=["GET", "POST"])
@login_required
def change_user_email(user_id: int):
    """Support changes a person's portal email (audited). Their Kaltura links keep their ids (drift)."""
    if not current_user.is_support:
        abort(403, "Only support staff change a person's email.")
    person = db.session().get(User, user_id)
    if person is None:
        abort(404)
    form = EmailChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            old = change_email(
                db.session(), user=person, new_email=form.email.data or "", actor=current_user, request_id=g.request_id
            )
        except FieldError as problem:
            attach_error(form, problem, default="email")
        else:
            flash(
                f"Changed {old} to {person.email}. Their Kaltura users keep their ids until a hub admin moves them.",
                "success",
            )
            return see_other(url_for("identity.change_user_email", user_id=user_id))
    if form.errors:
        status = 422
    hubs = (
        db.session()
        .scalars(sa.select(Hub).join(Membership).where(Membership.user_id == person.id).order_by(Hub.name))
        .all()
    )
    return render("identity/email.html", block="email_form_section", status=status, person=person, form=form, hubs=hubs)


def _member(hub: Hub, user_id: int) -> User:
    member = db.session().scalar(
        sa.select(User).join(Membership).where(Membership.hub_id == hub.id, User.id == user_id)
    )
    if member is None:
        abort(404)
    return member
