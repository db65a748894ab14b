"""Sign in, sign out and the Account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal import audit, db
from portal.accounts import bp, services
from portal.accounts.forms import EmptyForm, SignInForm
from portal.extensions import limiter, login_account_key, login_manager
from portal.htmx import render
from portal.hubs.services import hubs_for
from portal.models import User


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The cookie holds the user's session token, so rotating it signs them out everywhere."""
    return services.load_by_session_token(db.session(), token)


def _failed(response: Response) -> bool:
    # Only failed attempts count, so a user who signs in and out all day is never throttled.
    return response.status_code != 303


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
    key_func=login_account_key,
    deduct_when=_failed,
)
def login():
    """Sign in with email and password; a wrong pair gets one generic message."""
    if current_user.is_authenticated:
        return redirect(url_for("hubs.index"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(db.session(), form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(user)
            audit.record(db.session(), action="auth.sign_in", actor=user, request_id=g.request_id)
            db.session().commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("hubs.index"), 303)
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
        services.end_all_sessions(db.session(), current_user._get_current_object())
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"), 303)


@bp.get("/account")
@login_required
def account():
    """The signed-in user's profile and the hubs they belong to."""
    return render("accounts/account.html", hubs=hubs_for(db.session(), current_user), sign_out_form=EmptyForm())


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
