"""``uploadToken.*`` over real HTTP: the status machine, chunked, positioned and parallel
uploads, resuming, the final-chunk rules and per-user visibility (reference/kaltura-api.md §6).

Uploaded bytes are checked end to end: after ``media.addContent`` the entry's ``downloadUrl``
must give back exactly the bytes that were sent.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from kaltura_sandbox.testing import SandboxProcess
from tests.sandbox.conftest import JsonApi, is_error
from tests.sandbox.media_support import (
    PARTICIPANT,
    add_content,
    add_entry,
    get,
    mp4_bytes,
    new_token,
    upload,
    upload_ok,
    user_ks,
)


@pytest.fixture
def ks(api: JsonApi, creds: dict) -> str:
    return user_ks(api, creds, PARTICIPANT)


def payload(size: int) -> bytes:
    return os.urandom(size)


def downloaded(api: JsonApi, ks: str, token_id: str) -> bytes:
    """Attach the token to a new entry and fetch the entry's source file back."""
    entry = add_entry(api, ks, name="Upload check", mediaType=1)
    result = add_content(api, ks, entry["id"], token_id)
    assert not is_error(result), result
    response = get(result["downloadUrl"] + f"/ks/{ks}")
    assert response.status_code == 200, response.headers
    return response.content


def test_token_status_machine(api, ks):
    token = new_token(api, ks, fileName="talk.mp4", fileSize=300)
    assert token["status"] == 0 and token["userId"] == PARTICIPANT
    assert token["id"].startswith("0_") and len(token["id"]) == 34
    data = mp4_bytes(1280, 720, 3, payload=300)
    first = upload_ok(api.url, ks, token["id"], data[:100], resume=False, finalChunk=False)
    assert (first["status"], first["uploadedFileSize"]) == (1, 100)
    last = upload_ok(api.url, ks, token["id"], data[100:], resume=True, finalChunk=True, resumeAt=100)
    assert (last["status"], last["uploadedFileSize"]) == (2, len(data))
    again = upload(api.url, ks, token["id"], b"more", resume=True, resumeAt=len(data))
    assert again["code"] == "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"
    entry = add_entry(api, ks, name="Talk", mediaType=1)
    assert add_content(api, ks, entry["id"], token["id"])["status"] == 2
    closed = api.ok("uploadToken", "get", ks=ks, uploadTokenId=token["id"])
    assert closed["status"] == 3
    assert (closed["attachedObjectType"], closed["attachedObjectId"]) == ("entry", entry["id"])
    # Sizes read back from storage are strings, as on the real server.
    assert closed["uploadedFileSize"] == str(len(data))


def test_single_shot_upload_round_trips_the_bytes(api, ks):
    data = payload(50_000)
    token = new_token(api, ks, fileName="song.mp3")
    done = upload_ok(api.url, ks, token["id"], data, name="song.mp3")
    assert (done["status"], done["uploadedFileSize"]) == (2, len(data))
    assert downloaded(api, ks, token["id"]) == data


def test_three_chunks_one_out_of_order(api, ks):
    data = payload(3000)
    token = new_token(api, ks, fileName="clip.mp4", fileSize=len(data))
    first = upload_ok(api.url, ks, token["id"], data[:1000], resume=False, finalChunk=False)
    assert first["uploadedFileSize"] == 1000
    # The third chunk arrives before the second: it waits, the contiguous size stays 1000.
    third = upload_ok(api.url, ks, token["id"], data[2000:], resume=True, finalChunk=False, resumeAt=2000)
    assert (third["status"], third["uploadedFileSize"]) == (1, 1000)
    assert api.ok("uploadToken", "get", ks=ks, uploadTokenId=token["id"])["uploadedFileSize"] == "1000"
    second = upload_ok(api.url, ks, token["id"], data[1000:2000], resume=True, finalChunk=False, resumeAt=1000)
    assert second["uploadedFileSize"] == 3000
    final = upload_ok(api.url, ks, token["id"], b"", resume=True, finalChunk=True, resumeAt=3000)
    assert (final["status"], final["uploadedFileSize"]) == (2, 3000)
    assert downloaded(api, ks, token["id"]) == data


def test_parallel_chunks_with_the_final_chunk_first(api, ks):
    """A final chunk that arrives before a middle chunk waits for it (parallel uploaders)."""
    data = payload(30_000)
    token = new_token(api, ks, fileName="clip.mp4")
    upload_ok(api.url, ks, token["id"], data[:10_000], resume=False, finalChunk=False)
    results: dict[str, dict] = {}

    def send_final() -> None:
        results["final"] = upload(
            api.url, ks, token["id"], data[20_000:], resume=True, finalChunk=True, resumeAt=20_000
        )

    worker = threading.Thread(target=send_final)
    worker.start()
    middle = upload_ok(api.url, ks, token["id"], data[10_000:20_000], resume=True, finalChunk=False, resumeAt=10_000)
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert middle["status"] in (1, 2)
    assert not is_error(results["final"]), results["final"]
    assert (results["final"]["status"], results["final"]["uploadedFileSize"]) == (2, 30_000)
    assert downloaded(api, ks, token["id"]) == data


def test_resume_after_a_failure_from_uploaded_file_size(api, ks, sandbox):
    data = payload(4000)
    token = new_token(api, ks, fileName="long.mp4")
    upload_ok(api.url, ks, token["id"], data[:1500], resume=False, finalChunk=False)
    # The next chunk is lost: the connection drops before the server handles it.
    sandbox.control("fault", action="uploadToken.upload", count=1, kind="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        upload(api.url, ks, token["id"], data[1500:3000], resume=True, finalChunk=False, resumeAt=1500)
    state = api.ok("uploadToken", "get", ks=ks, uploadTokenId=token["id"])
    resume_at = int(state["uploadedFileSize"])
    assert (state["status"], resume_at) == (1, 1500)
    done = upload_ok(api.url, ks, token["id"], data[resume_at:], resume=True, finalChunk=True, resumeAt=resume_at)
    assert (done["status"], done["uploadedFileSize"]) == (2, len(data))
    assert downloaded(api, ks, token["id"]) == data


def test_final_chunk_size_mismatch_is_retryable(api, ks):
    data = payload(3000)
    token = new_token(api, ks, fileName="gap.mp4")
    upload_ok(api.url, ks, token["id"], data[:1000], resume=False, finalChunk=False)
    # The bytes 1000..2000 never came: the final chunk cannot make a 3000-byte file.
    error = upload(api.url, ks, token["id"], data[2000:], resume=True, finalChunk=True, resumeAt=2000)
    assert error["code"] == "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"
    assert error["message"] == "Failed to match expected file size"
    state = api.ok("uploadToken", "get", ks=ks, uploadTokenId=token["id"])
    assert (state["status"], state["uploadedFileSize"]) == (1, "1000")
    upload_ok(api.url, ks, token["id"], data[1000:2000], resume=True, finalChunk=False, resumeAt=1000)
    retried = upload_ok(api.url, ks, token["id"], data[2000:], resume=True, finalChunk=True, resumeAt=2000)
    assert (retried["status"], retried["uploadedFileSize"]) == (2, 3000)
    assert downloaded(api, ks, token["id"]) == data


def test_resume_before_any_data_cannot_resume(api, ks):
    token = new_token(api, ks, fileName="nothing.mp4")
    error = upload(api.url, ks, token["id"], b"abc", resume=True, finalChunk=False, resumeAt=0)
    assert error["code"] == "UPLOAD_TOKEN_CANNOT_RESUME"
    assert error["message"] == "Cannot resume the upload, original file was not found"
    assert api.ok("uploadToken", "get", ks=ks, uploadTokenId=token["id"])["status"] == 0


def test_sequential_append_and_auto_finalize(api, ks):
    data = payload(2500)
    token = new_token(api, ks, fileName="auto.mp4", fileSize=len(data), autoFinalize=1)
    first = upload_ok(api.url, ks, token["id"], data[:1000], resume=False, finalChunk=False)
    assert first["status"] == 1
    second = upload_ok(api.url, ks, token["id"], data[1000:2000], resume=True, finalChunk=False)
    assert (second["status"], second["uploadedFileSize"]) == (1, 2000)
    last = upload_ok(api.url, ks, token["id"], data[2000:], resume=True, finalChunk=False)
    assert (last["status"], last["uploadedFileSize"]) == (2, len(data))
    error = api.error("uploadToken", "add", ks=ks, uploadToken={"objectType": "KalturaUploadToken", "autoFinalize": 1})
    assert error["code"] == "UPLOAD_TOKEN_MISSING_FILE_SIZE"


def test_add_content_before_the_upload_finishes(api, ks):
    data = mp4_bytes(1920, 1080, 12, payload=2000)
    token = new_token(api, ks, fileName="early.mp4")
    upload_ok(api.url, ks, token["id"], data[:500], resume=False, finalChunk=False)
    entry = add_entry(api, ks, name="Early attach", mediaType=1)
    attached = add_content(api, ks, entry["id"], token["id"])
    assert attached["status"] == 0  # IMPORT: waiting for the rest of the file
    waiting = api.ok("uploadToken", "get", ks=ks, uploadTokenId=token["id"])
    assert (waiting["attachedObjectType"], waiting["attachedObjectId"]) == ("entry", entry["id"])
    upload_ok(api.url, ks, token["id"], data[500:], resume=True, finalChunk=True, resumeAt=500)
    ready = api.ok("media", "get", ks=ks, entryId=entry["id"])
    assert ready["status"] == 2 and (ready["width"], ready["height"]) == (1920, 1080)
    assert api.ok("uploadToken", "get", ks=ks, uploadTokenId=token["id"])["status"] == 3


def test_tokens_are_private_to_their_user(api, creds, ks):
    token = new_token(api, ks, fileName="private.mp4")
    other = user_ks(api, creds, "jordan.lee")
    for action, extra in (("get", {}), ("delete", {})):
        error = api.error("uploadToken", action, ks=other, uploadTokenId=token["id"], **extra)
        assert (error["code"], error["message"]) == ("UPLOAD_TOKEN_NOT_FOUND", "Upload token not found")
    error = upload(api.url, other, token["id"], b"intruder", resume=False)
    assert error["code"] == "UPLOAD_TOKEN_NOT_FOUND"
    mine = api.ok("uploadToken", "list", ks=ks)
    theirs = api.ok("uploadToken", "list", ks=other)
    assert mine["objectType"] == "KalturaUploadTokenListResponse"
    assert token["id"] in {t["id"] for t in mine["objects"]}
    assert token["id"] not in {t["id"] for t in theirs["objects"]}
    # media.addContent is different: KalturaUploadedFileTokenResource finds any token of the
    # partner (UploadTokenPeer::retrieveByPK), so another user's token attaches.
    entry = add_entry(api, other, name="Borrowed upload", mediaType=1)
    attached = add_content(api, other, entry["id"], token["id"])
    assert (attached["id"], attached["status"]) == (entry["id"], 0)  # IMPORT: waiting for the upload
    admin = api.admin_ks(creds)
    assert api.ok("uploadToken", "get", ks=admin, uploadTokenId=token["id"])["id"] == token["id"]


def test_delete_removes_the_token(api, ks):
    token = new_token(api, ks, fileName="gone.mp4")
    upload_ok(api.url, ks, token["id"], b"x" * 10, resume=False, finalChunk=False)
    assert api.call("uploadToken", "delete", ks=ks, uploadTokenId=token["id"]) is None
    assert api.error("uploadToken", "get", ks=ks, uploadTokenId=token["id"])["code"] == "UPLOAD_TOKEN_NOT_FOUND"
    assert token["id"] not in {t["id"] for t in api.ok("uploadToken", "list", ks=ks)["objects"]}


def test_list_filters_and_paging(api, ks):
    made = [new_token(api, ks, fileName=f"f{i}.mp4") for i in range(3)]
    upload_ok(api.url, ks, made[1]["id"], b"abc", resume=False, finalChunk=False)
    partial = api.ok("uploadToken", "list", ks=ks, filter={"statusEqual": 1})
    assert [t["id"] for t in partial["objects"]] == [made[1]["id"]]
    page = api.ok("uploadToken", "list", ks=ks, pager={"pageSize": 2, "pageIndex": 2})
    assert page["totalCount"] == 3 and len(page["objects"]) == 1


def _cut_short(url: str, ks: str, token_id: str, sent: int, promised: int) -> None:
    """Start a multipart upload that promises ``promised`` bytes of file, send ``sent``, hang up."""
    boundary = "cutshort"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("ks", ks), ("uploadTokenId", token_id), ("resume", "0"), ("finalChunk", "1"))
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="fileData"; filename="cut.mp4"\r\n\r\n'
    length = len(head) + promised + len(f"\r\n--{boundary}--\r\n")
    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(
            (
                f"POST /api_v3/service/uploadToken/action/upload?format=1 HTTP/1.1\r\nHost: {where.netloc}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
            + head.encode()
            + os.urandom(sent)
        )


def test_received_parts_leave_nothing_behind(tmp_path):
    """Parts are spooled under files_dir and kept by a hard link, not a second copy: whatever
    happens to the request (refused, cut short, or stored), no spooled file outlives it."""
    with SandboxProcess(data_dir=tmp_path) as sandbox:
        api = JsonApi(sandbox.url)
        ks = user_ks(api, sandbox.credentials, PARTICIPANT)
        data = payload(3 * 1024 * 1024)
        assert upload(api.url, ks, "0_" + "x" * 32, data)["code"] == "UPLOAD_TOKEN_NOT_FOUND"
        token = new_token(api, ks, fileName="kept.mp4", fileSize=len(data))
        _cut_short(api.url, ks, token["id"], sent=1024 * 1024, promised=len(data))
        done = upload_ok(api.url, ks, token["id"], data, name="kept.mp4")
        assert (done["status"], done["uploadedFileSize"]) == (2, len(data))
        spool = tmp_path / "files" / "spool"
        deadline = time.monotonic() + 5  # the cut-short request ends when the server sees the hang-up
        while any(spool.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(spool.iterdir()) == []
        stored = [path for path in (tmp_path / "files" / "uploads").iterdir() if path.is_file()]
        assert [path.stat().st_size for path in stored] == [len(data)]
        assert stored[0].stat().st_nlink == 1  # the spooled name is gone, only ours is left
        assert downloaded(api, ks, token["id"]) == data
