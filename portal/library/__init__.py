"""The hub's Media Library page, which opens the "From Kaltura" picker like any host application."""

from flask import Blueprint

bp = Blueprint("library", __name__)

from portal.library import views  # noqa: E402,F401  (registers the routes)
