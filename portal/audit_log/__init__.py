"""The audit log, read: a paged, filterable list for support (every hub) and hub admins (their hub).

Writing lives in :mod:`portal.audit` (changes, in the caller's transaction) and
:mod:`portal.audit_log.events` (security events, the request's context).
"""

from flask import Blueprint

bp = Blueprint("audit", __name__)

from portal.audit_log import views  # noqa: E402,F401  (registers the routes)
