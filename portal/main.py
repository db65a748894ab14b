"""Routes that belong to no area: the load balancer's health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint

from portal import db

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def health():
    """Answer 200 when the app and its database work (for load balancers)."""
    db.session().execute(sa.text("SELECT 1"))
    return {"status": "ok"}
