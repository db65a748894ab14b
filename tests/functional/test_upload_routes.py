"""The upload routes are picker routes: the Bearer header is the only credential (no cookie, no query
string or form field), unsafe requests must come from the picker page itself, and the Embedding
tab's upload limit is bounded by the operator's maximum."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.models import AuditEvent, EmbedSettings
from tests import picker_support as ps
from tests.helpers import csrf_token, sign_in

UPLOAD_ID = "0" * 32
ROUTES = [
    ("POST", "/embed/picker/uploads/check"),
    ("POST", "/embed/picker/uploads"),
    ("GET", "/embed/picker/uploads"),
    ("POST", f"/embed/picker/uploads/{UPLOAD_ID}/session"),
    ("POST", f"/embed/picker/uploads/{UPLOAD_ID}/finish"),
    ("POST", f"/embed/picker/uploads/{UPLOAD_ID}/cancel"),
]
JSON_ROUTES = {"/embed/picker/uploads/check", "/embed/picker/uploads", f"/embed/picker/uploads/{UPLOAD_ID}/session"}


@pytest.fixture
def app_settings():  # type: ignore[no-untyped-def]
    return {"UPLOAD_MAX_MB": 4096}


@pytest.fixture
def embedding(app, db, demo):  # type: ignore[no-untyped-def]
    return ps.embed(app, db)


@pytest.fixture
def bearer_token(client, embedding):  # type: ignore[no-untyped-def]
    return ps.session_token(ps.launch(client, ps.token(embedding)))


def _send(client, method, path, **kwargs):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(path, **kwargs)
    return client.post(path, data={"file_name": "a.jpg", "file_size": "10", **kwargs.pop("data", {})}, **kwargs)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_without_the_bearer_header_every_upload_route_is_401_and_sets_no_cookie(client, bearer_token, method, path):  # type: ignore[no-untyped-def]
    response = _send(client, method, path)
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    if path in JSON_ROUTES and method == "POST":
        assert response.get_json()["message"].startswith("This picker has closed.")
    else:
        assert 'data-session-error="401"' in response.text


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_cookies_query_strings_and_form_fields_are_not_credentials(client, bearer_token, method, path):  # type: ignore[no-untyped-def]
    sign_in(client, "pat@northwind.example")
    assert _send(client, method, path).status_code == 401
    assert _send(client, method, f"{path}?token={bearer_token}").status_code == 401
    if method == "POST":
        assert _send(client, method, path, data={"picker_token": bearer_token}).status_code == 401


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[0] == "POST"])
def test_unsafe_upload_requests_from_another_site_are_refused(client, bearer_token, method, path):  # type: ignore[no-untyped-def]
    headers = {**ps.bearer(bearer_token), "Sec-Fetch-Site": "cross-site"}
    assert _send(client, method, path, headers=headers).status_code == 403


def test_an_upload_id_that_is_not_yours_is_not_found(client, bearer_token):  # type: ignore[no-untyped-def]
    for action in ("session", "finish", "cancel"):
        response = client.post(f"/embed/picker/uploads/{UPLOAD_ID}/{action}", headers=ps.bearer(bearer_token))
        assert response.status_code == 404, action
        assert "There is no such upload of yours in this hub." in response.text


def test_a_check_without_a_size_says_what_is_missing(client, bearer_token):  # type: ignore[no-untyped-def]
    response = client.post("/embed/picker/uploads/check", data={"file_name": "a.jpg"}, headers=ps.bearer(bearer_token))
    assert response.status_code == 400
    assert response.get_json()["message"] == "The browser did not say how big the file is: choose the file again."


def test_the_upload_limit_is_set_on_the_embedding_tab_within_the_operator_maximum(client, db, embedding):  # type: ignore[no-untyped-def]
    sign_in(client, "ada@northwind.example")
    page = client.get("/hubs/northwind/settings/embedding")
    assert "This portal allows files up to 4,096 MB" in page.text
    url = "/hubs/northwind/settings/embedding/uploads"

    too_big = client.post(
        url, data={"upload_max_mb": "5000", "csrf_token": csrf_token(client, "/hubs/northwind/settings/embedding")}
    )
    assert too_big.status_code == 422
    assert "The limit must be from 1 to 4,096 MB" in too_big.text
    words = client.post(
        url, data={"upload_max_mb": "two gigs", "csrf_token": csrf_token(client, "/hubs/northwind/settings/embedding")}
    )
    assert words.status_code == 422 and "Enter the limit as a whole number of MB" in words.text
    db.expire_all()
    assert db.scalar(sa.select(EmbedSettings.upload_max_mb)) is None

    saved = client.post(
        url, data={"upload_max_mb": "1500", "csrf_token": csrf_token(client, "/hubs/northwind/settings/embedding")}
    )
    assert saved.status_code == 303
    db.expire_all()
    assert db.scalar(sa.select(EmbedSettings.upload_max_mb)) == 1500
    assert (
        db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "embed.upload_limit")).details["upload_max_mb"]
        == 1500
    )
    assert "The limit now: <strong>1,500 MB</strong>" in client.get("/hubs/northwind/settings/embedding").text
