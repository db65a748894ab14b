"""The gateway's upload methods against the real sandbox: the token and entry belong to the member,
a lost media.add answer is found again by referenceId, progress for many entries is one request,
deletes are idempotent, and the upload session is the member's own, short-lived and uncached."""

from __future__ import annotations

import time

import requests

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura.gateway import KalturaGateway
from portal.kaltura.tokens import AppToken
from portal.kaltura.types import EntryStatus, MediaType, SessionType
from portal.kaltura.uploads import TokenStatus

USER = "pat@northwind.example"


def _upload_all(sandbox: SandboxProcess, ks: str, token_id: str, data: bytes) -> dict:  # type: ignore[type-arg]
    url = f"{sandbox.url}/api_v3/service/uploadToken/action/upload"
    fields = {"format": "1", "ks": ks, "uploadTokenId": token_id, "resume": "0", "finalChunk": "1", "resumeAt": "0"}
    return requests.post(url, data=fields, files={"fileData": ("blob", data)}, timeout=10).json()


def test_token_entry_content_and_progress_of_many_entries_in_one_request(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    made = []
    for number in range(3):
        token = gateway.add_upload_token(sandbox.url, client_token, USER, file_name=f"c{number}.mp4", file_size=1000)
        assert token.status == TokenStatus.PENDING and token.uploaded_file_size == 0
        entry = gateway.add_media_entry(
            sandbox.url,
            client_token,
            USER,
            name=f"Clip {number}",
            media_type=MediaType.VIDEO,
            reference_id=f"hubportal-upload-test{number}",
            tags=["360", "roof"],
        )
        assert entry.status == EntryStatus.NO_CONTENT and entry.user_id == USER and entry.is_360
        attached = gateway.attach_upload(sandbox.url, client_token, USER, entry.id, token.id)
        assert attached.status == EntryStatus.IMPORT  # waiting for the bytes
        made.append((token, entry))
    session = gateway.upload_session(sandbox.url, client_token, USER, expiry=600)
    assert session.user_id == USER and session.session_type == SessionType.USER
    assert session.expiry is not None and session.expiry - time.time() <= 600 + 5
    answer = _upload_all(sandbox, session.ks, made[0][0].id, b"\x00" * 1000)
    assert int(float(answer["uploadedFileSize"])) == 1000

    tokens = gateway.upload_tokens(sandbox.url, client_token, USER, [t.id for t, _ in made])
    sandbox.control("calls/reset")
    progress = gateway.entries_progress(sandbox.url, client_token, USER, [e.id for _, e in made])

    assert sandbox.calls() == {"multirequest": 1, "media.list": 1, "flavorasset.list": 1}  # one HTTP request
    assert tokens[made[0][0].id].is_complete and not tokens[made[1][0].id].is_complete
    assert set(progress) == {e.id for _, e in made}
    first = progress[made[0][1].id]
    assert first.entry.status == EntryStatus.READY and first.flavors_total >= 1
    assert first.flavors_ready == first.flavors_total
    assert progress[made[1][1].id].entry.status == EntryStatus.IMPORT and progress[made[1][1].id].flavors_total == 0


def test_a_lost_media_add_answer_is_found_again_by_reference(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    assert gateway.entry_by_reference(sandbox.url, client_token, USER, "hubportal-upload-lost") is None
    sandbox.control("fault", action="media.add", count=1, kind="drop_after")
    try:
        gateway.add_media_entry(
            sandbox.url,
            client_token,
            USER,
            name="Lost",
            media_type=MediaType.IMAGE,
            reference_id="hubportal-upload-lost",
        )
    except Exception as error:  # the answer never came
        assert type(error).__name__ == "KalturaUnavailable"
    else:
        raise AssertionError("the dropped answer should have been an error")

    found = gateway.entry_by_reference(sandbox.url, client_token, USER, "hubportal-upload-lost")

    assert found is not None and found.name == "Lost" and found.status == EntryStatus.NO_CONTENT
    assert sandbox.calls().get("media.add") == 1  # sent once: creating calls are never retried blindly


def test_deletes_are_idempotent_and_a_deleted_token_is_gone(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    token = gateway.add_upload_token(sandbox.url, client_token, USER, file_name="x.jpg", file_size=10)
    entry = gateway.add_media_entry(
        sandbox.url, client_token, USER, name="X", media_type=MediaType.IMAGE, reference_id="hubportal-upload-x"
    )

    assert gateway.delete_upload_token(sandbox.url, client_token, USER, token.id) is True
    assert gateway.delete_upload_token(sandbox.url, client_token, USER, token.id) is False
    assert gateway.get_upload_token(sandbox.url, client_token, USER, token.id) is None
    assert gateway.delete_entry(sandbox.url, client_token, USER, entry.id) is True
    assert gateway.delete_entry(sandbox.url, client_token, USER, entry.id) is False


def test_another_member_sees_neither_the_token_nor_can_delete_the_entry(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    token = gateway.add_upload_token(sandbox.url, client_token, USER, file_name="x.jpg", file_size=10)

    assert gateway.get_upload_token(sandbox.url, client_token, "jordan.lee", token.id) is None
    assert gateway.upload_tokens(sandbox.url, client_token, "jordan.lee", [token.id]) == {}
