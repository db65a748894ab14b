"""The picker-session token: only an ``Authorization: Bearer`` header counts, sessions end when they
should, a session only ever acts for its own hub, and bad control values get a clear 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.embed import services as embed_services
from portal.models import LibraryItem, Membership, PickerSession, User
from tests import picker_support as ps
from tests.helpers import sign_in

ROUTES = [("GET", "/embed/picker/media"), ("GET", "/embed/picker/media/0_abcd1234"), ("POST", "/embed/picker/import")]


@pytest.fixture
def embedding(app, db, demo):  # type: ignore[no-untyped-def]
    return ps.embed(app, db)


@pytest.fixture
def bearer_token(client, embedding):  # type: ignore[no-untyped-def]
    return ps.session_token(ps.launch(client, ps.token(embedding)))


def _send(client, method, path, **kwargs):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(path, **kwargs)
    return client.post(path, data={"entry_id": "0_abcd1234", **kwargs.pop("data", {})}, **kwargs)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_bearer_header_is_401_without_a_cookie(client, bearer_token, method, path):  # type: ignore[no-untyped-def]
    response = _send(client, method, path)
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    assert 'data-session-error="401"' in response.text


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_signed_in_cookie_is_not_a_picker_credential(client, bearer_token, method, path):  # type: ignore[no-untyped-def]
    sign_in(client, "pat@northwind.example")
    assert _send(client, method, path).status_code == 401


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_query_string_and_form_credentials_are_ignored(client, bearer_token, method, path):  # type: ignore[no-untyped-def]
    for name in ("token", "access_token", "picker_token", "session"):
        assert _send(client, method, f"{path}?{name}={bearer_token}").status_code == 401
    if method == "POST":
        assert (
            _send(client, method, path, data={"token": bearer_token, "picker_token": bearer_token}).status_code == 401
        )


@pytest.mark.parametrize("header", ["Basic {t}", "Bearer", "Token {t}", "Bearer {t}x", "bearer  "])
def test_malformed_authorization_headers_are_401(client, bearer_token, header):  # type: ignore[no-untyped-def]
    response = client.get("/embed/picker/media", headers={"Authorization": header.format(t=bearer_token)})
    assert response.status_code == 401


def test_a_valid_bearer_works_and_sets_frame_ancestors_and_no_cookie(client, bearer_token):  # type: ignore[no-untyped-def]
    response = client.get("/embed/picker/media", headers=ps.bearer(bearer_token))

    assert response.status_code == 409  # the hub is not connected to Kaltura: a clear state, not an error page
    assert "This hub is not connected to Kaltura" in response.text and "<html" not in response.text
    assert f"frame-ancestors {ps.HOST}" in response.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in response.headers


def _session(db) -> PickerSession:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(sa.select(PickerSession))


@pytest.mark.parametrize(
    "change",
    [
        {"expires_at": datetime.now(UTC) - timedelta(seconds=1)},
        {"last_used_at": datetime.now(UTC) - timedelta(minutes=31)},
    ],
    ids=["expired", "idle"],
)
def test_expired_and_idle_sessions_are_401(client, db, bearer_token, change):  # type: ignore[no-untyped-def]
    db.execute(sa.update(PickerSession).values(**change))
    db.commit()
    assert client.get("/embed/picker/media", headers=ps.bearer(bearer_token)).status_code == 401


def test_a_member_who_leaves_the_hub_loses_the_picker_at_once(client, db, bearer_token):  # type: ignore[no-untyped-def]
    pat = db.scalar(sa.select(User).where(User.email == "pat@northwind.example"))
    db.execute(sa.delete(Membership).where(Membership.user_id == pat.id, Membership.hub_id == _session(db).hub_id))
    db.commit()
    assert client.get("/embed/picker/media", headers=ps.bearer(bearer_token)).status_code == 401


def test_removing_the_origin_closes_its_pickers(client, db, embedding, bearer_token):  # type: ignore[no-untyped-def]
    embed_services.remove_origin(db, hub=embedding.hub, origin=ps.HOST, actor=None)
    assert client.get("/embed/picker/media", headers=ps.bearer(bearer_token)).status_code == 401


def test_a_session_only_ever_acts_for_its_own_hub(app, client, db, embedding):  # type: ignore[no-untyped-def]
    """Pat is in both hubs; a Riverside session (free plan) never reaches Northwind's Kaltura or library."""
    riverside = ps.embed(app, db, "riverside")
    token = ps.session_token(ps.launch(client, ps.token(riverside)))

    listing = client.get("/embed/picker/media", headers=ps.bearer(token))
    imported = client.post("/embed/picker/import", data={"entry_id": ["0_abcd1234"]}, headers=ps.bearer(token))

    assert listing.status_code == 409 and "needs a paid plan" in listing.text
    assert imported.status_code == 409
    assert db.scalar(sa.select(sa.func.count()).select_from(LibraryItem)) == 0
    sessions = db.scalars(sa.select(PickerSession)).all()
    assert [s.hub_id for s in sessions] == [riverside.hub.id]


def test_unsafe_requests_from_another_site_are_refused(client, bearer_token):  # type: ignore[no-untyped-def]
    response = client.post(
        "/embed/picker/import",
        data={"entry_id": "0_abcd1234"},
        headers={**ps.bearer(bearer_token), "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page=0", "page", "whole number"),
        ("page=-3", "page", "whole number"),
        ("page=abc", "page", "whole number"),
        ("page=99999999999", "page", "whole number"),
        ("type=documents", "type", "Unknown type"),
        ("owner=everyone", "owner", "Unknown owner"),
        ("sort=-plays", "sort", "Unknown sort"),
        ("q=" + "x" * 2000, "q", "at most 200 characters"),
    ],
)
def test_controls_outside_the_allowed_values_get_a_clear_422(client, bearer_token, query, field, message):  # type: ignore[no-untyped-def]
    response = client.get(f"/embed/picker/media?{query}", headers=ps.bearer(bearer_token))
    assert response.status_code == 422
    assert message in response.text and "Check the search" in response.text


@pytest.mark.parametrize(
    "entry_ids", [["0_abc,0_def"], ["../etc"], ["x" * 41], [f"0_{i:08d}" for i in range(51)], [""]]
)
def test_bad_import_ids_get_a_clear_422(client, db, bearer_token, entry_ids):  # type: ignore[no-untyped-def]
    response = client.post("/embed/picker/import", data={"entry_id": entry_ids}, headers=ps.bearer(bearer_token))
    assert response.status_code == 422 and 'role="alert"' in response.text
    assert db.scalar(sa.select(sa.func.count()).select_from(LibraryItem)) == 0


def test_a_malformed_entry_id_in_preview_is_not_found(client, bearer_token):  # type: ignore[no-untyped-def]
    response = client.get("/embed/picker/media/0_abc%2C0_def", headers=ps.bearer(bearer_token))
    assert response.status_code == 404 and "not a Kaltura entry id" in response.text
