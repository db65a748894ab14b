"""Helpers the upload tests share: media files made by the tests, the check/prepare form, and a
small upload-plan driver on ``requests`` that speaks Kaltura's chunked upload protocol exactly as
``static/js/chunk_pump.js`` does (first chunk ``resume=0``, positioned chunks in parallel, an empty
final chunk, retries on transport errors, 5xx and ``UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE``, a
fresh session on ``INVALID_KS``, resume from ``uploadedFileSize``)."""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from portal.uploads.sniff import HEAD_BYTES, ISO_BMFF_FIRST_BOXES, TAIL_BYTES
from tests.unit.uploads import media_files as m

TRANSIENT = {"INTERNAL_SERVERL_ERROR", "INTERNAL_DATABASE_ERROR", "LOCK_TIMED_OUT", "ACTION_BLOCKED", "UPLOAD_ERROR"}


def mp4_360(size: int, seed: int = 7) -> bytes:
    """An MP4 of exactly ``size`` bytes with a 3840×1920 video track carrying Spherical Video V2
    (``sv3d``, equirectangular) and random media data (so chunks differ)."""
    head = m.mp4(m.video_trak(3840, 1920, children=m.sv3d()), mdat_size=0)  # ends with an empty mdat
    filler = random.Random(seed).randbytes(max(0, size - len(head)))
    data = head[:-8] + m.box(b"mdat", filler)
    assert len(data) == size, (len(data), size)
    return data


def plain_mp4(size: int, seed: int = 3) -> bytes:
    """An ordinary 1920×1080 MP4 of ``size`` bytes (not 360°)."""
    head = m.mp4(m.video_trak(1920, 1080), mdat_size=0)
    filler = random.Random(seed).randbytes(max(0, size - len(head)))
    return (head[:-8] + m.box(b"mdat", filler))[:size] if size > len(head) else head


def sample_form(file_name: str, data: bytes, /, **fields: str) -> dict[str, Any]:
    """The multipart body uploads.js sends to check and prepare: name, size, first and last bytes."""
    form: dict[str, Any] = {
        "file_name": file_name,
        "file_size": str(len(data)),
        "head": (io.BytesIO(data[:HEAD_BYTES]), "head"),
    }
    if data[4:8] in ISO_BMFF_FIRST_BOXES and len(data) > HEAD_BYTES:
        form["tail"] = (io.BytesIO(data[max(HEAD_BYTES, len(data) - TAIL_BYTES) :]), "tail")
    form.update(fields)
    return form


def post_sample(client, url: str, headers: dict[str, str], file_name: str, data: bytes, /, **fields: str):  # type: ignore[no-untyped-def]
    """POST the sample form with the Flask test client, encoded in memory (the test client would
    spool a body over 500 KB to a temporary file it never closes)."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    form = {
        key: FileStorage(stream=value[0], filename=value[1]) if isinstance(value, tuple) else value
        for key, value in sample_form(file_name, data, **fields).items()
    }
    boundary, body = encode_multipart(form)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=headers)


class Killed(Exception):
    """The client was killed (the test's stand-in for a closed tab)."""


@dataclass
class Driver:
    """Sends ``data`` to Kaltura following ``plan`` (the prepare endpoint's answer)."""

    plan: dict[str, Any]
    data: bytes
    refresh: Callable[[], str] | None = None
    chunk_size: int | None = None
    parallelism: int | None = None
    timeout: float = 5.0
    max_attempts: int = 8
    kill_after_chunks: int | None = None
    sent: list[tuple[int, int, str]] = field(default_factory=list)  # (offset, size, outcome)
    refreshed: int = 0

    def __post_init__(self) -> None:
        self.ks: str = self.plan["ks"]
        self.url = self.plan["serviceUrl"].rstrip("/") + "/api_v3/service/uploadToken/action/"
        self.http = requests.Session()
        self.chunks_done = 0

    # -- one request ------------------------------------------------------------------------------

    def _post(self, action: str, fields: dict[str, str], blob: bytes | None = None) -> dict[str, Any]:
        body = {"ks": self.ks, "uploadTokenId": self.plan["uploadTokenId"], "format": "1", **fields}
        files = {"fileData": (self.plan.get("fileName") or "blob", blob)} if blob is not None else None
        response = self.http.post(self.url + action, data=body, files=files, timeout=self.timeout)
        if response.status_code >= 500:
            raise _Retry(f"HTTP_{response.status_code}")
        answer = response.json()
        if isinstance(answer, dict) and answer.get("objectType") == "KalturaAPIException":
            code = answer["code"]
            if code in TRANSIENT or code == "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE":
                raise _Retry(code)
            if code == "INVALID_KS":
                raise _Expired(code)
            raise RuntimeError(f"Kaltura refused: {code} {answer.get('message')}")
        return answer

    def _with_retries(self, label: str, send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                answer = send()
                self.sent.append((*_label(label), "ok"))
                return answer
            except (requests.ConnectionError, requests.Timeout, _Retry) as error:
                self.sent.append((*_label(label), type(error).__name__ + ":" + str(error)[:40]))
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random() / 2))
            except _Expired:
                self.sent.append((*_label(label), "INVALID_KS"))
                assert self.refresh is not None, "the session expired and nobody can refresh it"
                self.ks = self.refresh()
                self.refreshed += 1
        raise AssertionError(f"{label}: gave up after {self.max_attempts} attempts")

    # -- the protocol -----------------------------------------------------------------------------

    def token(self) -> dict[str, Any]:
        return self._with_retries("get:0:0", lambda: self._post("get", {}))

    def run(self, resume_at: int | None = None) -> dict[str, Any]:
        """Upload everything from ``resume_at`` (default: the plan's ``resumeAt``); the final token."""
        size = len(self.data)
        start = self.plan.get("resumeAt", 0) if resume_at is None else resume_at
        chunk = self.chunk_size or self.plan["chunkSize"]
        if start == 0:
            first = self.data[:chunk]
            self._chunk(0, first, resume=False)
            start = len(first)
        offsets = list(range(start, size, chunk))
        with ThreadPoolExecutor(self.parallelism or self.plan["parallelism"]) as pool:
            for future in [pool.submit(self._chunk, o, self.data[o : o + chunk], resume=True) for o in offsets]:
                future.result()
        return self._with_retries(
            f"final:{size}:0",
            lambda: self._post("upload", {"resume": "1", "finalChunk": "1", "resumeAt": str(size)}, b""),
        )

    def _chunk(self, offset: int, blob: bytes, *, resume: bool) -> None:
        if self.kill_after_chunks is not None and self.chunks_done >= self.kill_after_chunks:
            raise Killed()
        fields = {"resume": "1" if resume else "0", "finalChunk": "0", "resumeAt": str(offset)}
        self._with_retries(f"chunk:{offset}:{len(blob)}", lambda: self._post("upload", fields, blob))
        self.chunks_done += 1


class _Retry(Exception):
    pass


class _Expired(Exception):
    pass


def _label(label: str) -> tuple[int, int]:
    _, offset, size = label.split(":")
    return int(offset), int(size)
