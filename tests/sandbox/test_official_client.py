"""Kaltura's official Python client (kalturaapiclient, XML format) against the sandbox over HTTP.

The flow of issue 3: widget session -> App Token session (a SHA1 and a SHA256 token) -> filtered,
paged media.list -> media.get -> upload in three chunks, one sent out of order -> media.add +
addContent -> poll to READY -> user.add / user.get; the documented errors arrive as the client's
``KalturaException`` with the right codes; KSs from ``generateSessionV2``/``generateSession`` work.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaAppToken,
    KalturaAppTokenHashType,
    KalturaEntryStatus,
    KalturaFilterPager,
    KalturaFlavorAssetFilter,
    KalturaMediaEntry,
    KalturaMediaEntryFilter,
    KalturaMediaEntryOrderBy,
    KalturaMediaType,
    KalturaSessionType,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
    KalturaUploadTokenStatus,
    KalturaUser,
)

PAT = "pat@northwind.example"
POLL_ATTEMPTS = 100


@pytest.fixture
def client(sandbox_reset) -> KalturaClient:
    config = KalturaConfiguration()
    config.serviceUrl = sandbox_reset.url
    return KalturaClient(config)


def admin_ks(creds: dict, user_id: str = "hub.admin") -> str:
    """An ADMIN KS made locally by the official client (KS v2, signed with the admin secret)."""
    ks = KalturaClient.generateSessionV2(
        creds["adminSecret"], user_id, KalturaSessionType.ADMIN, creds["partnerId"], 3600, ""
    )
    return ks.decode()


def app_token_session(client: KalturaClient, creds: dict, token_id: str, token: str, hash_type: str, user_id: str):
    """The documented App Token flow: widget KS, hash(widget KS + token), startSession."""
    widget = client.session.startWidgetSession(f"_{creds['partnerId']}")
    client.setKs(widget.ks)
    digest = hashlib.new(hash_type.lower(), (widget.ks + token).encode()).hexdigest()
    return client.appToken.startSession(token_id, digest, userId=user_id)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def upload_chunk(client: KalturaClient, token_id: str, path: Path, **kwargs):
    with path.open("rb") as handle:
        return client.uploadToken.upload(token_id, handle, **kwargs)


def wait_until_ready(client: KalturaClient, entry_id: str) -> KalturaMediaEntry:
    """Poll media.get until the entry leaves the processing statuses (delay 0 in tests)."""
    processing = {
        KalturaEntryStatus.IMPORT,
        KalturaEntryStatus.PENDING,
        KalturaEntryStatus.PRECONVERT,
        KalturaEntryStatus.NO_CONTENT,
    }
    for _ in range(POLL_ATTEMPTS):
        entry = client.media.get(entry_id)
        if entry.status.getValue() not in processing:
            return entry
        time.sleep(0.05)
    raise AssertionError(f"entry {entry_id} never left processing")


def test_widget_then_app_token_sessions_sha1_and_sha256(client, creds):
    widget = client.session.startWidgetSession(f"_{creds['partnerId']}")
    assert widget.partnerId == creds["partnerId"] and widget.ks.startswith("djJ8")
    client.setKs(admin_ks(creds))
    sha1 = client.appToken.add(
        KalturaAppToken(
            hashType=KalturaAppTokenHashType.SHA1,
            sessionPrivileges="enableentitlement,privacycontext:hubportal,list:*",
            description="sha1 picker token",
        )
    )
    assert sha1.hashType.getValue() == "SHA1" and sha1.status.getValue() == 2
    for token_id, token, hash_type in (
        (sha1.id, sha1.token, "SHA1"),
        (creds["clientAppToken"]["id"], creds["clientAppToken"]["token"], "SHA256"),
    ):
        info = app_token_session(client, creds, token_id, token, hash_type, PAT)
        assert info.userId == PAT and info.partnerId == creds["partnerId"]
        assert info.sessionType.getValue() == KalturaSessionType.USER
        assert f"apptoken:{token_id}" in info.privileges
        assert "privacycontext:hubportal" in info.privileges
        client.setKs(info.ks)
        assert client.user.get("").id == PAT


def test_filtered_paged_media_list_and_get(client, creds):
    token = creds["clientAppToken"]
    info = app_token_session(client, creds, token["id"], token["token"], "SHA256", PAT)
    client.setKs(info.ks)
    video_filter = KalturaMediaEntryFilter(
        mediaTypeEqual=KalturaMediaType.VIDEO, orderBy=KalturaMediaEntryOrderBy.CREATED_AT_DESC
    )
    first = client.media.list(video_filter, KalturaFilterPager(pageSize=5, pageIndex=1))
    second = client.media.list(video_filter, KalturaFilterPager(pageSize=5, pageIndex=2))
    assert first.totalCount == second.totalCount >= 10
    assert len(first.objects) == len(second.objects) == 5
    entries = first.objects + second.objects
    assert len({e.id for e in entries}) == 10
    assert all(e.mediaType.getValue() == KalturaMediaType.VIDEO for e in entries)
    assert all(e.status.getValue() == KalturaEntryStatus.READY for e in entries)
    created = [e.createdAt for e in entries]
    assert created == sorted(created, reverse=True)
    fetched = client.media.get(entries[3].id)
    assert (fetched.id, fetched.name, fetched.userId) == (entries[3].id, entries[3].name, entries[3].userId)


def test_chunked_upload_out_of_order_then_add_content_to_ready(client, creds, tmp_path):
    token = creds["clientAppToken"]
    info = app_token_session(client, creds, token["id"], token["token"], "SHA256", PAT)
    client.setKs(info.ks)
    size = 64 * 1024
    data = os.urandom(3 * size)
    parts = [write(tmp_path / f"part{i}.mp4", data[i * size : (i + 1) * size]) for i in range(3)]
    empty = write(tmp_path / "final.mp4", b"")
    upload = client.uploadToken.add(KalturaUploadToken(fileName="clip.mp4", fileSize=len(data)))
    assert upload.status.getValue() == KalturaUploadTokenStatus.PENDING
    upload_chunk(client, upload.id, parts[0], resume=False, finalChunk=False, resumeAt=0)
    # The third chunk arrives before the second: it waits, uploadedFileSize stays contiguous.
    parked = upload_chunk(client, upload.id, parts[2], resume=True, finalChunk=False, resumeAt=2 * size)
    assert parked.status.getValue() == KalturaUploadTokenStatus.PARTIAL_UPLOAD
    assert float(client.uploadToken.get(upload.id).uploadedFileSize) == size
    upload_chunk(client, upload.id, parts[1], resume=True, finalChunk=False, resumeAt=size)
    assert float(client.uploadToken.get(upload.id).uploadedFileSize) == 3 * size
    done = upload_chunk(client, upload.id, empty, resume=True, finalChunk=True, resumeAt=3 * size)
    assert done.status.getValue() == KalturaUploadTokenStatus.FULL_UPLOAD
    assert float(done.uploadedFileSize) == len(data)

    entry = client.media.add(
        KalturaMediaEntry(name="Chunked upload", mediaType=KalturaMediaType.VIDEO, tags="360,Upload")
    )
    assert entry.status.getValue() == KalturaEntryStatus.NO_CONTENT
    assert entry.userId == PAT and entry.tags == "360, upload"
    client.media.addContent(entry.id, KalturaUploadedFileTokenResource(token=upload.id))
    ready = wait_until_ready(client, entry.id)
    assert ready.status.getValue() == KalturaEntryStatus.READY
    flavors = client.flavorAsset.list(KalturaFlavorAssetFilter(entryIdEqual=entry.id))
    assert any(f.isOriginal for f in flavors.objects)


def test_user_add_with_the_server_token_and_get_with_a_generated_admin_ks(client, creds):
    token = creds["serverAppToken"]
    info = app_token_session(client, creds, token["id"], token["token"], "SHA256", "hub-portal")
    client.setKs(info.ks)
    added = client.user.add(
        KalturaUser(
            id="new.participant@example.com",
            email="new.participant@example.com",
            firstName="New",
            lastName="Participant",
        )
    )
    assert added.id == "new.participant@example.com" and added.status.getValue() == 1
    with pytest.raises(KalturaException) as raised:
        client.user.get("new.participant@example.com")
    assert raised.value.code == "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION"
    client.setKs(admin_ks(creds))
    fetched = client.user.get("new.participant@example.com")
    assert (fetched.email, fetched.firstName, fetched.lastName) == ("new.participant@example.com", "New", "Participant")


def test_ks_v1_from_generate_session_is_accepted(client, creds):
    ks = KalturaClient.generateSession(
        creds["adminSecret"], "v1.admin", KalturaSessionType.ADMIN, creds["partnerId"], 3600, ""
    )
    client.setKs(ks.decode())
    assert client.user.get("li.wei").id == "li.wei"


def test_multirequest_with_a_dependent_result(client, creds):
    client.setKs(admin_ks(creds))
    client.startMultiRequest()
    added = client.user.add(KalturaUser(id="mr.person", email="mr.person@example.com"))
    client.user.get(added.id)
    client.user.get("nobody.at.all")
    results = client.doMultiRequest()
    assert results[0].id == results[1].id == "mr.person"
    assert isinstance(results[2], KalturaException) and results[2].code == "INVALID_USER_ID"


@pytest.mark.parametrize(
    "case",
    [
        "garbage_ks",
        "missing_ks",
        "expired_ks",
        "entry_not_found",
        "bad_hash",
        "forbidden",
        "duplicate_user",
        "unknown_service_action",
    ],
)
def test_documented_errors_arrive_as_kaltura_exceptions(client, creds, case):
    expected = {
        "garbage_ks": "INVALID_KS",
        "missing_ks": "MISSING_KS",
        "expired_ks": "INVALID_KS",
        "entry_not_found": "ENTRY_ID_NOT_FOUND",
        "bad_hash": "INVALID_APP_TOKEN_HASH",
        "forbidden": "SERVICE_FORBIDDEN",
        "duplicate_user": "DUPLICATE_USER_BY_ID",
        "unknown_service_action": "ACTION_DOES_NOT_EXISTS",
    }[case]
    with pytest.raises(KalturaException) as raised:
        if case == "garbage_ks":
            client.setKs("not-a-ks")
            client.user.get("li.wei")
        elif case == "missing_ks":
            client.media.list()
        elif case == "expired_ks":
            client.setKs(
                KalturaClient.generateSessionV2(creds["adminSecret"], "x", 2, creds["partnerId"], -60, "").decode()
            )
            client.user.get("li.wei")
        elif case == "entry_not_found":
            client.setKs(admin_ks(creds))
            client.media.get("0_nosuch00")
        elif case == "bad_hash":
            widget = client.session.startWidgetSession(f"_{creds['partnerId']}")
            client.setKs(widget.ks)
            client.appToken.startSession(creds["clientAppToken"]["id"], "0" * 64)
        elif case == "forbidden":
            token = creds["clientAppToken"]
            info = app_token_session(client, creds, token["id"], token["token"], "SHA256", PAT)
            client.setKs(info.ks)
            client.user.add(KalturaUser(id="not.allowed"))
        elif case == "duplicate_user":
            client.setKs(admin_ks(creds))
            client.user.add(KalturaUser(id=PAT))
        else:
            client.setKs(admin_ks(creds))
            client.queueServiceActionCall("user", "teleport", "KalturaUser")
            client.doQueue()
    assert raised.value.code == expected
    if case == "expired_ks":
        assert 'Invalid KS "EXPIRED"' in str(raised.value)
