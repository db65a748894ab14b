"""Media URLs over real HTTP (reference/kaltura-api.md §4.5, §4.6): generated thumbnails of the
requested size, DASH and HLS manifests for READY videos, progressive and download URLs, and
Kaltura's external-error headers."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from tests.sandbox.conftest import JsonApi
from tests.sandbox.media_support import (
    ALL_STATUSES,
    PARTICIPANT,
    add_entry,
    get,
    jpeg_luma_dc_quantiser,
    jpeg_size,
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
    """Kaltura's external error (KExternalErrors::dieError): HTTP 404 with X-Kaltura headers."""
    assert response.status_code == 404
    assert response.content == b""
    assert response.headers["Cache-Control"] == "private, max-age=60, max-stale=0"
    assert response.headers["X-Kaltura"] == f"error-{code}"
    assert response.headers["X-Kaltura-App"].startswith(f"exiting on error {code} - ")


def ready_flavors(api: JsonApi, ks: str, entry_id: str) -> list[dict]:
    listed = api.ok("flavorAsset", "list", ks=ks, filter={"entryIdEqual": entry_id})["objects"]
    return [f for f in listed if f["status"] == 2 and f["isWeb"]]


# -- thumbnails (reference §4.5; thumbnailAction.class.php, KImageMagickCropper.php) ---------------


@pytest.fixture
def known(sandbox_reset, creds) -> dict[str, dict]:
    """Entries of known sizes, seeded through the control surface, by role."""
    specs = {
        "landscape": {"name": "Landscape", "mediaType": 1, "width": 1920, "height": 1080, "msDuration": 100_000},
        "portrait": {"name": "Portrait", "mediaType": 1, "width": 1080, "height": 1920, "msDuration": 60_000},
        "small": {"name": "Small", "mediaType": 2, "width": 160, "height": 120},
        "photo": {"name": "Photo", "mediaType": 2, "width": 4000, "height": 3000},
    }
    made = sandbox_reset.control("entries", entries=list(specs.values()))["ids"]
    pid = creds["partnerId"]
    return {
        role: {
            "id": entry_id,
            "url": f"{sandbox_reset.url}/p/{pid}/sp/{pid}00/thumbnail/entry_id/{entry_id}/version/100000",
            **spec,
        }
        for (role, spec), entry_id in zip(specs.items(), made, strict=True)
    }


def thumb(entry: dict, **params) -> bytes:
    """GET a thumbnail with path parameters; fails unless it is a 200 image."""
    path = "".join(f"/{key}/{value}" for key, value in params.items())
    response = get(entry["url"] + path)
    assert response.status_code == 200, response.headers
    return response.content


@pytest.mark.parametrize("width, height", [(120, 90), (320, 180), (1, 1), (640, 640), (1000, 250)])
def test_thumbnail_type_3_is_a_jpeg_of_exactly_the_box(known, width, height):
    response = get(f"{known['landscape']['url']}/width/{width}/height/{height}/type/3")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert jpeg_size(response.content) == (width, height)


def fit(source: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """Type 1 computed here: inside the box (0 = unbounded), aspect kept, never enlarged."""
    scales = [1.0] + [side / src for side, src in zip(box, source, strict=True) if side]
    scale = min(scales)
    return math.floor(source[0] * scale + 0.5), math.floor(source[1] * scale + 0.5)  # half up


@pytest.mark.parametrize(
    "params, box",
    [
        ({"width": 200, "height": 200}, (200, 200)),
        ({"width": 320}, (320, 0)),
        ({"height": 90}, (0, 90)),
        ({}, (120, 90)),  # no size: Kaltura's 120x90 box
        ({"width": 5000, "height": 5000}, (5000, 5000)),  # larger than the source: no enlarging
        ({"def_width": 640, "def_height": 480}, (640, 480)),
    ],
)
def test_type_1_keeps_the_aspect_ratio_and_never_scales_up(known, params, box):
    for role in ("landscape", "portrait", "small"):
        entry = known[role]
        expected = fit((entry["width"], entry["height"]), box)
        assert jpeg_size(thumb(entry, **params)) == expected, role
        assert jpeg_size(thumb(entry, type=1, **params)) == expected, role


def pixel(rows: list[bytes], x: int, y: int) -> tuple[int, int, int]:
    return tuple(rows[y][x * 3 : x * 3 + 3])


def test_type_2_fits_inside_the_box_and_pads_with_bgcolor(known):
    rows = png_rows(thumb(known["landscape"], width=200, height=200, type=2, bgcolor="ff0000", format="png"))
    assert (len(rows[0]) // 3, len(rows)) == (200, 200)
    # 1920x1080 in 200x200: 200x113 in the middle, 44 rows of padding above and 43 below.
    assert pixel(rows, 100, 2) == pixel(rows, 5, 197) == (255, 0, 0)
    assert pixel(rows, 100, 100) != (255, 0, 0)
    # bgcolor is a hexadecimal number: "f00" is 0x000f00, not #ff0000.
    rows = png_rows(thumb(known["portrait"], width=200, height=200, type=2, bgcolor="f00", format="png"))
    assert pixel(rows, 2, 100) == pixel(rows, 197, 100) == (0, 15, 0)
    assert pixel(rows, 100, 100) != (0, 15, 0)


def test_types_3_4_and_5_fill_the_box_differently(known):
    portrait = known["portrait"]
    center = png_rows(thumb(portrait, width=160, height=160, type=3, format="png"))
    top = png_rows(thumb(portrait, width=160, height=160, type=4, format="png"))
    stretched = png_rows(thumb(portrait, width=160, height=160, type=5, format="png"))
    assert len(center) == len(top) == len(stretched) == 160
    # Type 4 keeps the upper part: its first rows are the picture's top, close to the stretched
    # one's; type 3 keeps the middle, so its first rows come from further down (darker here).

    def distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
        return sum(abs(x - y) for x, y in zip(a, b, strict=True))

    assert sum(pixel(center, 4, 4)) < sum(pixel(top, 4, 4))
    assert distance(pixel(top, 4, 4), pixel(stretched, 4, 4)) < distance(pixel(center, 4, 4), pixel(stretched, 4, 4))
    assert top != center
    # A "!" in the size asks for type 5 (thumbnailAction L55-59).
    assert png_rows(thumb(portrait, width="160!", height=160, format="png")) == stretched


def test_width_and_height_alone_follow_the_type(known):
    landscape = known["landscape"]
    assert jpeg_size(thumb(landscape, width=90, type=3)) == (90, 90)  # one side: a square crop
    assert jpeg_size(thumb(landscape, width=0, height=0)) == (1920, 1080)  # 0x0: the picture itself


def test_quality_scales_the_jpeg_quantisation_like_libjpeg(known):
    landscape = known["landscape"]
    for quality, dc in ((10, 80), (50, 16), (95, 2), (100, 1)):
        # libjpeg's jpeg_quality_scaling of the standard luminance table's DC entry (16).
        assert jpeg_luma_dc_quantiser(thumb(landscape, width=320, height=180, quality=quality)) == dc
    low = thumb(landscape, width=320, height=180, quality=10)
    high = thumb(landscape, width=320, height=180, quality=95)
    assert len(high) > len(low)
    # 0 (or none) is ImageMagick's default quality, 92: 16 * (200 - 184) / 100 rounds to 3.
    assert jpeg_luma_dc_quantiser(thumb(landscape, width=320, height=180)) == 3


def test_vid_sec_shows_that_moment_of_a_video(known):
    landscape = known["landscape"]  # 100 seconds long
    plain = png_rows(thumb(landscape, width=400, height=225, format="png"))
    early = png_rows(thumb(landscape, width=400, height=225, vid_sec=10, format="png"))
    late = png_rows(thumb(landscape, width=400, height=225, vid_sec=75, format="png"))
    assert plain != early != late
    bottom = 224

    def played(rows: list[bytes]) -> float:
        lit = sum(1 for x in range(400) if pixel(rows, x, bottom) == (245, 245, 245))
        return lit / 400

    assert played(early) == pytest.approx(0.10, abs=0.03)
    assert played(late) == pytest.approx(0.75, abs=0.03)
    # A photo has no moments: vid_sec changes nothing.
    photo = known["photo"]
    assert thumb(photo, width=200, format="png") == thumb(photo, width=200, vid_sec=5, format="png")


def test_thumbnails_carry_cache_headers_and_answer_conditional_requests(known):
    url = known["landscape"]["url"] + "/width/120/height/90"
    first = get(url)
    cache = first.headers["Cache-Control"]
    assert "public" in cache and "max-age=3600" in cache
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    other = get(known["landscape"]["url"] + "/width/121/height/90")
    assert other.headers["ETag"] != first.headers["ETag"]


def test_thumbnail_of_unknown_entry_is_an_external_error(api, creds):
    pid = creds["partnerId"]
    response = get(f"{api.url}/p/{pid}/sp/{pid}00/thumbnail/entry_id/0_nosuchid/width/10")
    assert_external_error(response, 1)
    assert "requested entry not found" in response.headers["X-Kaltura-App"]


def test_bad_thumbnail_parameters_and_deleted_entries_are_external_errors(api, known, creds):
    landscape = known["landscape"]
    response = get(landscape["url"] + "/width/100/bgcolor/zz0000")
    assert_external_error(response, 25)
    assert response.headers["X-Kaltura-App"] == (
        "exiting on error 25 - wrong query attributes, bgcolor must be six hexadecimal characters"
    )
    admin = api.admin_ks(creds)
    assert api.call("media", "delete", ks=admin, entryId=landscape["id"]) is None
    response = get(landscape["url"] + "/width/100")
    assert_external_error(response, 9)
    assert "requested entry is deleted or rejected" in response.headers["X-Kaltura-App"]
    assert_external_error(get(f"{api.url}/p/999/sp/99900/thumbnail/entry_id/{landscape['id']}"), 1)


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
    # entry::getDataUrl: Kaltura's default image size parameters, type 1.
    assert "/def_height/480/def_width/640/" in image["dataUrl"] and image["dataUrl"].endswith("/type/1")
    data = get(image["dataUrl"])
    assert data.headers["Content-Type"] == "image/jpeg"
    scale = min(640 / image["width"], 480 / image["height"], 1.0)
    expected = (math.floor(image["width"] * scale + 0.5), math.floor(image["height"] * scale + 0.5))
    assert jpeg_size(data.content) == expected
