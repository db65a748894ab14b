"""The hub's Media Library page: members and support see its items; members open the picker from it."""

from __future__ import annotations

import re
import threading

import sqlalchemy as sa

from portal.kaltura.types import MediaEntry
from portal.library.services import add_entries
from portal.models import LibraryItem, PickerSession
from tests import picker_support as ps
from tests.helpers import CSRF, sign_in


def _entries() -> list[MediaEntry]:
    return [
        MediaEntry.from_kaltura(
            {
                "id": "0_vid00001",
                "name": "Harbour <b>flyover</b>",
                "mediaType": 1,
                "duration": 3725,
                "tags": "360, drone",
                "width": 3840,
                "height": 1920,
                "partnerId": 4815162,
                "thumbnailUrl": "http://127.0.0.1:9/p/4815162/sp/481516200/thumbnail/entry_id/0_vid00001/version/100001",
            }
        ),
        MediaEntry.from_kaltura({"id": "0_aud00001", "name": "Podcast", "mediaType": 5, "duration": 95}),
        MediaEntry.from_kaltura({"id": "0_live0001", "name": "A live stream", "mediaType": 201}),
    ]


def test_the_library_lists_items_with_thumbnails_for_members_and_support(app, db, demo):  # type: ignore[no-untyped-def]
    items = add_entries(db, hub=ps.hub(db), entries=_entries(), actor=None)
    assert [i.entry_id for i in items] == ["0_vid00001", "0_aud00001"]  # live streams are not library media

    for email in ("pat@northwind.example", "sue@support.example"):
        client = app.test_client()
        sign_in(client, email)
        page = client.get("/hubs/northwind/library")
        assert page.status_code == 200
        assert "Harbour &lt;b&gt;flyover&lt;/b&gt;" in page.text  # Kaltura names are escaped
        assert "/thumbnail/entry_id/0_vid00001/version/100001/width/360/height/203/type/3" in page.text
        assert 'class="badge badge-360">360°' in page.text and "1:02:05" in page.text
        csp = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
    assert "data-open-picker" not in page.text and "kaltura-picker" not in page.text  # support reads only


def test_an_item_page_shows_the_details_and_only_for_its_hub(signed_in, db):  # type: ignore[no-untyped-def]
    video = add_entries(db, hub=ps.hub(db), entries=_entries()[:1], actor=None)[0]
    client = signed_in("sue@support.example")
    page = client.get(f"/hubs/northwind/library/{video.id}")
    assert page.status_code == 200 and "3840 × 1920" in page.text and "0_vid00001" in page.text
    assert client.get(f"/hubs/riverside/library/{video.id}").status_code == 404  # another hub's id


def test_the_same_entry_twice_gives_one_item_even_when_imports_race(app, db, demo):  # type: ignore[no-untyped-def]
    hub_id = ps.hub(db).id
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def importer() -> None:
        session = app.extensions["db"]()
        try:
            hub = session.get(type(ps.hub(db)), hub_id)
            barrier.wait()
            add_entries(session, hub=hub, entries=_entries()[:1], actor=None)
        except BaseException as error:
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=importer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(LibraryItem)) == 1


def test_one_launch_token_used_twice_at_once_opens_one_picker(app, db, demo):  # type: ignore[no-untyped-def]
    """The jti check is the database's unique constraint: shared by every worker, atomic."""
    embedding = ps.embed(app, db)
    token = ps.token(embedding)
    barrier = threading.Barrier(3)
    statuses: list[int] = []

    def launcher() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(ps.launch(client, token).status_code)

    threads = [threading.Thread(target=launcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200, 401, 401]
    assert db.scalar(sa.select(sa.func.count()).select_from(PickerSession)) == 1


def test_tokens_never_reach_the_logs(app, client, db, demo, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level("DEBUG")
    embedding = ps.embed(app, db)
    launch_token = ps.token(embedding)
    launched = ps.launch(client, launch_token)
    picker_token = ps.session_token(launched)
    client.get("/embed/picker/media?q=x", headers=ps.bearer(picker_token))
    ps.launch(client, launch_token)  # refused: already used
    for secret in (launch_token, picker_token, embedding.secret):
        assert secret not in caplog.text
    assert not re.search(r"eyJ[A-Za-z0-9_-]{20,}", caplog.text)


def test_members_get_a_launch_page_for_the_picker_frame(signed_in, db, app):  # type: ignore[no-untyped-def]
    client = signed_in("pat@northwind.example")
    token = CSRF.search(client.get("/account").text).group(1)
    page = client.post("/hubs/northwind/library/launch", data={"csrf_token": token})
    launch_token = re.search(r'name="launch_token" value="([^"]+)"', page.text).group(1)
    launched = client.post("/embed/picker", data={"launch_token": launch_token}, headers={"Origin": "http://localhost"})
    assert launched.status_code == 200
    assert "frame-ancestors 'self'" in launched.headers["Content-Security-Policy"]
    assert 'data-host-origin="http://localhost"' in launched.text
