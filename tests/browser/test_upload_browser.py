"""Uploading from the picker in Chromium, in the real cross-site iframe (host on 127.0.0.1, portal on
localhost, Kaltura the sandbox process): a file of tens of MB goes in parallel chunks straight to
the sandbox, survives a reload mid-upload by resuming from Kaltura's ``uploadedFileSize``, is
tagged 360 and becomes an item of the hub's library, and the host receives the pick message."""

from __future__ import annotations

import json
import re
import time

import pytest
import sqlalchemy as sa

from portal.models import LibraryItem, LibrarySource, Upload, UploadState
from tests import upload_support as us
from tests.browser.test_picker_browser import _open, portal, setup, slow  # noqa: F401

pytestmark = pytest.mark.browser

MB = 1024 * 1024
SIZE = 24 * MB + 4321
UPLOAD = re.compile(r"^Upload")  # the start button: "Upload", "Upload 3 files"


@pytest.fixture
def sandbox(kaltura_sandbox):  # type: ignore[no-untyped-def]
    kaltura_sandbox.reset()
    # Slow enough to watch (and interrupt) a 24 MB upload on loopback, fast enough for a test.
    kaltura_sandbox.control("latency", seconds=0.35, action="uploadToken.upload")
    kaltura_sandbox.control("conversion_delay", seconds=1)
    yield kaltura_sandbox
    kaltura_sandbox.control("conversion_delay", seconds=0)
    kaltura_sandbox.control("latency", seconds=0, action="uploadToken.upload")


@pytest.fixture
def app_settings(sandbox):  # type: ignore[no-untyped-def]
    return {
        "KALTURA_SANDBOX_URL": sandbox.url,
        "KALTURA_TIMEOUT": 5.0,
        "UPLOAD_CHUNK_BYTES": 1 * MB,
        "UPLOAD_MIN_CHUNK_BYTES": 256 * 1024,
        "UPLOAD_MAX_CHUNK_BYTES": 1 * MB,
        "UPLOAD_PARALLELISM": 3,
    }


def _progress(frame, name: str) -> float:  # type: ignore[no-untyped-def]
    return float(frame.get_by_role("progressbar", name=name, exact=True).evaluate("el => el.value"))


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_large_360_video_uploads_resumes_after_a_reload_and_reaches_the_library(  # type: ignore[no-untyped-def]
    page,
    db,
    sandbox,
    setup,  # noqa: F811
    portal,  # noqa: F811
    tmp_path,
):
    path = tmp_path / "rooftop-360.mp4"
    path.write_bytes(us.mp4_360(SIZE))
    host = setup()
    frame = _open(page, host)
    frame.locator("#picker-upload[data-ready]").wait_for(timeout=10000)

    frame.get_by_label("Choose files").set_input_files(str(path))
    frame.get_by_text("with 360° metadata: it will be tagged 360").wait_for(timeout=15000)
    assert frame.get_by_role("checkbox", name="360° media").is_checked()  # pre-ticked from the sv3d box
    assert frame.get_by_label("Name").input_value() == "rooftop-360.mp4"
    frame.get_by_label("Name").fill("Rooftop at dawn")
    frame.get_by_label("Tags (comma-separated)").fill("rooftop, dawn")
    frame.get_by_role("button", name=UPLOAD).click()

    seen = []
    _wait(lambda: seen.append(_progress(frame, path.name)) or seen[-1] >= 8, 60, "the progress bar to pass 8 %")
    frame.get_by_role("button", name=f"Pause the upload of {path.name}").click()
    frame.get_by_text("Paused at").wait_for(timeout=5000)
    held = _progress(frame, path.name)
    time.sleep(1.0)
    assert _progress(frame, path.name) == held  # nothing moves while paused
    frame.get_by_role("button", name=f"Resume the upload of {path.name}").click()
    _wait(lambda: seen.append(_progress(frame, path.name)) or seen[-1] >= 25, 60, "the progress bar to pass 25 %")
    assert len({v for v in seen if 0 < v < 100}) >= 2, seen  # it advanced in steps, not 0 → done
    db.expire_all()
    upload = db.scalar(sa.select(Upload))
    assert upload.state is UploadState.UPLOADING and upload.is_360

    # A reload mid-upload: the host page opens a new picker, the tab's upload is gone.
    page.reload()
    frame = _open(page, host)
    frame.locator("#picker-upload[data-ready]").wait_for(timeout=10000)
    frame.locator("#picker-uploads [data-upload-id]").first.wait_for(timeout=10000)
    assert "Rooftop at dawn" in frame.locator("#picker-uploads").inner_text()  # the list survived the reload

    frame.get_by_label("Choose files").set_input_files(str(path))
    frame.get_by_text("was uploaded earlier: it goes on from there").wait_for(timeout=15000)
    with page.expect_response(
        lambda r: r.url.endswith("/embed/picker/uploads") and r.request.method == "POST"
    ) as prepared:
        frame.get_by_role("button", name=UPLOAD).click()
    plan = json.loads(prepared.value.text())["plan"]
    assert plan["resumeAt"] >= SIZE // 5, plan["resumeAt"]  # from Kaltura's uploadedFileSize, not from zero
    assert plan["uploadTokenId"] == upload.upload_token_id

    frame.locator('#picker-uploads [data-state="ready"]').wait_for(timeout=60000)
    assert "Rooftop at dawn is ready and in the hub" in frame.locator("#picker-uploads").inner_text()
    page.locator("#received li").first.wait_for(timeout=10000)
    received = page.locator("#received li").first
    db.expire_all()
    upload = db.scalar(sa.select(Upload))
    item = db.scalar(sa.select(LibraryItem))
    assert received.get_attribute("data-entry-id") == upload.entry_id == item.entry_id
    assert item.source is LibrarySource.UPLOAD and item.is_360 and item.name == "Rooftop at dawn"

    # Kaltura holds one entry of exactly the file's size, tagged 360, owned by the member.
    entry = _sandbox_entry(sandbox, upload.entry_id)
    assert "360" in [t.strip() for t in entry["tags"].split(",")] and entry["userId"] == "pat@northwind.example"
    assert entry["status"] == 2
    assert _original_size(sandbox, upload.entry_id) == path.stat().st_size == SIZE
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []


def _admin(sandbox, service: str, action: str, params: dict) -> dict:  # type: ignore[no-untyped-def,type-arg]
    import requests

    creds = sandbox.credentials
    api = f"{sandbox.url}/api_v3/service"
    ks = requests.post(
        f"{api}/session/action/start",
        data={"format": 1, "secret": creds["adminSecret"], "partnerId": creds["partnerId"], "type": 2},
        timeout=10,
    ).json()
    return requests.post(f"{api}/{service}/action/{action}", json={"format": 1, "ks": ks, **params}, timeout=10).json()


def _sandbox_entry(sandbox, entry_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return _admin(sandbox, "media", "get", {"entryId": entry_id})


def _original_size(sandbox, entry_id: str) -> int:  # type: ignore[no-untyped-def]
    flt = {"objectType": "KalturaFlavorAssetFilter", "entryIdEqual": entry_id}
    flavors = _admin(sandbox, "flavorAsset", "list", {"filter": flt}).get("objects") or []
    return next(int(float(f["sizeInBytes"])) for f in flavors if f.get("isOriginal"))


def test_a_refused_file_gets_its_message_while_the_others_upload(page, db, sandbox, setup, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    from tests.unit.uploads import media_files as m

    pdf = tmp_path / "minutes.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(4000))
    photo = tmp_path / "team.jpg"
    photo.write_bytes(m.jpeg(64, 48))
    frame = _open(page, setup())
    frame.locator("#picker-upload[data-ready]").wait_for(timeout=10000)

    frame.get_by_label("Choose files").set_input_files([str(pdf), str(photo)])

    refused = frame.locator(".upload-item", has_text="minutes.pdf")
    refused.locator('[data-state="refused"], .upload-status', has_text="minutes.pdf is a PDF document").first.wait_for(
        timeout=15000
    )
    assert refused.get_attribute("data-state") == "refused"
    item = frame.locator(".upload-item", has_text="team.jpg")
    item.locator(".upload-status", has_text="ready to upload").wait_for(timeout=15000)
    box = item.get_by_role("checkbox", name="360° media")
    assert not box.is_checked()
    box.check()  # the member insists: the portal warns, it does not forbid
    assert "does not look like 360° media" in item.locator(".upload-warning").inner_text()
    box.uncheck()
    assert item.locator(".upload-warning").is_hidden()

    frame.get_by_role("button", name=UPLOAD).click()

    frame.locator('#picker-uploads [data-state="ready"]').wait_for(timeout=30000)
    page.locator("#received li").first.wait_for(timeout=10000)
    db.expire_all()
    uploads = db.scalars(sa.select(Upload)).all()
    assert [u.file_name for u in uploads] == ["team.jpg"] and not uploads[0].is_360
    assert db.scalar(sa.select(LibraryItem)).entry_id == uploads[0].entry_id
    assert refused.get_attribute("data-state") == "refused"  # still there, with its message
    assert "minutes.pdf is a PDF document" in refused.inner_text()


def test_kaltura_refusing_the_file_type_mid_upload_leaves_nothing_behind(page, db, sandbox, setup, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    from tests.unit.uploads import media_files as m

    photo = tmp_path / "scan.jpg"
    photo.write_bytes(m.jpeg(64, 48))
    frame = _open(page, setup())
    frame.locator("#picker-upload[data-ready]").wait_for(timeout=10000)
    frame.get_by_label("Choose files").set_input_files(str(photo))
    frame.locator(".upload-item .upload-status", has_text="ready to upload").wait_for(timeout=15000)
    sandbox.control(
        "fault",
        action="uploadToken.upload",
        count=1,
        kind="api_error",
        code="UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD",
    )

    frame.get_by_role("button", name=UPLOAD).click()

    message = "Kaltura refused scan.jpg: this Kaltura account does not accept files of this type."
    frame.locator(".upload-item .upload-status", has_text=message).wait_for(timeout=15000)
    frame.locator('#picker-uploads [data-state="cancelled"]').wait_for(timeout=10000)
    db.expire_all()
    upload = db.scalar(sa.select(Upload))
    assert upload.state is UploadState.CANCELLED
    assert _admin(sandbox, "media", "get", {"entryId": upload.entry_id}).get("code") == "ENTRY_ID_NOT_FOUND"
    tokens = _admin(
        sandbox,
        "uploadToken",
        "list",
        {"filter": {"objectType": "KalturaUploadTokenFilter", "idEqual": upload.upload_token_id}},
    )
    assert tokens.get("objects") == []
