from flask import Blueprint

bp = Blueprint("hubs", __name__)

from portal.hubs import views  # noqa: E402,F401  (registers the routes)
