from flask import Blueprint

bp = Blueprint("integrations", __name__)

from portal.integrations import views  # noqa: E402,F401  (registers the routes)
