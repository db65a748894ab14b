"""Media URLs over real HTTP (reference/kaltura-api.md §4.5, §4.6): generated thumbnails of the
requested size, DASH and HLS manifests for READY videos, progressive and download URLs, and
Kaltura's external-error headers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.sandbox.conftest import JsonApi
from tests.sandbox.media_support import (
    ALL_STATUSES,
    PARTICIPANT,
    add_entry,
    get,
    list_all,
    mp4_bytes,
    png_header,
    png_rows,
    uploaded_entry,
    user_ks,
)

MPD = "{urn:mpeg:dash:schema:mpd:2011}"


@pytest.fixture
def admin(api: JsonApi, creds: dict) -> str:
    return api.admin_ks(creds, privileges="disableentitlement")


@pytest.fixture
def ks(api: JsonApi, creds: dict) -> str:
    return user_ks(api, creds, PARTICIPANT)


@pytest.fixture
def video(api: JsonApi, ks: str) -> dict:
    """A READY 1280x720 video uploaded by the participant."""
    entry = uploaded_entry(api, ks, mp4_bytes(1280, 720, 95), name="Delivery test")
    assert entry["status"] == 2
    return entry


def manifest_url(entry: dict, fmt: str, ks: str | None, ext: str) -> str:
    base = entry["dataUrl"].split("/playManifest/")[0]
    ks_part = f"/ks/{ks}" if ks else ""
    return f"{base}/playManifest/entryId/{entry['id']}/protocol/http/format/{fmt}{ks_part}/a.{ext}"


def assert_external_error(response, code: int) -> None:
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["X-Kaltura"] == f"error-{code}"
    assert response.headers["X-Kaltura-App"].startswith(f"exiting on error {code} - ")


def ready_flavors(api: JsonApi, ks: str, entry_id: str) -> list[dict]:
    listed = api.ok("flavorAsset", "list", ks=ks, filter={"entryIdEqual": entry_id})["objects"]
    return [f for f in listed if f["status"] == 2 and f["isWeb"]]


# -- thumbnails ------------------------------------------------------------------------------------


@pytest.mark.parametrize("width, height", [(120, 90), (320, 180), (1, 1), (640, 640)])
def test_thumbnail_has_the_requested_size(api, admin, width, height):
    entry = list_all(api, admin, mediaTypeEqual=1)[0]
    response = get(f"{entry['thumbnailUrl']}/width/{width}/height/{height}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert png_header(response.content) == (width, height)
    rows = png_rows(response.content)
    assert len(rows) == height and all(len(row) == width * 3 for row in rows)


def test_thumbnail_is_a_picture_not_a_blank(api, admin):
    entry = list_all(api, admin, mediaTypeEqual=2)[0]
    rows = png_rows(get(f"{entry['thumbnailUrl']}/width/200/height/120").content)
    pixels = {row[i : i + 3] for row in rows for i in range(0, len(row), 3)}
    assert len(pixels) > 50  # a gradient and a glyph, not one flat colour
    assert rows[0] != rows[-1]


def test_thumbnail_sizes_from_one_side_or_none(api, admin):
    entry = next(e for e in list_all(api, admin, mediaTypeEqual=1) if (e["width"], e["height"]) == (1920, 1080))
    url = entry["thumbnailUrl"]
    assert png_header(get(f"{url}/width/320").content) == (320, 180)
    assert png_header(get(f"{url}/height/90").content) == (160, 90)
    assert png_header(get(url).content) == (120, 90)  # Kaltura's default thumbnail size
    query = get(url, params={"width": 50, "height": 40})
    assert png_header(query.content) == (50, 40)


def test_thumbnail_of_unknown_entry_is_an_external_error(api, creds):
    pid = creds["partnerId"]
    response = get(f"{api.url}/p/{pid}/sp/{pid}00/thumbnail/entry_id/0_nosuchid/width/10")
    assert_external_error(response, 1)
    assert "requested entry not found" in response.headers["X-Kaltura-App"]


# -- playManifest ----------------------------------------------------------------------------------


def test_dash_manifest_lists_the_ready_web_flavors(api, ks, video):
    response = get(manifest_url(video, "mpegdash", ks, "mpd"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/dash+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{MPD}MPD" and root.get("type") == "static"
    assert root.get("mediaPresentationDuration") == "PT95.000S"
    representations = root.findall(f"{MPD}Period/{MPD}AdaptationSet/{MPD}Representation")
    expected = ready_flavors(api, ks, video["id"])
    assert {r.get("id") for r in representations} == {f["id"] for f in expected}
    heights = sorted(int(r.get("height")) for r in representations)
    assert heights == sorted(f["height"] for f in expected) and max(heights) == 720
    for representation in representations:
        assert int(representation.get("bandwidth")) > 0
        base = representation.find(f"{MPD}BaseURL").text
        assert base.startswith(api.url + "/p/")


def test_hls_master_and_media_playlists(api, ks, video):
    response = get(manifest_url(video, "applehttp", ks, "m3u8"))
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == "#EXTM3U"
    variants = [(lines[i], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(variants) == len(ready_flavors(api, ks, video["id"]))
    for info, url in variants:
        assert "BANDWIDTH=" in info and "RESOLUTION=" in info
        media = get(url)
        assert media.status_code == 200, media.headers
        media_lines = media.text.splitlines()
        assert media_lines[0] == "#EXTM3U" and media_lines[-1] == "#EXT-X-ENDLIST"
        durations = [float(line[8:].rstrip(",")) for line in media_lines if line.startswith("#EXTINF:")]
        assert sum(durations) == pytest.approx(95.0)


def test_manifest_needs_an_entitled_session(api, creds, video):
    # The participant's video sits in no category: without a KS it is public ...
    assert get(manifest_url(video, "mpegdash", None, "mpd")).status_code == 200
    # ... until it is in a members-only category the caller is not a member of.
    admin = api.admin_ks(creds)
    design = next(
        e["categoriesIds"]
        for e in list_all(api, api.admin_ks(creds, privileges="disableentitlement"), statusIn=ALL_STATUSES)
        if e.get("categories") == "Hub Portal>Design Reviews"
    )
    api.ok(
        "media",
        "update",
        ks=admin,
        entryId=video["id"],
        mediaEntry={"objectType": "KalturaMediaEntry", "categoriesIds": design},
    )
    assert_external_error(get(manifest_url(video, "mpegdash", None, "mpd")), 1)
    outsider = user_ks(api, creds, "new.hire@northwind.example")
    assert_external_error(get(manifest_url(video, "mpegdash", outsider, "mpd")), 1)
    owner = user_ks(api, creds, PARTICIPANT)
    assert get(manifest_url(video, "mpegdash", owner, "mpd")).status_code == 200
    headers = {"X-Kaltura-Ks": owner}
    assert get(manifest_url(video, "applehttp", None, "m3u8"), headers=headers).status_code == 200
    assert_external_error(get(manifest_url(video, "mpegdash", "not-a-ks", "mpd")), 7)


def test_manifest_errors_for_images_and_unready_entries(api, admin, ks):
    image = list_all(api, admin, mediaTypeEqual=2)[0]
    pid = image["partnerId"]
    url = f"{api.url}/p/{pid}/sp/{pid}00/playManifest/entryId/{image['id']}/format/mpegdash"
    assert_external_error(get(f"{url}/ks/{admin}/a.mpd"), 12)
    waiting = add_entry(api, ks, name="No content yet", mediaType=1)
    assert_external_error(get(manifest_url(waiting, "mpegdash", ks, "mpd")), 6)


def test_progressive_url_and_download_give_the_uploaded_bytes(api, ks):
    data = mp4_bytes(640, 360, 7, payload=20_000)
    entry = uploaded_entry(api, ks, data, name="Bytes")
    progressive = get(entry["dataUrl"] + f"/ks/{ks}", allow_redirects=False)
    assert progressive.status_code == 302
    followed = get(progressive.headers["Location"] + f"/ks/{ks}")
    assert followed.status_code == 200 and followed.content == data
    download = get(entry["downloadUrl"] + f"/ks/{ks}")
    assert download.status_code == 200 and download.content == data
    assert "attachment" in download.headers["Content-Disposition"]
    ranged = get(entry["downloadUrl"] + f"/ks/{ks}", headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == data[10:20]


def test_image_download_and_data_urls(api, admin):
    image = next(e for e in list_all(api, admin, mediaTypeEqual=2) if not e.get("categoriesIds"))
    raw = get(image["downloadUrl"])
    assert raw.status_code == 200 and raw.headers["Content-Type"] == "image/png"
    width, height = png_header(raw.content)
    assert abs(width / height - image["width"] / image["height"]) < 0.01
    width, height = png_header(get(image["dataUrl"]).content)
    assert max(width, height) == min(4096, max(image["width"], image["height"]))
    assert abs(width / height - image["width"] / image["height"]) < 0.01
