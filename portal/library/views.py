"""The hub's Media Library (members; support reads): its items, one item's preview, and the launch
of the "From Kaltura" picker.

The library page is a host application like any other: it frames the picker and opens it with a
launch token POSTed into the frame. The token is minted here for the signed-in member, signed with
the portal's own per-hub key and bound to the portal's own origin, and ``/embed/picker`` verifies it
with the same code as every other host's (one code path).
"""

from __future__ import annotations

from flask import abort, current_app, g, request
from flask_login import current_user, login_required

from portal import db, registry
from portal.accounts.forms import EmptyForm
from portal.embed import picker
from portal.embed.auth import allow_kaltura_media, own_origin
from portal.embed.launch import mint_launch_token, own_launch_key
from portal.embed.sessions import PickerContext
from portal.htmx import render
from portal.integrations.services import connection_of
from portal.kaltura.media import thumbnail_srcset, thumbnail_url
from portal.library import bp, services
from portal.models import PickerSession
from portal.security import HubAccess, Need, hub_access

#: How long the Media Library's own launch token lives: it is used within a second of being made.
OWN_LAUNCH_TTL = 60


@bp.get("/hubs/<slug>/library")
@login_required
def index(slug: str):
    """The hub's media library, newest first, with the "From Kaltura" picker for members."""
    access = hub_access(db.session(), current_user, slug, Need.VIEW)
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and len(page) < 7 else 1
    listing = services.items_of(db.session(), access.hub, page=number)
    connection = connection_of(db.session(), access.hub)
    allow_kaltura_media(connection.service_url if connection else None)
    return render(
        "library/index.html",
        block="library_items",
        access=access,
        hub=access.hub,
        listing=listing,
        connected=bool(connection and connection.is_complete),
        launch_form=EmptyForm(formdata=None),
    )


@bp.get("/hubs/<slug>/library/<int:item_id>")
@login_required
def item(slug: str, item_id: int):
    """One item: the large picture, its details and, for a member, a player for video and audio."""
    access = hub_access(db.session(), current_user, slug, Need.VIEW)
    found = services.item_of(db.session(), access.hub, item_id)
    if found is None:
        abort(404)
    connection = connection_of(db.session(), access.hub)
    allow_kaltura_media(connection.service_url if connection else None)
    preview = None
    if access.role is not None and found.media_type.value in ("video", "audio"):
        preview = picker.preview(
            db.session(), registry.kaltura(), registry.vault(), _member_context(access), found.entry_id
        )
    return render("library/item.html", access=access, hub=access.hub, item=found, preview=preview)


@bp.post("/hubs/<slug>/library/launch")
@login_required
def launch(slug: str):
    """Inside the library's picker frame: a page that POSTs a fresh launch token to the picker."""
    access = hub_access(db.session(), current_user, slug, Need.VIEW)
    if access.role is None:
        abort(403, "Only the hub's members can add media to its library.")
    if not EmptyForm().validate_on_submit():
        abort(400)
    origin = own_origin()
    token = mint_launch_token(
        own_launch_key(current_app.config["SECRET_KEY"], access.hub.id),
        hub=access.hub.slug,
        email=current_user.email,
        name=current_user.display_name,
        sub=f"portal-user:{current_user.id}",
        origin=origin or "",
        audience=current_app.config["EMBED_AUDIENCE"],
        ttl=OWN_LAUNCH_TTL,
    )
    g.frame_ancestors = "'self'"  # this page lives in the library page's own frame
    return render("library/launch.html", launch_token=token, hub=access.hub)


@bp.app_template_filter("kaltura_thumbnail")
def kaltura_thumbnail(url: str | None, width: int, height: int) -> str | None:
    """A Kaltura thumbnail URL sized for its place on the page."""
    return thumbnail_url(url, width, height)


@bp.app_template_filter("kaltura_srcset")
def kaltura_srcset(url: str | None, *widths: int) -> str | None:
    """A ``srcset`` of Kaltura thumbnail sizes, for dense screens."""
    return thumbnail_srcset(url, widths)


@bp.app_template_filter("duration")
def duration(seconds: int | None) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    return picker.format_duration(seconds) or ""


def _member_context(access: HubAccess) -> PickerContext:
    """A picker context for the signed-in member (the library page reuses the picker's preview)."""
    assert access.role is not None
    return PickerContext(
        session=PickerSession(origin=own_origin() or ""),
        hub=access.hub,
        user=current_user._get_current_object(),
        role=access.role,
        connection=connection_of(db.session(), access.hub),
        settings=None,
        own_origin=True,
    )
