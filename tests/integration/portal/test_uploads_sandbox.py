"""Uploads from the picker against the real sandbox over HTTP: prepare, the upload plan driven with
``requests`` (as the chunk pump drives it), finish into the library, resume, cancel, bad input,
Kaltura's refusals and failed conversions. Every test ends by checking what Kaltura holds."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from portal.models import IdentityState, KalturaIdentity, LibraryItem, LibrarySource, Upload, UploadState
from tests import picker_support as ps
from tests import upload_support as us

USER = "pat@northwind.example"
MB = 1024 * 1024


@pytest.fixture
def app_settings(sandbox):  # type: ignore[no-untyped-def]
    return {
        "KALTURA_SANDBOX_URL": sandbox.url,
        "KALTURA_TIMEOUT": 3.0,
        "UPLOAD_CHUNK_BYTES": 256 * 1024,
        "UPLOAD_MIN_CHUNK_BYTES": 64 * 1024,
        "UPLOAD_STALL_SECONDS": 1,
    }


@pytest.fixture
def embedding(app, db, demo, sandbox):  # type: ignore[no-untyped-def]
    ps.connect(app, db, sandbox)
    return ps.embed(app, db)


@pytest.fixture
def bearer(client, embedding):  # type: ignore[no-untyped-def]
    response = ps.launch(client, ps.token(embedding, email=USER))
    assert response.status_code == 200, response.text[:500]
    return ps.bearer(ps.session_token(response))


@pytest.fixture
def kaltura(app, sandbox):  # type: ignore[no-untyped-def]
    """What the sandbox itself holds, asked directly with an ADMIN session (the reference)."""
    import requests

    creds = sandbox.credentials
    api = f"{sandbox.url}/api_v3/service"

    def call(service: str, action: str, params: dict) -> dict:  # type: ignore[type-arg]
        # A new session each time: a test may have expired every session seen so far.
        ks = requests.post(
            f"{api}/session/action/start",
            data={"format": 1, "secret": creds["adminSecret"], "partnerId": creds["partnerId"], "type": 2},
            timeout=10,
        ).json()
        return requests.post(
            f"{api}/{service}/action/{action}", json={"format": 1, "ks": ks, **params}, timeout=10
        ).json()

    class Kaltura:
        def entries(self, **flt):  # type: ignore[no-untyped-def]
            flt = {"objectType": "KalturaMediaEntryFilter", "statusIn": "-2,-1,0,1,2,4,7", **flt}
            answer = call("media", "list", {"filter": flt, "pager": {"pageSize": 500}})
            return answer.get("objects") or []

        def uploads_of(self, user: str = USER):  # type: ignore[no-untyped-def]
            return self.entries(userIdEqual=user, referenceIdIn=",".join(_refs(app)) or "none")

        def flavor_sizes(self, entry_id: str) -> list[int]:
            flt = {"objectType": "KalturaFlavorAssetFilter", "entryIdEqual": entry_id}
            answer = call("flavorAsset", "list", {"filter": flt})
            return [int(float(f.get("sizeInBytes") or 0)) for f in answer.get("objects") or [] if f.get("isOriginal")]

        def token(self, token_id: str):  # type: ignore[no-untyped-def]
            answer = call(
                "uploadToken", "list", {"filter": {"objectType": "KalturaUploadTokenFilter", "idEqual": token_id}}
            )
            return (answer.get("objects") or [None])[0]

    return Kaltura()


def _refs(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.extensions["db"]() as session:
        return [u.reference_id for u in session.scalars(sa.select(Upload))]


def _check(client, bearer, file_name: str, data: bytes):  # type: ignore[no-untyped-def]
    return us.post_sample(client, "/embed/picker/uploads/check", bearer, file_name, data)


def _prepare(client, bearer, file_name: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return us.post_sample(client, "/embed/picker/uploads", bearer, file_name, data, **fields)


def _plan(client, bearer, file_name: str, data: bytes, **fields: str) -> dict:  # type: ignore[no-untyped-def]
    response = _prepare(client, bearer, file_name, data, **fields)
    assert response.status_code == 200, response.text
    return response.get_json()


def _refresher(client, bearer, upload_id: str):  # type: ignore[no-untyped-def]
    def refresh() -> str:
        answer = client.post(f"/embed/picker/uploads/{upload_id}/session", headers=bearer)
        assert answer.status_code == 200, answer.text
        return answer.get_json()["ks"]

    return refresh


def _list(client, bearer) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/embed/picker/uploads", headers=bearer)
    assert response.status_code == 200, response.text[:500]
    return response.text


def _states(html: str) -> list[str]:
    return re.findall(r'data-state="([^"]+)"', html)


# -- the happy path ----------------------------------------------------------------------------------


def test_a_360_video_is_prepared_uploaded_and_becomes_a_library_item(client, bearer, db, sandbox, kaltura):  # type: ignore[no-untyped-def]
    data = us.mp4_360(3 * MB + 12345)
    checked = _check(client, bearer, "dome.mp4", data)
    assert checked.status_code == 200
    assert checked.get_json()["is360"] is True and checked.get_json()["mediaType"] == "video"

    sandbox.control("calls/reset")
    answer = _plan(
        client, bearer, "dome.mp4", data, name="The dome", description="From the roof", tags="roof, 360", is_360="1"
    )
    plan = answer["plan"]
    assert plan["resumeAt"] == 0 and plan["uploadTokenId"] and plan["ks"] and plan["fileSize"] == len(data)
    calls = sandbox.calls()
    assert calls.get("media.add") == 1 and calls.get("uploadtoken.add") == 1 and calls.get("media.addcontent") == 1
    [entry] = kaltura.uploads_of()
    assert entry["name"] == "The dome" and entry["userId"] == USER and entry["status"] == 0  # IMPORT: waiting
    assert entry["tags"].split(",") == ["roof", "360"] or sorted(t.strip() for t in entry["tags"].split(",")) == [
        "360",
        "roof",
    ]
    assert "ks" not in _list(client, bearer).lower() or plan["ks"] not in _list(client, bearer)

    token = us.Driver(plan, data).run()
    assert token["status"] in (2, 3) and int(float(token["uploadedFileSize"])) == len(data)  # 3: consumed by the entry

    finished = client.post(f"/embed/picker/uploads/{answer['uploadId']}/finish", headers=bearer)
    assert finished.status_code == 200
    html = finished.text if "Ready" in finished.text else _list(client, bearer)
    assert (
        "The dome is ready and in the hub&#39;s media library." in html
        or "The dome is ready and in the hub's media library." in html
    )
    picked = re.search(r'data-picked="([^"]+)"', html)
    assert picked is not None
    db.expire_all()
    item = db.scalar(sa.select(LibraryItem))
    assert item.entry_id == entry["id"] and item.source is LibrarySource.UPLOAD and item.is_360
    upload = db.scalar(sa.select(Upload))
    assert upload.state is UploadState.READY and upload.library_item_id == item.id
    assert kaltura.flavor_sizes(entry["id"]) == [len(data)]
    # Polling stops once nothing is active: the list no longer asks to be fetched every 2 s.
    assert "every 2s" not in _list(client, bearer)


def test_progress_is_kaltura_s_uploaded_file_size_and_one_request_per_kind(client, bearer, sandbox):  # type: ignore[no-untyped-def]
    data = us.plain_mp4(2 * MB)
    other = us.plain_mp4(2 * MB, seed=9)
    plans = [_plan(client, bearer, "a.mp4", data)["plan"], _plan(client, bearer, "b.mp4", other)["plan"]]
    assert plans[0]["uploadTokenId"] != plans[1]["uploadTokenId"]
    driver = us.Driver(plans[0], data, parallelism=1, kill_after_chunks=3)
    with pytest.raises(us.Killed):
        driver.run()
    sandbox.control("calls/reset")

    html = _list(client, bearer)

    assert sandbox.calls() == {"uploadtoken.list": 1}  # both uploads' bytes, one call
    assert "Uploading 37 %" in html or "Interrupted at 37 %" in html  # 3 × 256 KiB of 2 MiB
    assert "every 2s" in html


# -- resume -------------------------------------------------------------------------------------------


def test_the_same_file_chosen_again_resumes_from_uploaded_file_size(client, bearer, kaltura):  # type: ignore[no-untyped-def]
    data = us.mp4_360(2 * MB + 999)
    first = _plan(client, bearer, "walk.mp4", data)
    with pytest.raises(us.Killed):
        us.Driver(first["plan"], data, parallelism=1, kill_after_chunks=4).run()

    checked = _check(client, bearer, "walk.mp4", data).get_json()
    assert checked["resume"]["id"] == first["uploadId"] and checked["resume"]["uploadedBytes"] == 4 * 256 * 1024
    again = _plan(client, bearer, "walk.mp4", data)

    assert again["uploadId"] == first["uploadId"]
    assert again["plan"]["uploadTokenId"] == first["plan"]["uploadTokenId"]
    assert again["plan"]["resumeAt"] == 4 * 256 * 1024
    driver = us.Driver(again["plan"], data)
    driver.run()
    assert min(offset for offset, _, _ in driver.sent if offset) >= 4 * 256 * 1024  # nothing before was sent again
    [entry] = kaltura.uploads_of()
    assert kaltura.flavor_sizes(entry["id"]) == [len(data)]


# -- cancel ------------------------------------------------------------------------------------------


def test_cancel_deletes_the_upload_token_and_the_empty_entry(client, bearer, db, kaltura):  # type: ignore[no-untyped-def]
    data = us.plain_mp4(1 * MB)
    answer = _plan(client, bearer, "gone.mp4", data)
    with pytest.raises(us.Killed):
        us.Driver(answer["plan"], data, parallelism=1, kill_after_chunks=1).run()
    assert len(kaltura.uploads_of()) == 1

    response = client.post(f"/embed/picker/uploads/{answer['uploadId']}/cancel", headers=bearer)

    assert response.status_code == 200
    assert "Cancelled gone.mp4: nothing of it is left in Kaltura." in response.text
    assert kaltura.uploads_of() == []
    assert kaltura.token(answer["plan"]["uploadTokenId"]) is None
    db.expire_all()
    assert db.scalar(sa.select(Upload)).state is UploadState.CANCELLED
    again = client.post(f"/embed/picker/uploads/{answer['uploadId']}/cancel", headers=bearer)
    assert again.status_code == 409 and "there is no upload to cancel" in again.text


# -- bad input ---------------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n" + bytes(2000)


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("report.pdf", PDF, 422, "report.pdf is a PDF document"),
        ("holiday.mp4", PDF, 422, "holiday.mp4 is"),
        ("photo.jpg", us.plain_mp4(4096), 422, "photo.jpg is named like a JPEG image but is really an MP4 video"),
        ("empty.mp4", b"", 422, "empty.mp4 is empty (0 bytes)"),
        ("x" * 300 + ".mp4", us.plain_mp4(4096), 422, "The file name is 304 characters long"),
        ("big.mp4", us.plain_mp4(3 * MB), 413, "big.mp4 is 3.0 MB; this hub takes files up to 2 MB"),
    ],
    ids=["not-allowed", "bytes-not-media", "lying-extension", "empty", "name-too-long", "over-the-limit"],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_made(  # type: ignore[no-untyped-def]
    client, bearer, db, sandbox, kaltura, embedding, name, data, status, message
):
    from portal.uploads.services import set_limit

    set_limit(db, hub=embedding.hub, value=2, actor=None)
    sandbox.control("calls/reset")

    checked = _check(client, bearer, name, data)
    prepared = _prepare(client, bearer, name, data)

    for response in (checked, prepared):
        assert response.status_code == status, response.text
        assert message in response.get_json()["message"], response.get_json()["message"]
    assert not any(k.startswith(("media.", "uploadtoken.")) for k in sandbox.calls())
    assert db.scalar(sa.select(sa.func.count()).select_from(Upload)) == 0


def test_a_360_tick_on_media_that_is_clearly_not_360_gets_a_warning(client, bearer):  # type: ignore[no-untyped-def]
    answer = _check(client, bearer, "talk.mp4", us.plain_mp4(8192)).get_json()
    assert answer["is360"] is False
    assert "does not look like 360° media" in answer["not360Warning"]


def test_an_entry_name_too_long_is_refused_on_the_name_field(client, bearer, db):  # type: ignore[no-untyped-def]
    response = _prepare(client, bearer, "ok.mp4", us.plain_mp4(8192), name="n" * 300)
    assert response.status_code == 422
    assert response.get_json()["field"] == "name" and "use at most 255" in response.get_json()["message"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Upload)) == 0


def test_kaltura_refusing_the_file_type_leaves_nothing_behind(client, bearer, db, sandbox, kaltura):  # type: ignore[no-untyped-def]
    sandbox.control(
        "fault",
        action="media.addContent",
        count=1,
        kind="api_error",
        code="UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD",
    )

    response = _prepare(client, bearer, "odd.mp4", us.plain_mp4(8192))

    assert response.status_code == 422
    assert "Kaltura refused odd.mp4: this account does not accept files of this type" in response.get_json()["message"]
    assert kaltura.uploads_of() == [] and kaltura.entries(userIdEqual=USER, statusEqual=7) == []
    assert db.scalar(sa.select(sa.func.count()).select_from(Upload)) == 0
    # The other files go on: the next prepare works.
    assert _prepare(client, bearer, "fine.mp4", us.plain_mp4(8192)).status_code == 200


def test_a_failed_conversion_is_shown_with_its_reason_and_the_entry_removed(client, bearer, db, sandbox, kaltura):  # type: ignore[no-untyped-def]
    data = us.plain_mp4(1 * MB)
    answer = _plan(client, bearer, "broken.mp4", data)
    sandbox.control("fail_conversion", entry_id=answer["plan"]["entryId"])
    us.Driver(answer["plan"], data).run()

    html = client.post(f"/embed/picker/uploads/{answer['uploadId']}/finish", headers=bearer).text

    assert "Failed: Kaltura could not convert this file (ERROR_CONVERTING)" in html
    assert kaltura.uploads_of() == []
    db.expire_all()
    assert db.scalar(sa.select(LibraryItem)) is None


def test_an_identity_failure_is_a_clear_message(client, bearer, db, sandbox):  # type: ignore[no-untyped-def]
    # The member's link is gone (as for a member whose first use is this upload) and Kaltura fails
    # to look the user up: the upload is refused with the identity message and nothing is made.
    db.execute(sa.delete(KalturaIdentity))
    db.commit()
    sandbox.control("fault", action="user.list", count=5, kind="api_error", code="INTERNAL_SERVERL_ERROR")

    response = _prepare(client, bearer, "a.mp4", us.plain_mp4(8192))

    assert response.status_code == 502
    message = response.get_json()["message"]
    assert "Your Kaltura user could not be set up, so nothing was uploaded" in message
    assert "INTERNAL_SERVERL_ERROR" in message
    assert db.scalar(sa.select(sa.func.count()).select_from(Upload)) == 0
    assert db.scalar(sa.select(KalturaIdentity.state)) == IdentityState.FAILED


# -- the protocol under every fault ----------------------------------------------------------------

FAULTS = {
    "http_500": {"kind": "http_500", "count": 2},
    "http_503": {"kind": "http_503", "count": 2},
    "dropped-connection": {"kind": "drop", "count": 2},
    "stalled-chunk": {"kind": "stall", "count": 1, "seconds": 6},
    "lost-ack": {"kind": "drop_after", "count": 2},
    "transient-api-error": {"kind": "api_error", "count": 2},
}


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_the_plan_survives_transport_faults(client, bearer, sandbox, kaltura, fault):  # type: ignore[no-untyped-def]
    data = us.mp4_360(2 * MB + 777, seed=len(fault))
    answer = _plan(client, bearer, "f.mp4", data)
    sandbox.control("fault", action="uploadToken.upload", **FAULTS[fault])

    token = us.Driver(answer["plan"], data, timeout=3.0).run()

    assert int(float(token["uploadedFileSize"])) == len(data)
    [entry] = kaltura.uploads_of()
    assert kaltura.flavor_sizes(entry["id"]) == [len(data)]


def test_a_duplicate_chunk_changes_nothing(client, bearer, kaltura):  # type: ignore[no-untyped-def]
    data = us.mp4_360(1 * MB + 5)
    answer = _plan(client, bearer, "dup.mp4", data)
    driver = us.Driver(answer["plan"], data, parallelism=1)
    chunk = answer["plan"]["chunkSize"]
    driver._chunk(0, data[:chunk], resume=False)
    driver._chunk(chunk, data[chunk : 2 * chunk], resume=True)
    driver._chunk(chunk, data[chunk : 2 * chunk], resume=True)  # the same chunk again

    driver.run(resume_at=2 * chunk)

    [entry] = kaltura.uploads_of()
    assert kaltura.flavor_sizes(entry["id"]) == [len(data)]


def test_a_final_chunk_before_every_chunk_landed_is_retried_until_sizes_match(client, bearer, sandbox, kaltura):  # type: ignore[no-untyped-def]
    data = us.mp4_360(1 * MB + 3)
    answer = _plan(client, bearer, "late.mp4", data)
    sandbox.control(
        "fault", action="uploadToken.upload", kind="api_error", code="UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE", count=1
    )
    driver = us.Driver(answer["plan"], data, parallelism=1)
    chunk = answer["plan"]["chunkSize"]
    # The mismatch the sandbox really produces: a final chunk sent while the last chunk is missing.
    driver._chunk(0, data[:chunk], resume=False)
    for offset in range(chunk, len(data) - chunk, chunk):
        driver._chunk(offset, data[offset : offset + chunk], resume=True)
    missing = len(data) - (len(data) - chunk) % chunk if (len(data) - chunk) % chunk else len(data) - chunk
    early = driver.http.post(
        driver.url + "upload",
        data={
            "ks": driver.ks,
            "uploadTokenId": driver.plan["uploadTokenId"],
            "format": "1",
            "resume": "1",
            "finalChunk": "1",
            "resumeAt": str(len(data)),
        },
        files={"fileData": ("blob", b"")},
        timeout=10,
    ).json()
    assert early["code"] == "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"

    token = driver.run(resume_at=missing)

    assert int(float(token["uploadedFileSize"])) == len(data)
    [entry] = kaltura.uploads_of()
    assert kaltura.flavor_sizes(entry["id"]) == [len(data)]


def test_an_expired_session_gets_a_fresh_one_from_the_portal(client, bearer, sandbox, kaltura):  # type: ignore[no-untyped-def]
    data = us.mp4_360(1 * MB + 11)
    answer = _plan(client, bearer, "long.mp4", data)
    driver = us.Driver(answer["plan"], data, refresh=_refresher(client, bearer, answer["uploadId"]), parallelism=1)
    chunk = answer["plan"]["chunkSize"]
    driver._chunk(0, data[:chunk], resume=False)
    sandbox.control("expire_sessions")

    token = driver.run(resume_at=chunk)

    assert driver.refreshed == 1 and driver.ks != answer["plan"]["ks"]
    assert int(float(token["uploadedFileSize"])) == len(data)
    [entry] = kaltura.uploads_of()
    assert kaltura.flavor_sizes(entry["id"]) == [len(data)]


def test_a_client_killed_mid_upload_resumes_from_uploaded_file_size(client, bearer, kaltura):  # type: ignore[no-untyped-def]
    data = us.mp4_360(2 * MB + 17)
    answer = _plan(client, bearer, "kill.mp4", data)
    with pytest.raises(us.Killed):
        us.Driver(answer["plan"], data, parallelism=3, kill_after_chunks=5).run()

    plan = _plan(client, bearer, "kill.mp4", data)["plan"]  # the same file chosen again
    assert plan["resumeAt"] > 0 and plan["resumeAt"] % (256 * 1024) == 0
    token = us.Driver(plan, data).run()

    assert int(float(token["uploadedFileSize"])) == len(data)
    [entry] = kaltura.uploads_of()
    assert kaltura.flavor_sizes(entry["id"]) == [len(data)]


# -- the command line --------------------------------------------------------------------------------


def test_portal_uploads_list_prints_every_upload_with_its_true_state(app, client, bearer, embedding):  # type: ignore[no-untyped-def]
    done = us.mp4_360(1 * MB + 1)
    half = us.plain_mp4(2 * MB)
    first = _plan(client, bearer, "done.mp4", done, is_360="1")
    us.Driver(first["plan"], done).run()
    client.post(f"/embed/picker/uploads/{first['uploadId']}/finish", headers=bearer)
    second = _plan(client, bearer, "half.mp4", half)
    with pytest.raises(us.Killed):
        us.Driver(second["plan"], half, parallelism=1, kill_after_chunks=2).run()
    _list(client, bearer)  # the portal reads Kaltura's truth
    runner = app.test_cli_runner()

    as_json = runner.invoke(args=["uploads", "list", "northwind", "--json"])
    text = runner.invoke(args=["uploads", "list", "northwind", "--email", USER])

    assert as_json.exit_code == 0, as_json.output
    rows = {row["file_name"]: row for row in json.loads(as_json.output)}
    assert rows["done.mp4"]["state"] == "ready" and rows["done.mp4"]["bytes_uploaded"] == len(done)
    assert rows["done.mp4"]["flavors_ready"] == rows["done.mp4"]["flavors_total"] >= 1
    assert rows["done.mp4"]["entry_id"] == first["plan"]["entryId"] and rows["done.mp4"]["is_360"] is True
    assert rows["half.mp4"]["state"] == "uploading" and rows["half.mp4"]["bytes_uploaded"] == 2 * 256 * 1024
    assert rows["half.mp4"]["size"] == len(half) and rows["half.mp4"]["member"] == USER
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].split()[:6] == ["file", "size", "entry", "state", "uploaded", "flavors"]
    half_line = next(line for line in lines if line.startswith("half.mp4"))
    assert "2.0 MB" in half_line and "uploading" in half_line and "524,288" in half_line

    other = runner.invoke(args=["uploads", "list", "northwind", "--email", "ada@northwind.example"])
    assert other.exit_code == 0 and other.output.strip() == "No uploads in northwind by ada@northwind.example."
    for args, message in (
        (["uploads", "list", "nowhere"], "No hub has the slug 'nowhere'"),
        (["uploads", "list", "northwind", "--email", "nobody@example.org"], "No user has the email"),
    ):
        refused = runner.invoke(args=args)
        assert refused.exit_code != 0 and message in refused.output


def test_another_member_cannot_touch_an_upload(app, client, bearer, embedding, kaltura):  # type: ignore[no-untyped-def]
    data = us.plain_mp4(1 * MB)
    answer = _plan(client, bearer, "mine.mp4", data)
    other = ps.bearer(ps.session_token(ps.launch(client, ps.token(embedding, email="ada@northwind.example"))))

    for action in ("session", "finish", "cancel"):
        response = client.post(f"/embed/picker/uploads/{answer['uploadId']}/{action}", headers=other)
        assert response.status_code == 404, action
    assert "mine.mp4" not in _list(client, other)
    assert len(kaltura.uploads_of()) == 1


def test_a_lost_media_add_answer_never_makes_a_second_entry(client, bearer, sandbox, kaltura):  # type: ignore[no-untyped-def]
    data = us.plain_mp4(1 * MB)
    sandbox.control("fault", action="media.add", count=1, kind="drop_after")  # the entry is made, the answer lost

    answer = _plan(client, bearer, "lost.mp4", data)
    again = _plan(client, bearer, "lost.mp4", data)  # and the browser asks again, as after a lost answer

    assert again["uploadId"] == answer["uploadId"] and again["plan"]["entryId"] == answer["plan"]["entryId"]
    assert sandbox.calls().get("media.add") == 1
    us.Driver(again["plan"], data).run()
    [entry] = kaltura.uploads_of()
    assert entry["id"] == answer["plan"]["entryId"] and kaltura.flavor_sizes(entry["id"]) == [len(data)]
