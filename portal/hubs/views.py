"""My hubs, the hub page, and hub settings (General and Members tabs)."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user, login_required

from portal import db
from portal.accounts.forms import EmptyForm
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
    return render("hubs/index.html", hubs=services.hubs_for(db.session(), current_user))


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
            services.rename_hub(
                db.session(), hub=access.hub, name=form.name.data, actor=current_user, request_id=g.request_id
            )
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
    """The Members tab; POST adds a member by email."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    form = AddMemberForm()
    if not form.is_submitted():
        return _members_page(access, form)
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if form.validate():
        try:
            membership = services.add_member(
                db.session(),
                hub=access.hub,
                email=form.email.data,
                role=Role(form.role.data),
                actor=current_user,
                request_id=g.request_id,
            )
        except FieldError as error:
            form.email.errors.append(error.message)
        else:
            return _members_changed(access, f"Added {membership.user.display_name} as {membership.role.label.lower()}.")
    return _members_page(access, form, status=422)


@bp.post("/hubs/<slug>/settings/members/<int:membership_id>/role")
@login_required
def member_role(slug: str, membership_id: int):
    """Change one member's role."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    form = MemberRoleForm()
    if not form.validate_on_submit():
        return _members_page(access, AddMemberForm(formdata=None), error="Choose a role from the list.", status=422)
    try:
        membership = services.change_role(
            db.session(),
            hub=access.hub,
            membership_id=membership_id,
            role=Role(form.role.data),
            actor=current_user,
            request_id=g.request_id,
        )
    except FieldError as error:
        return _members_page(access, AddMemberForm(formdata=None), error=error.message, status=409)
    return _members_changed(access, f"{membership.user.display_name} is now {membership.role.label.lower()}.")


@bp.post("/hubs/<slug>/settings/members/<int:membership_id>/remove")
@login_required
def member_remove(slug: str, membership_id: int):
    """Remove one member from the hub."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if not EmptyForm().validate_on_submit():
        return _members_page(access, AddMemberForm(formdata=None), error="The form was incomplete.", status=400)
    try:
        user = services.remove_member(
            db.session(), hub=access.hub, membership_id=membership_id, actor=current_user, request_id=g.request_id
        )
    except FieldError as error:
        return _members_page(access, AddMemberForm(formdata=None), error=error.message, status=409)
    return _members_changed(access, f"Removed {user.display_name} from the hub.")


def _members_changed(access: HubAccess, notice: str):
    """HTMX gets the refreshed panel with a fresh form; a plain form post is redirected (PRG)."""
    if is_htmx():
        return _members_page(access, AddMemberForm(formdata=None), notice=notice)
    flash(notice, "success")
    return redirect(url_for("hubs.members", slug=access.hub.slug), 303)


def _members_page(access: HubAccess, form: AddMemberForm, *, notice=None, error=None, status: int = 200):
    return render(
        "hubs/members.html",
        block="members_panel",
        status=status,
        access=access,
        hub=access.hub,
        form=form,
        members=services.members_of(db.session(), access.hub),
        role_form=MemberRoleForm(formdata=None),
        action_form=EmptyForm(formdata=None),
        notice=notice,
        error=error,
    )
