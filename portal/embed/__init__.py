"""The embeddable "From Kaltura" picker (issue 11): launch, browse, preview, import.

Two blueprints, because they authenticate differently:

* ``embed`` (``/embed/picker...``): runs inside another site's iframe, where browsers block
  third-party cookies. A signed launch token opens it; after that every request carries the
  picker-session token in ``Authorization: Bearer``. It reads no cookie, sets none, and is exempt
  from the cookie-based CSRF check (a cross-site page cannot add that header; see views.py).
* ``embedding`` (hub settings → Embedding): an ordinary signed-in page with CSRF-protected forms.
"""

from flask import Blueprint, Flask

bp = Blueprint("embed", __name__)
settings_bp = Blueprint("embedding", __name__)


def init_app(app: Flask) -> None:
    """Register both blueprints and the JWKS fetcher (one per process, like the Kaltura gateway)."""
    from portal.embed.jwks import JwksFetcher

    app.extensions["embed_jwks"] = JwksFetcher.from_config(app.config)
    app.register_blueprint(bp)
    app.register_blueprint(settings_bp)


from portal.embed import settings_views, upload_views, views  # noqa: E402,F401  (registers the routes)
