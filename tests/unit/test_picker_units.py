"""The picker's pure parts: Kaltura search syntax, list parameters, URLs, origins, controls, paging."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.embed.origins import canonical_origin, same_origin
from portal.embed.picker import Browse, BrowseResult, format_duration, parse_browse
from portal.kaltura.media import (
    FlavorAsset,
    MediaQuery,
    free_text_for,
    media_origins,
    playback_url,
    preview_flavor,
    thumbnail_srcset,
    thumbnail_url,
)
from portal.kaltura.types import EntryStatus, MediaType
from portal.validation import FieldError


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("dro", "dro*"),  # the word being typed: a prefix once it has three characters
        ("dr", "dr"),  # shorter: a whole word (Kaltura cannot prefix-match two characters)
        ("harbour dro", "harbour dro*"),  # earlier words are whole words, ANDed
        ("harbour drone ", "harbour drone"),  # a trailing space ends the word: whole word
        ("harbour drone,", "harbour drone"),
        ('"drone" (x*)|y@z,w', "drone x y z w"),  # Kaltura's operators never reach it
        ("  ", None),
        ("*,|@()-", None),
        ("Ünïcödé ca", "Ünïcödé ca"),
        ("0_ab12cd34", "0_ab12cd34*"),
    ],
)
def test_free_text_for(typed, sent):  # type: ignore[no-untyped-def]
    assert free_text_for(typed) == sent


@given(st.text(max_size=300))
def test_free_text_never_carries_kaltura_operators(typed: str) -> None:
    sent = free_text_for(typed)
    if sent is not None:
        assert re.fullmatch(r"(\w+\*? )*\w+\*?", sent)
        assert sent.count("*") <= 1 and len(sent.split()) <= 12


def test_media_query_params_are_one_media_list() -> None:
    query = MediaQuery(free_text="dro*", media_types=(MediaType.VIDEO, MediaType.IMAGE), tag="360", owner="pat", page=3)
    assert query.params() == {
        "filter": {
            "objectType": "KalturaMediaEntryFilter",
            "orderBy": "-createdAt",
            "statusIn": ",".join(
                str(int(s))
                for s in (EntryStatus.IMPORT, EntryStatus.PRECONVERT, EntryStatus.READY, EntryStatus.PENDING)
            ),
            "mediaTypeIn": "1,2",
            "freeText": "dro*",
            "tagsLike": "360",
            "userIdEqual": "pat",
        },
        "pager": {"objectType": "KalturaFilterPager", "pageSize": 24, "pageIndex": 3},
        "responseProfile": query.params()["responseProfile"],
    }
    assert query.params()["responseProfile"]["type"] == 1
    assert not MediaQuery(page=417).beyond_window and MediaQuery(page=418).beyond_window


def test_thumbnails_and_playback_urls() -> None:
    base = "https://cfvod.kaltura.com/p/27017/sp/2701700/thumbnail/entry_id/1_9vga7lbm/version/100001"
    assert thumbnail_url(base, 360, 203) == f"{base}/width/360/height/203/type/3"
    assert (
        thumbnail_srcset(base, (240, 480))
        == f"{base}/width/240/height/135/type/3 240w, {base}/width/480/height/270/type/3 480w"
    )
    assert thumbnail_url(None, 1, 1) is None
    url = playback_url("https://www.kaltura.com", 27017, "1_9vga7lbm", "1_flav0001", "djJ8a/b+c=", "mp4")
    assert url == (
        "https://www.kaltura.com/p/27017/sp/2701700/playManifest/entryId/1_9vga7lbm/flavorIds/1_flav0001"
        "/format/url/protocol/https/ks/djJ8a%2Fb%2Bc%3D/a.mp4"
    )
    assert media_origins("https://www.kaltura.com") == ["https://www.kaltura.com", "https://*.kaltura.com"]
    assert media_origins("http://127.0.0.1:9101") == ["http://127.0.0.1:9101"]
    assert media_origins(None) == []


def test_the_preview_plays_a_modest_ready_web_flavor() -> None:
    def flavor(fid, height, status=2, web=True):  # type: ignore[no-untyped-def]
        return FlavorAsset(
            id=fid, entry_id="e", flavor_params_id=1, status=status, height=height, is_web=web, bitrate=height
        )

    assert (
        preview_flavor([flavor("a", 360), flavor("b", 720), flavor("c", 2160), flavor("d", 1080, web=False)]).id == "b"
    )
    assert preview_flavor([flavor("c", 2160), flavor("e", 1440)]).id == "e"
    assert preview_flavor([flavor("a", 360, status=1)]) is None


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("https://LMS.example.org", "https://lms.example.org"),
        ("https://lms.example.org:443", "https://lms.example.org"),
        ("https://lms.example.org/", "https://lms.example.org"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://lms.example.org.", "https://lms.example.org"),
    ],
)
def test_canonical_origins(raw, canonical):  # type: ignore[no-untyped-def]
    assert canonical_origin(raw) == canonical
    assert same_origin(raw, canonical)


@given(st.text(max_size=80))
def test_an_accepted_origin_is_exact_and_stable(raw: str) -> None:
    try:
        origin = canonical_origin(raw)
    except FieldError:
        return
    assert re.fullmatch(r"https?://[a-z0-9.\-\[\]:]+", origin)
    assert canonical_origin(origin) == origin


def test_browse_controls() -> None:
    assert parse_browse({}) == Browse()
    assert parse_browse(
        {"q": "x", "type": "360", "owner": "mine", "sort": "name_desc", "page": "4", "size": "9999"}
    ) == Browse(q="x", type="360", owner="mine", sort="name_desc", page=4)
    with pytest.raises(FieldError) as refused:
        parse_browse({"type": "<script>"})
    assert refused.value.field == "type"
    assert Browse(q="x", page=3).args(page=1) == {"q": "x"}


def test_page_links_show_the_ends_and_a_window() -> None:
    result = BrowseResult(Browse(page=6), total=20 * 24)
    assert result.last_page == 20
    assert result.page_links() == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert BrowseResult(Browse(page=1), total=50).page_links() == [1, 2, 3]
    huge = BrowseResult(Browse(page=417), total=250_000)
    assert huge.last_page == 417 and huge.window_limited


def test_durations() -> None:
    assert format_duration(5) == "0:05" and format_duration(754) == "12:34" and format_duration(3725) == "1:02:05"
    assert format_duration(None) is None
