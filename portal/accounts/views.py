"""Sign in, sign out and the Account page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal import audit, db, registry
from portal.accounts import bp, services
from portal.accounts.forms import EmptyForm, SignInForm
from portal.cookies import is_known_device, remember_device
from portal.extensions import attempted_email, limiter, login_account_address_key, login_account_key, login_manager
from portal.htmx import is_htmx, render
from portal.hubs import services as hub_services
from portal.hubs.services import hubs_for
from portal.identity.status import member_integration
from portal.models import Hub, Membership, Role, User
from portal.validation import FieldError


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The cookie holds the user's session token, so rotating it signs them out everywhere."""
    return services.load_by_session_token(db.session(), token)


def _failed(response: Response) -> bool:
    # Only failed attempts count, so a user who signs in and out all day is never throttled.
    return response.status_code != 303


def _known_device() -> bool:
    # A browser that signed in to this account before is exempt from the all-addresses ceiling.
    return is_known_device(attempted_email())


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    scope="sign-in-address",
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    scope="sign-in-account",
    key_func=login_account_address_key,
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_ACCOUNT_CEILING"],
    methods=["POST"],
    scope="sign-in-account-ceiling",
    key_func=login_account_key,
    deduct_when=_failed,
    exempt_when=_known_device,
)
def login():
    """Sign in with email and password; a wrong pair gets one generic message."""
    if current_user.is_authenticated:
        return redirect(url_for("hubs.index"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        attempt = services.authenticate(db.session(), form.email.data, form.password.data)
        if attempt.user is not None:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(attempt.user)
            audit.record(db.session(), action="auth.sign_in", actor=attempt.user)
            db.session().commit()
            _flash_invitations(attempt.user)
            response = redirect(_safe_next(request.args.get("next")) or url_for("hubs.index"), 303)
            remember_device(response, attempt.user.email)
            return response
        audit.record(
            db.session(), action="auth.sign_in_failed", actor=None, actor_email=attempted_email(), reason=attempt.reason
        )
        db.session().commit()
        form.password.errors.append("The email or password is wrong.")
    if form.errors:
        status = 422
    return render("accounts/login.html", form=form, status=status)


@bp.post("/sign-out")
@login_required
def logout():
    """Sign out here and invalidate this user's other sessions too."""
    form = EmptyForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        audit.record(db.session(), action="auth.sign_out", actor=user)
        services.end_all_sessions(db.session(), user)
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"), 303)


@bp.get("/account")
@login_required
def account():
    """The signed-in user's profile, their hubs, and invitations waiting for an answer."""
    return _account_page()


@bp.get("/account/integrations/<slug>")
@login_required
def integration(slug: str):
    """Account → Integrations → (hub): the member's Kaltura user, in plain words. Members only (support
    staff see hubs they are not in on the admin pages instead). Viewing it links the member on first use."""
    user = current_user._get_current_object()
    row = (
        db.session()
        .execute(
            sa.select(Hub, Membership.role).join(Membership).where(Hub.slug == slug, Membership.user_id == user.id)
        )
        .first()
    )
    if row is None:
        abort(404)
    hub, role = row
    status = member_integration(db.session(), registry.kaltura(), hub, user, is_admin=role is Role.ADMIN)
    return render("accounts/integration.html", info=status, hub=hub, role=role)


@bp.post("/account/invitations/<int:invitation_id>/accept")
@login_required
def invitation_accept(invitation_id: int):
    """Join the hub an invitation is for."""
    if not EmptyForm().validate_on_submit():
        return _account_page(error="The form was incomplete; try again.", status=400)
    try:
        membership = hub_services.accept_invitation(
            db.session(), user=current_user._get_current_object(), invitation_id=invitation_id
        )
    except FieldError as error:
        return _account_page(error=error.message, status=409)
    return _account_changed(f"You joined {membership.hub.name} as {membership.role.label.lower()}.")


@bp.post("/account/invitations/<int:invitation_id>/decline")
@login_required
def invitation_decline(invitation_id: int):
    """Turn an invitation down."""
    if not EmptyForm().validate_on_submit():
        return _account_page(error="The form was incomplete; try again.", status=400)
    try:
        invitation = hub_services.decline_invitation(
            db.session(), user=current_user._get_current_object(), invitation_id=invitation_id
        )
    except FieldError as error:
        return _account_page(error=error.message, status=409)
    return _account_changed(f"You declined the invitation to {invitation.hub.name}.")


@login_manager.unauthorized_handler
def unauthorized():
    """Not signed in: send the browser to sign in; an HTMX request is told to load that page whole."""
    target = url_for("accounts.login", next=_return_path())
    if is_htmx():
        # A plain redirect would be followed by the XHR and the sign-in page swapped into a panel.
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(target)


def _return_path() -> str | None:
    """Where to come back to after signing in: the page the person was on.

    For HTMX that is HX-Current-URL, not the fragment endpoint that was called; for a form post it
    is the page the form was on (the post itself cannot be repeated by a redirect).
    """
    if request.method == "GET" and not is_htmx():
        return request.full_path if request.query_string else request.path
    current = request.headers.get("HX-Current-URL") or request.referrer
    if current:
        parts = urlsplit(current)
        same_site = not parts.netloc or parts.netloc == request.host
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if same_site and _safe_next(path):
            return path
    return None


def _account_changed(notice: str):
    if is_htmx():
        return _account_page(notice=notice)
    flash(notice, "success")
    return redirect(url_for("accounts.account"), 303)


def _account_page(*, notice: str | None = None, error: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    return render(
        "accounts/account.html",
        block="invitations_panel",
        status=status,
        hubs=hubs_for(db.session(), user),
        invitations=hub_services.invitations_for(db.session(), user),
        sign_out_form=EmptyForm(formdata=None),
        action_form=EmptyForm(formdata=None),
        notice=notice,
        error=error,
    )


def _flash_invitations(user: User) -> None:
    count = hub_services.invitation_count(db.session(), user)
    if count:
        flash(
            f"You have {count} invitation{'s' if count != 1 else ''} to join a hub: answer "
            f"{'them' if count != 1 else 'it'} on your Account page.",
            "info",
        )


# Characters a path may carry after sign-in: RFC 3986 path, query and fragment characters.
_SAFE_NEXT = re.compile(r"^/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%?#]*$")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths made of URL characters are followed after sign-in.

    No scheme or host (no open redirect), no backslash (browsers read it as a slash), and no
    control character or space, which would otherwise reach the Location header (a CR/LF there is
    a 500 at best, a split response at worst).
    """
    if not target or len(target) > 2000 or not _SAFE_NEXT.match(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
