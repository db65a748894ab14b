"""Helpers shared by the sandbox's media tests (lists, sessions, uploads, PNG and MP4 bytes).

Everything goes over real HTTP to the sandbox process (JSON format, plain ``requests``).
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import requests

from tests.sandbox.conftest import JsonApi, is_error

#: Every entry status except DELETED: lists return READY only unless told otherwise.
ALL_STATUSES = "-2,-1,0,1,2,4,7"
PARTICIPANT = "pat@northwind.example"


def user_ks(api: JsonApi, creds: dict, user_id: str | None, token: str = "clientAppToken") -> str:
    """A KS for ``user_id`` from one of the demo App Tokens, minted the documented way."""
    params = {} if user_id is None else {"userId": user_id}
    return api.app_token_session(creds[token], creds["partnerId"], **params)["ks"]


def plain_user_ks(api: JsonApi, creds: dict, user_id: str, privileges: str = "") -> str:
    """A USER KS from ``session.start`` (no ``list:*`` unless given in ``privileges``)."""
    return api.ok(
        "session",
        "start",
        secret=creds["adminSecret"],
        type=0,
        partnerId=creds["partnerId"],
        userId=user_id,
        privileges=privileges,
    )


def list_page(api: JsonApi, ks: str, service: str = "media", **flt: Any) -> dict:
    """One ``media.list`` answer; ``pager`` may be passed inside ``flt``."""
    pager = flt.pop("pager", {"pageSize": 500})
    return api.ok(service, "list", ks=ks, filter=flt, pager=pager)


def list_all(api: JsonApi, ks: str, **flt: Any) -> list[dict]:
    """Every entry matching the filter, walking the pages (500 per page)."""
    objects: list[dict] = []
    index = 1
    while True:
        page = api.ok("media", "list", ks=ks, filter=flt, pager={"pageSize": 500, "pageIndex": index})
        objects += page["objects"]
        if len(page["objects"]) < 500:
            assert len(objects) == page["totalCount"]
            return objects
        index += 1


def ids(objects: list[dict]) -> set[str]:
    return {obj["id"] for obj in objects}


def upload(url: str, ks: str, token_id: str, data: bytes, *, name: str = "blob", **flags: Any) -> dict:
    """``uploadToken.upload`` the way the official clients send files: a multipart ``json`` field
    with the parameters plus the file part."""
    params = {"format": 1, "ks": ks, "uploadTokenId": token_id, **{k: v for k, v in flags.items()}}
    response = requests.post(
        f"{url}/api_v3/service/uploadToken/action/upload",
        data={"json": json.dumps(params)},
        files={"fileData": (name, data, "application/octet-stream")},
        timeout=60,
    )
    response.close()
    assert response.status_code == 200, response.text
    return response.json()


def upload_ok(url: str, ks: str, token_id: str, data: bytes, **flags: Any) -> dict:
    result = upload(url, ks, token_id, data, **flags)
    assert not is_error(result), result
    return result


def new_token(api: JsonApi, ks: str, **fields: Any) -> dict:
    return api.ok("uploadToken", "add", ks=ks, uploadToken={"objectType": "KalturaUploadToken", **fields})


def add_entry(api: JsonApi, ks: str, **fields: Any) -> dict:
    return api.ok("media", "add", ks=ks, entry={"objectType": "KalturaMediaEntry", **fields})


def add_content(api: JsonApi, ks: str, entry_id: str, token_id: str) -> dict:
    return api.call(
        "media",
        "addContent",
        ks=ks,
        entryId=entry_id,
        resource={"objectType": "KalturaUploadedFileTokenResource", "token": token_id},
    )


def uploaded_entry(api: JsonApi, ks: str, data: bytes, *, file_name: str = "clip.mp4", **fields: Any) -> dict:
    """Upload ``data`` in one shot, create an entry and attach the file; returns the entry."""
    token = new_token(api, ks, fileName=file_name, fileSize=len(data))
    upload_ok(api.url, ks, token["id"], data, name=file_name)
    entry = add_entry(api, ks, **{"name": "Uploaded clip", "mediaType": 1, **fields})
    result = add_content(api, ks, entry["id"], token["id"])
    assert not is_error(result), result
    return result


def get(url: str, **kwargs: Any) -> requests.Response:
    response = requests.get(url, timeout=60, **kwargs)
    response.close()
    return response


# -- media bytes -----------------------------------------------------------------------------------


def mp4_bytes(width: int, height: int, seconds: int, payload: int = 4096) -> bytes:
    """A minimal ISO-BMFF file (ftyp, moov with mvhd and a video track header, mdat) whose
    headers declare the given frame size and duration; enough for the sandbox's probe."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    mvhd = struct.pack(">B3xIIII", 0, 0, 0, 1000, seconds * 1000) + bytes(80)
    tkhd = (
        struct.pack(">B3xIIIIIQ", 0, 0, 0, 1, 0, seconds * 1000, 0)
        + bytes(8)
        + bytes(36)
        + struct.pack(">II", width << 16, height << 16)
    )
    moov = box(b"moov", box(b"mvhd", mvhd) + box(b"trak", box(b"tkhd", tkhd)))
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + moov + box(b"mdat", bytes(payload))


def png_header(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR; fails on anything that is not a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def png_rows(data: bytes) -> list[bytes]:
    """The decoded RGB rows of an 8-bit RGB PNG written with filter type 0."""
    width, height = png_header(data)
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    assert len(raw) == stride * height
    rows = []
    for y in range(height):
        assert raw[y * stride] == 0
        rows.append(raw[y * stride + 1 : (y + 1) * stride])
    return rows


def jpeg_segments(data: bytes) -> dict[int, list[bytes]]:
    """The marker segments of a JPEG file up to its scan (marker -> payloads); fails on anything
    that is not a complete JPEG (SOI first, EOI last)."""
    assert data[:2] == b"\xff\xd8", data[:16]
    assert data[-2:] == b"\xff\xd9", data[-16:]
    segments: dict[int, list[bytes]] = {}
    pos = 2
    while True:
        assert data[pos] == 0xFF, (pos, data[pos : pos + 4])
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segments.setdefault(marker, []).append(data[pos + 4 : pos + 2 + length])
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return segments


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a baseline JPEG's SOF0 segment."""
    segments = jpeg_segments(data)
    assert 0xC0 in segments, sorted(segments)  # SOF0: baseline DCT
    precision, height, width, components = struct.unpack(">BHHB", segments[0xC0][0][:6])
    assert (precision, components) == (8, 3)
    return width, height


def jpeg_luma_dc_quantiser(data: bytes) -> int:
    """The first (DC) entry of the JPEG's luminance quantisation table."""
    table = jpeg_segments(data)[0xDB][0]
    assert table[0] == 0  # 8-bit table 0 (luminance)
    return table[1]
