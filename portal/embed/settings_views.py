"""Hub settings → Embedding: which host applications may embed the picker and how they sign launches.

Admins change these settings; support staff read them (never a secret: a new secret is shown once,
in the answer to the request that made it, and is not stored in clear).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, flash, g, redirect, url_for
from flask_login import current_user, login_required

from portal import db, registry
from portal.accounts.forms import EmptyForm
from portal.embed import jwks, services
from portal.embed import settings_bp as bp
from portal.embed.forms import AutoAddForm, JwksForm, OriginForm, UploadLimitForm
from portal.embed.launch import HS256, MAX_LIFETIME
from portal.htmx import render
from portal.security import HubAccess, Need, hub_access
from portal.validation import FieldError

URL = "/hubs/<slug>/settings/embedding"


@bp.get(URL)
@login_required
def settings(slug: str):
    """The Embedding tab (admins edit, support reads)."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    return _page(access)


@bp.post(URL + "/origins")
@login_required
def add_origin(slug: str):
    """Allow one more host application origin."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    form = OriginForm()
    if form.validate_on_submit():
        try:
            origin = services.add_origin(
                db.session(), hub=access.hub, origin=form.origin.data or "", actor=current_user, request_id=g.request_id
            )
        except FieldError as error:
            form.origin.errors = [*form.origin.errors, error.message]
        else:
            flash(f"{origin} may now embed the picker.", "success")
            return redirect(url_for("embedding.settings", slug=slug), 303)
    return _page(access, origin_form=form, status=422)


@bp.post(URL + "/origins/remove")
@login_required
def remove_origin(slug: str):
    """Stop one origin from embedding the picker; its open pickers close at their next request."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    form = OriginForm()
    if form.validate_on_submit():
        try:
            origin = services.remove_origin(
                db.session(), hub=access.hub, origin=form.origin.data or "", actor=current_user, request_id=g.request_id
            )
        except FieldError as error:
            return _page(access, error=error.message, status=422)
        flash(f"{origin} can no longer embed the picker.", "success")
        return redirect(url_for("embedding.settings", slug=slug), 303)
    return _page(access, error="The form was incomplete; try again.", status=400)


@bp.post(URL + "/secret")
@login_required
def new_secret(slug: str):
    """Generate (or rotate) the launch-signing secret and show it this once."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if not EmptyForm().validate_on_submit():
        return _page(access, error="The form was incomplete; try again.", status=400)
    created = services.new_secret(
        db.session(),
        hub=access.hub,
        keyring=registry.vault().keyring,
        actor=current_user,
        grace=_grace(),
        request_id=g.request_id,
    )
    # Rendered, not redirected: this answer is the only place the secret ever appears.
    return _page(access, created=created)


@bp.post(URL + "/secret/previous/revoke")
@login_required
def revoke_previous(slug: str):
    """Stop accepting the previous secret before its grace period ends."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    if not EmptyForm().validate_on_submit():
        return _page(access, error="The form was incomplete; try again.", status=400)
    kid = services.end_grace(db.session(), hub=access.hub, actor=current_user, request_id=g.request_id)
    flash(
        f"The previous secret {kid} no longer opens the picker." if kid else "There was no previous secret.", "success"
    )
    return redirect(url_for("embedding.settings", slug=slug), 303)


@bp.post(URL + "/jwks")
@login_required
def set_jwks(slug: str):
    """Set (fetching it now to check it) or clear the host's JWKS URL for RS256/ES256 launches."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    form = JwksForm()
    if form.validate_on_submit():
        try:
            saved = services.set_jwks_url(
                db.session(),
                hub=access.hub,
                url=form.jwks_url.data,
                fetcher=current_app.extensions["embed_jwks"],
                actor=current_user,
                request_id=g.request_id,
            )
        except FieldError as error:
            form.jwks_url.errors = [*form.jwks_url.errors, error.message]
        else:
            count = len((saved.jwks_keys or {}).get("keys", []))
            flash(
                f"Saved: {count} signing key(s) found at the JWKS URL." if saved.jwks_url else "Removed the JWKS URL.",
                "success",
            )
            return redirect(url_for("embedding.settings", slug=slug), 303)
    return _page(access, jwks_form=form, status=422)


@bp.post(URL + "/participants")
@login_required
def set_auto_add(slug: str):
    """Whether a launch may add the person it names to the hub as a participant."""
    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    form = AutoAddForm()
    if not form.validate_on_submit():
        return _page(access, error="The form was incomplete; try again.", status=400)
    services.set_auto_add(
        db.session(), hub=access.hub, enabled=bool(form.auto_add.data), actor=current_user, request_id=g.request_id
    )
    flash(
        "Launches now add new people as participants."
        if form.auto_add.data
        else "Launches now open the picker only for existing members.",
        "success",
    )
    return redirect(url_for("embedding.settings", slug=slug), 303)


@bp.post(URL + "/uploads")
@login_required
def set_upload_limit(slug: str):
    """The largest file members may upload through the picker (bounded by the operator's maximum)."""
    from portal.uploads import services as upload_services

    access = hub_access(db.session(), current_user, slug, Need.MANAGE)
    form = UploadLimitForm()
    if form.validate_on_submit():
        try:
            value = upload_services.parse_limit(form.upload_max_mb.data, current_app.config["UPLOAD_MAX_MB"])
        except FieldError as error:
            form.upload_max_mb.errors = [*form.upload_max_mb.errors, error.message]
        else:
            upload_services.set_limit(
                db.session(), hub=access.hub, value=value, actor=current_user, request_id=g.request_id
            )
            flash(
                f"Members may now upload files up to {value:,} MB."
                if value
                else "Uploads now take the portal's maximum.",
                "success",
            )
            return redirect(url_for("embedding.settings", slug=slug), 303)
    return _page(access, upload_form=form, status=422)


def _grace() -> timedelta:
    return timedelta(hours=current_app.config["EMBED_SECRET_GRACE_HOURS"])


def _page(
    access: HubAccess,
    *,
    origin_form: OriginForm | None = None,
    jwks_form: JwksForm | None = None,
    created: services.NewSecret | None = None,
    error: str | None = None,
    status: int = 200,
    upload_form: UploadLimitForm | None = None,
):
    from portal.uploads.services import limit_mb

    settings = services.settings_of(db.session(), access.hub)
    now = datetime.now(UTC)
    previous_valid = bool(
        settings
        and settings.previous_secret_id
        and settings.previous_secret_expires_at
        and settings.previous_secret_expires_at > now
    )
    return render(
        "embed/settings.html",
        status=status,
        access=access,
        hub=access.hub,
        settings=settings,
        origin_form=origin_form or OriginForm(formdata=None),
        jwks_form=jwks_form or JwksForm(formdata=None, jwks_url=settings.jwks_url if settings else ""),
        auto_add_form=AutoAddForm(formdata=None, auto_add=settings.auto_add_participants if settings else True),
        action_form=EmptyForm(formdata=None),
        created=created,
        error=error,
        previous_valid=previous_valid,
        jwks_key_ids=jwks.key_ids(settings.jwks_keys if settings else None),
        audience=current_app.config["EMBED_AUDIENCE"],
        grace_hours=current_app.config["EMBED_SECRET_GRACE_HOURS"],
        max_lifetime=MAX_LIFETIME,
        algorithm=HS256,
        launch_url=url_for("embed.launch", _external=True),
        upload_form=upload_form
        or UploadLimitForm(formdata=None, upload_max_mb=str(settings.upload_max_mb or "") if settings else ""),
        upload_max_mb=current_app.config["UPLOAD_MAX_MB"],
        upload_limit_mb=limit_mb(settings, current_app.config["UPLOAD_MAX_MB"]),
    )
