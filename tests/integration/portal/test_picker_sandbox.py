"""The picker against a real Kaltura sandbox over HTTP: browsing, search, filters, sorts, pages,
preview, import, entitlement, Kaltura's failures, and the number of Kaltura calls each costs."""

from __future__ import annotations

import html
import json
import re

import pytest
import sqlalchemy as sa

from portal.kaltura import parse_app_token
from portal.kaltura.media import MediaQuery
from portal.models import LibraryItem
from tests import picker_support as ps

NAMES = re.compile(r'class="media-name" id="entry-[^"]+-name">([^<]*)<')
META = re.compile(r'class="media-meta" id="entry-[^"]+-meta">([^<]*)<')
SUMMARY = re.compile(r'id="picker-summary"[^>]*>\s*([^<]*)<')


@pytest.fixture
def embedding(app, db, demo, sandbox):  # type: ignore[no-untyped-def]
    ps.connect(app, db, sandbox)
    return ps.embed(app, db)


def _open(client, embedding, email: str = "pat@northwind.example") -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = ps.launch(client, ps.token(embedding, email=email))
    assert response.status_code == 200, response.text[:500]
    return ps.bearer(ps.session_token(response))


def _page(client, bearer, **params):  # type: ignore[no-untyped-def]
    response = client.get("/embed/picker/media", query_string=params, headers=bearer)
    assert response.status_code == 200, response.text[:800]
    return response.text


def _direct(app, sandbox, user: str, query: MediaQuery):  # type: ignore[no-untyped-def]
    """What the sandbox itself says for this user and query (through the gateway, as a reference)."""
    token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
    return app.extensions["kaltura"].browse_media(sandbox.url, token, user, query)


def test_cold_open_costs_three_kaltura_calls_and_a_page_then_costs_one(app, db, client, sandbox, embedding):  # type: ignore[no-untyped-def]
    from portal.identity.links import ensure_link
    from portal.models import User

    # The member is already linked to their Kaltura user (first use costs the server session and a
    # user.list once, tests/integration/portal/test_identity_sandbox.py); the picker's own cost is measured.
    pat = db.scalar(sa.select(User).where(User.email == "pat@northwind.example"))
    ensure_link(db, app.extensions["kaltura"], embedding.hub, pat)
    sandbox.control("calls/reset")
    launched = ps.launch(client, ps.token(embedding))
    assert launched.status_code == 200
    assert sum(sandbox.calls().values()) == 3  # widget session + app-token session + one media.list
    assert len(ps.entry_ids(launched.text)) == 24
    bearer = ps.bearer(ps.session_token(launched))

    for params in ({"page": 2}, {"q": "drone"}, {"type": "image", "sort": "name"}, {"owner": "mine", "q": "tow"}):
        sandbox.control("calls/reset")
        _page(client, bearer, **params)
        assert sandbox.calls() == {"media.list": 1}, params


def test_the_first_page_matches_what_kaltura_lists_for_the_member(app, client, sandbox, embedding):  # type: ignore[no-untyped-def]
    launched = ps.launch(client, ps.token(embedding))
    expected = _direct(app, sandbox, "pat@northwind.example", MediaQuery())
    assert ps.entry_ids(launched.text) == [e.id for e in expected.entries]
    assert f"1–24 of {expected.total_count:,}" in html.unescape(SUMMARY.search(launched.text).group(1))


def test_search_as_you_type_uses_kaltura_prefix_semantics(app, client, sandbox, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    typed = _page(client, bearer, q="harbour dro")
    expected = _direct(app, sandbox, "pat@northwind.example", MediaQuery(free_text="harbour dro*"))
    assert ps.entry_ids(typed) == [e.id for e in expected.entries] and expected.total_count > 0
    assert all("harbour" in name.lower() for name in NAMES.findall(typed))
    assert "for “harbour dro”" in html.unescape(typed)


@pytest.mark.parametrize(
    "query",
    ['"drone"', "drone*", "a,b|c", "@name drone", "(drone)", "-drone", "dr'one", "drone \\", "%_*", "x" * 200],
)
def test_kaltura_special_characters_are_normalised_never_a_500(client, embedding, query):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    response = client.get("/embed/picker/media", query_string={"q": query}, headers=bearer)
    assert response.status_code == 200, response.text[:500]
    assert 'id="picker-results"' in response.text


@pytest.mark.parametrize(
    ("kind", "meta"),
    [("video", "Video"), ("image", "Image"), ("audio", "Audio"), ("360", "360°")],
)
def test_type_filters(client, embedding, kind, meta):  # type: ignore[no-untyped-def]
    text = html.unescape(_page(client, _open(client, embedding), type=kind))
    metas = META.findall(text)
    assert metas, text[:500]
    assert all(meta in m for m in metas), metas


def test_ownership_filter_mine(app, client, sandbox, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    mine = _page(client, bearer, owner="mine")
    expected = _direct(app, sandbox, "pat@northwind.example", MediaQuery(owner="pat@northwind.example"))
    assert ps.entry_ids(mine) == [e.id for e in expected.entries]
    assert all(e.user_id == "pat@northwind.example" for e in expected.entries)
    assert all(", yours" in m for m in META.findall(html.unescape(mine)))


@pytest.mark.parametrize(
    ("sort", "order_by"),
    [
        ("newest", "-createdAt"),
        ("oldest", "+createdAt"),
        ("name", "+name"),
        ("name_desc", "-name"),
        ("updated", "-updatedAt"),
    ],
)
def test_sorts_follow_kaltura(app, client, sandbox, embedding, sort, order_by):  # type: ignore[no-untyped-def]
    listed = _page(client, _open(client, embedding), sort=sort, type="video")
    expected = _direct(app, sandbox, "pat@northwind.example", MediaQuery(order_by=order_by, media_types=(1,)))  # type: ignore[arg-type]
    assert ps.entry_ids(listed) == [e.id for e in expected.entries]


def test_pages_are_numbered_with_previous_next_and_total(client, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    first, second = _page(client, bearer), _page(client, bearer, page=2)
    assert set(ps.entry_ids(first)).isdisjoint(ps.entry_ids(second))
    assert re.search(r'<nav class="picker-pages" aria-label="Pages">', second)
    assert 'rel="prev"' in second and 'rel="next"' in second
    assert re.search(r'aria-current="page">2</a>', second)
    assert "25–48 of" in html.unescape(second)


def test_a_page_past_the_last_shows_the_empty_state(client, embedding):  # type: ignore[no-untyped-def]
    text = _page(client, _open(client, embedding), page=300)
    assert "No media yet" in text or "No results" in text


def test_the_ten_thousand_result_window_is_explained_without_calling_kaltura(client, sandbox, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    sandbox.control("calls/reset")
    text = _page(client, bearer, page=418)
    assert sandbox.calls() == {}
    assert "first 10,000 results" in text and "Narrow the search" in text


def test_empty_search_offers_to_clear_the_filters(client, embedding):  # type: ignore[no-untyped-def]
    text = _page(client, _open(client, embedding), q="zzqxjv", type="audio")
    assert "Nothing matches “zzqxjv”" in text and "data-clear-filters" in text


def test_two_participants_see_different_media_as_the_sandbox_says(app, client, sandbox, embedding):  # type: ignore[no-untyped-def]
    """Pat owns media and is in the members-only Leadership category; Sam has no Kaltura user yet."""
    pat_page = _page(client, _open(client, embedding, "pat@northwind.example"), owner="all")
    sam_page = _page(client, _open(client, embedding, "sam@northwind.example"), owner="all")
    pat_all = _direct(app, sandbox, "pat@northwind.example", MediaQuery(page_size=500))
    sam_all = _direct(app, sandbox, "sam@northwind.example", MediaQuery(page_size=500))

    assert pat_all.total_count > sam_all.total_count > 0
    only_pat = {e.id for e in pat_all.entries} - {e.id for e in sam_all.entries}
    assert only_pat
    assert ps.entry_ids(pat_page) == [e.id for e in pat_all.entries[:24]]
    assert ps.entry_ids(sam_page) == [e.id for e in sam_all.entries[:24]]
    # Sam cannot reach one of Pat's entries by id either: preview and import refuse it.
    secret_entry = sorted(only_pat)[0]
    sam = _open(client, embedding, "sam@northwind.example")
    assert client.get(f"/embed/picker/media/{secret_entry}", headers=sam).status_code == 404
    assert client.post("/embed/picker/import", data={"entry_id": secret_entry}, headers=sam).status_code == 404


def test_preview_of_an_image_and_of_a_video(app, client, sandbox, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    image_id = ps.entry_ids(_page(client, bearer, type="image"))[0]
    video_ids = ps.entry_ids(_page(client, bearer, type="video"))

    image = client.get(f"/embed/picker/media/{image_id}", headers=bearer)
    assert image.status_code == 200 and "<img" in image.text and "<video" not in image.text
    assert "Owner" in image.text and "Created" in image.text and "Dimensions" in image.text

    sandbox.control("calls/reset")
    video = client.get(f"/embed/picker/media/{video_ids[0]}", headers=bearer)
    assert video.status_code == 200
    played = re.search(r'<source src="([^"]+)" type="video/mp4">', video.text)
    assert played, video.text[:800]
    url = html.unescape(played.group(1))
    assert f"/playManifest/entryId/{video_ids[0]}/flavorIds/" in url and url.endswith("/a.mp4")
    # Built with a session minted for it: two session calls besides media.get and flavorAsset.list,
    # and never the cached listing session.
    calls = sandbox.calls()
    assert calls.get("session.startwidgetsession") == 1 and calls.get("apptoken.startsession") == 1
    playback_ks = re.search(r"/ks/([^/]+)/a\.mp4$", url).group(1)
    token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
    listing_ks = app.extensions["kaltura"].start_session(sandbox.url, token, "pat@northwind.example", session_type=0).ks
    assert playback_ks != listing_ks
    # Kaltura accepts the URL (the manifest answers with the file's location).
    import requests

    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "serveFlavor" in answer.headers["Location"]


def test_import_adds_each_entry_once_and_builds_the_exact_message(client, db, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    ids = ps.entry_ids(_page(client, bearer, q="harbour"))[:3]

    first = client.post("/embed/picker/import", data={"entry_id": ids}, headers=bearer)
    again = client.post("/embed/picker/import", data={"entry_id": [ids[0], ids[0]]}, headers=bearer)

    assert first.status_code == 200 and again.status_code == 200
    message = json.loads(html.unescape(re.search(r'data-picked="([^"]+)"', first.text).group(1)))
    assert set(message) == {"type", "version", "hub", "items"}
    assert (message["type"], message["version"], message["hub"]) == ("kaltura-hub-portal:picked", 1, "northwind")
    assert [i["entryId"] for i in message["items"]] == ids
    for item in message["items"]:
        assert set(item) == {"entryId", "name", "mediaType", "is360", "libraryItemId"}
        assert item["mediaType"] in ("video", "image", "audio") and isinstance(item["is360"], bool)
    items = db.scalars(sa.select(LibraryItem).order_by(LibraryItem.id)).all()
    assert [i.entry_id for i in items] == ids  # the second import added nothing
    assert [i["libraryItemId"] for i in message["items"]] == [i.id for i in items]
    second = json.loads(html.unescape(re.search(r'data-picked="([^"]+)"', again.text).group(1)))
    assert [i["libraryItemId"] for i in second["items"]] == [items[0].id]
    assert all(i.imported_by.email == "pat@northwind.example" for i in items)


def test_kaltura_unreachable_keeps_the_controls_and_says_what_to_do(client, sandbox, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    sandbox.control("fault", action="media.list", count=5, kind="http_503")
    response = client.get("/embed/picker/media", query_string={"q": "drone", "type": "video"}, headers=bearer)
    assert response.status_code == 503
    text = html.unescape(response.text)
    assert "Kaltura can't be reached right now" in text and "Try again" in text
    assert "<form" not in text and 'id="picker-results"' in text  # only the results are replaced; the controls stay
    assert "q=drone" in text and "type=video" in text  # "Try again" repeats the same search


def test_a_token_kaltura_no_longer_accepts_is_explained(client, sandbox, embedding):  # type: ignore[no-untyped-def]
    bearer = _open(client, embedding)
    sandbox.control("fault", action="media.list", count=2, kind="api_error", code="INVALID_KS")
    response = client.get("/embed/picker/media", headers=bearer)
    assert response.status_code == 502
    text = html.unescape(response.text)
    assert "The hub's Kaltura token is no longer valid" in text and "INVALID_KS" in text


def test_no_app_token_or_listing_session_ever_reaches_a_picker_page(app, client, sandbox, embedding):  # type: ignore[no-untyped-def]
    """Secrets canary: what the picker renders never contains the App Tokens or the cached session."""
    bearer = _open(client, embedding)
    ids = ps.entry_ids(_page(client, bearer, type="video"))
    pages = [
        ps.launch(client, ps.token(embedding)).text,
        _page(client, bearer, q="drone"),
        client.get(f"/embed/picker/media/{ids[0]}", headers=bearer).text,
        client.post("/embed/picker/import", data={"entry_id": ids[:2]}, headers=bearer).text,
    ]
    token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
    listing_ks = app.extensions["kaltura"].start_session(sandbox.url, token, "pat@northwind.example", session_type=0).ks
    canaries = [
        sandbox.credentials["clientAppToken"]["token"],
        sandbox.credentials["serverAppToken"]["token"],
        sandbox.credentials["adminSecret"],
        listing_ks,
        embedding.secret,
    ]
    for text in pages:
        for canary in canaries:
            assert canary not in text
