"""My hubs, the hub page, and hub settings (General and Members tabs)."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user, login_required

from portal import db
from portal.accounts.forms import EmptyForm
from portal.forms import attach_error
from portal.htmx import is_htmx, render
from portal.hubs import bp, services
from portal.hubs.forms import AddMemberForm, HubGeneralForm, MemberRoleForm, PlanForm
from portal.integrations.services import connection_of
from portal.models import Plan, Role
from portal.security import HubAccess, Need, hub_access
from portal.validation import FieldError


@bp.get("/")
@login_required
def index():
    """The hubs the signed-in user belongs to (support staff see every hub)."""
    return render(
        "hubs/index.html",
        hubs=services.hubs_for(db.session(), current_user),
        invitation_count=services.invitation_count(db.session(), current_user),
    )


@bp.get("/hubs/<slug>")
@login_required
def show(slug: str):
    """A hub's home page."""
    access = hub_access(db.session(), current_user, slug, Need.VIEW)
    return render(
        "hubs/show.html",
        access=access,
        hub=access.hub,
        member_count=services.member_count(db.session(), access.hub),
        kaltura=connection_of(db.session(), access.hub),
    )


@bp.route("/hubs/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str):
    """General settings: the name (admins) and the plan (shown to all, changed by support)."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    form = HubGeneralForm(obj=access.hub)
    status = 200
    if form.is_submitted():
        access = hub_access(db.session(), current_user, slug, Need.MANAGE)
        if form.validate():
            try:
                services.rename_hub(
                    db.session(), hub=access.hub, name=form.name.data, actor=current_user, request_id=g.request_id
                )
            except FieldError as error:
                attach_error(form, error, default="name")
            else:
                flash("Saved the hub's name.", "success")
                return redirect(url_for("hubs.settings", slug=access.hub.slug), 303)
        status = 422
    plan_form = PlanForm(plan=access.hub.plan.value)
    return render("hubs/settings.html", access=access, hub=access.hub, form=form, plan_form=plan_form, status=status)


@bp.post("/hubs/<slug>/settings/plan")
@login_required
def plan(slug: str):
    """Change the hub's plan (support staff only)."""
    access = hub_access(db.session(), current_user, slug, Need.SUPPORT)
    form = PlanForm()
    if form.validate_on_submit():
        services.set_plan(
            db.session(), hub=access.hub, plan=Plan(form.plan.data), actor=current_user, request_id=g.request_id
        )
        flash(f"The hub is now on the {Plan(form.plan.data).label} plan.", "success")
        return redirect(url_for("hubs.settings", slug=slug), 303)
    return render(
        "hubs/settings.html",
        access=access,
        hub=access.hub,
        form=HubGeneralForm(obj=access.hub),
        plan_form=form,
        status=422,
    )


@bp.route("/hubs/<slug>/settings/members", methods=["GET", "POST"])
@login_required
def members(slug: str):
    """The Members tab; POST invites a person by email (they join when they accept)."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    form = AddMemberForm()
    if not form.is_submitted():
        return _members_page(access, form)
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if form.validate():
        try:
            invitation = services.invite_member(
                db.session(), hub=access.hub, email=form.email.data, role=Role(form.role.data), actor=current_user
            )
        except FieldError as error:
            attach_error(form, error, default="email")
        else:
            notice = (
                f"Invited {invitation.email} as {invitation.role.label.lower()}. They join when they accept "
                "the invitation on their Account page (it is there as soon as they sign in, or once their "
                "account is created)."
            )
            return _members_changed(access, notice, focus="email")
    return _members_page(access, form, focus="email", status=422)


@bp.post("/hubs/<slug>/settings/members/<int:membership_id>/role")
@login_required
def member_role(slug: str, membership_id: int):
    """Change one member's role."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    form = MemberRoleForm()
    if not form.validate_on_submit():
        message = form.role.errors[0] if form.role.errors else "Choose a role from the list."
        return _members_page(access, row_error=(membership_id, message), status=422)
    try:
        change = services.change_role(
            db.session(),
            hub=access.hub,
            membership_id=membership_id,
            role=Role(form.role.data),
            actor=current_user,
            request_id=g.request_id,
        )
    except FieldError as error:
        return _members_page(access, row_error=(membership_id, error.message), status=409)
    membership = change.membership
    if change.changed:
        notice = f"{membership.user.display_name} is now {membership.role.label.lower()}."
    else:
        notice = f"{membership.user.display_name} already is {membership.role.label.lower()}; nothing changed."
    return _members_changed(access, notice, focus=f"role-{membership.id}")


@bp.post("/hubs/<slug>/settings/members/<int:membership_id>/remove")
@login_required
def member_remove(slug: str, membership_id: int):
    """Remove one member from the hub."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if not EmptyForm().validate_on_submit():
        return _members_page(access, row_error=(membership_id, "The form was incomplete; try again."), status=400)
    try:
        user = services.remove_member(
            db.session(), hub=access.hub, membership_id=membership_id, actor=current_user, request_id=g.request_id
        )
    except FieldError as error:
        return _members_page(access, row_error=(membership_id, error.message), status=409)
    return _members_changed(access, f"Removed {user.display_name} from the hub.", focus="members-heading")


@bp.post("/hubs/<slug>/settings/members/invitations/<int:invitation_id>/cancel")
@login_required
def invitation_cancel(slug: str, invitation_id: int):
    """Withdraw an open invitation."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if not EmptyForm().validate_on_submit():
        return _members_page(access, error="The form was incomplete; try again.", status=400)
    try:
        invitation = services.cancel_invitation(
            db.session(), hub=access.hub, invitation_id=invitation_id, actor=current_user
        )
    except FieldError as error:
        return _members_page(access, error=error.message, focus="members-heading", status=409)
    return _members_changed(access, f"Cancelled the invitation for {invitation.email}.", focus="members-heading")


def _members_changed(access: HubAccess, notice: str, *, focus: str):
    """HTMX gets the refreshed panel with a fresh form; a plain form post is redirected (PRG)."""
    if is_htmx():
        return _members_page(access, notice=notice, focus=focus)
    flash(notice, "success")
    return redirect(url_for("hubs.members", slug=access.hub.slug), 303)


def _members_page(
    access: HubAccess,
    form: AddMemberForm | None = None,
    *,
    notice: str | None = None,
    error: str | None = None,
    row_error: tuple[int, str] | None = None,
    focus: str | None = None,
    status: int = 200,
):
    """The Members tab, or for HTMX its panel; ``focus`` names the element to focus after the swap.

    A member's error is shown on that member's row, with focus on its role control.
    """
    members = services.members_of(db.session(), access.hub)
    if row_error is not None:
        if any(membership.id == row_error[0] for membership in members):
            focus = f"role-{row_error[0]}"
        else:  # that member is gone (removed meanwhile, or an id from elsewhere): say so above the list
            error, row_error, focus = row_error[1], None, "members-heading"
    return render(
        "hubs/members.html",
        block="members_panel",
        status=status,
        access=access,
        hub=access.hub,
        form=form or AddMemberForm(formdata=None),
        members=members,
        invitations=services.invitations_of(db.session(), access.hub) if access.can_manage else [],
        role_form=MemberRoleForm(formdata=None),
        action_form=EmptyForm(formdata=None),
        notice=notice,
        error=error,
        row_error=dict([row_error]) if row_error else {},
        focus=focus,
    )
