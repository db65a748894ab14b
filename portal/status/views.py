"""Hub settings → Integrations → Kaltura → Status, its "Check now" and diagnostic bundle, and the
support dashboard. Viewing costs no Kaltura call: the figures are what the gateway recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, g, request
from flask_login import current_user, login_required

from portal import db, registry
from portal.accounts.forms import EmptyForm
from portal.audit_log import services as audit_services
from portal.audit_log.events import security_event
from portal.audit_log.views import filters as audit_filters
from portal.concurrency import LiveChecksBusy, live_check_slots
from portal.htmx import render
from portal.integrations import services as integrations
from portal.integrations.views import BUSY_RETRY_AFTER, over_test_limit
from portal.security import HubAccess, Need, hub_access
from portal.status import services
from portal.status.forms import DashboardForm

bp = Blueprint("status", __name__)

STATUS_URL = "/hubs/<slug>/settings/integrations/kaltura/status"


@bp.get(STATUS_URL)
@login_required
def hub(slug: str):
    """The hub's integration status, for its admins and support (read-only); HTMX filters its audit log."""
    access = hub_access(db.session(), current_user, slug, Need.SETTINGS)
    return _page(access, block="audit_log")


@bp.post(STATUS_URL + "/check")
@login_required
def check(slug: str):
    """ "Check now": the live checks on the saved connection (as support runs them), then the fresh figures."""
    access = hub_access(db.session(), current_user, slug, Need.LIVE_TEST)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if wait := over_test_limit():
        return _page(access, block="status_figures", status=429, notice=_wait_message(wait), retry_after=wait)
    try:
        with live_check_slots(access.hub.id, current_user.id):
            report = integrations.test_connection(
                db.session(),
                gateway=registry.kaltura(),
                vault=registry.vault(),
                hub=access.hub,
                tester=current_user,
                may_change=False,
                typed=integrations.Typed(),
                request_id=g.request_id,
            )
    except LiveChecksBusy as busy:
        security_event("security.rate_limited", scope=f"live-check-{busy.scope}", hub=access.hub)
        return _page(access, block="status_figures", status=429, notice=busy.description, retry_after=BUSY_RETRY_AFTER)
    if report.problems:
        notice = " ".join(problem.message for problem in report.problems)
        return _page(access, block="status_figures", status=422, notice=notice)
    return _page(access, block="status_figures", checked=True)


@bp.get(STATUS_URL + "/bundle.json")
@login_required
def bundle(slug: str):
    """The diagnostic bundle as a JSON download, for support staff (no secret in it)."""
    access = hub_access(db.session(), current_user, slug, Need.SUPPORT)
    _fresh()
    data = services.bundle(db.session(), access.hub)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
    response = Response(json.dumps(data, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="kaltura-diagnostics-{access.hub.slug}-{stamp}.json"'
    )
    return response


@bp.get("/support")
@login_required
def support():
    """Every hub with its plan and integration health, sortable and filterable by problem (support only)."""
    if not current_user.is_support:
        abort(403, "The support dashboard is for support staff. Hub admins find their hub's status in its settings.")
    form = DashboardForm(request.args)
    form.validate()
    problem = form.problem.data if not form.problem.errors and form.problem.data else None
    sort = form.sort.data if not form.sort.errors and form.sort.data else "health"
    _fresh()
    hubs = services.dashboard(db.session(), problem=problem, sort=sort)
    counts = _problem_counts() if not problem else None
    return render(
        "status/support.html",
        block="hub_health",
        status=422 if form.errors else 200,
        form=form,
        hubs=hubs,
        sort=sort,
        problem=problem,
        counts=counts,
        health_labels=services.HEALTH,
        sorts=services.SORTS,
    )


def _problem_counts() -> dict[str, int]:
    counts = dict.fromkeys(services.HEALTH, 0)
    for health in services.dashboard(db.session()):
        for problem in health.problems or ("connected",):
            counts[problem] += 1
    return counts


def _wait_message(wait: int) -> str:
    return (
        "You have run many connection tests in the last minute, and each one calls Kaltura. "
        f"Wait {wait} second{'' if wait == 1 else 's'}, then check again."
    )


def _fresh() -> None:
    # What this process's gateway just recorded is in the writer's queue for a few milliseconds.
    registry.recorder().flush()


def _page(
    access: HubAccess,
    *,
    block: str | None = None,
    status: int = 200,
    notice: str | None = None,
    retry_after: int | None = None,
    checked: bool = False,
):
    _fresh()
    hub_status = services.hub_status(db.session(), access.hub)
    form, query = audit_filters(visible=[access.hub.id], hubs=None)
    page = audit_services.search(db.session(), query, visible_hubs=[access.hub.id])
    response = render(
        "status/hub.html",
        block=block,
        status=422 if status == 200 and form.errors else status,
        access=access,
        hub=access.hub,
        st=hub_status,
        form=form,
        page=page,
        check_form=EmptyForm(),
        notice=notice,
        checked=checked,
        health_labels=services.HEALTH,
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
