"""The sniffer on small real files made by the tests: formats of the allow-list, lying extensions,
refused formats, 360° evidence in JPEG/PNG/WebP/MP4/MOV/WebM, and files cut at the edges."""

from __future__ import annotations

import time

import pytest

from portal.uploads.sniff import (
    FORMATS,
    HEAD_BYTES,
    TAIL_BYTES,
    MediaType,
    Problem,
    SniffResult,
    Verdict360,
    sniff,
    wants_tail,
)
from tests.unit.uploads import media_files as m


def sniffed(name: str, data: bytes, *, tail: bool = True, head: int = HEAD_BYTES) -> SniffResult:
    """What the portal learns from the browser: the first bytes, and the last for ISO-BMFF files."""
    send_tail = tail and wants_tail(data[:head]) and len(data) > head
    return sniff(name, len(data), data[:head], data[-TAIL_BYTES:] if send_tail else b"")


def signals(result: SniffResult) -> dict[str, bool]:
    return {e.signal: e.strong for e in result.spherical.evidence}


# -- the allow-list ------------------------------------------------------------------------------

ORDINARY = [
    ("photo.jpg", lambda: m.jpeg(64, 48), "jpeg", MediaType.IMAGE, (64, 48)),
    ("progressive.jpeg", lambda: m.jpeg(40, 30, progressive=True, exif=True), "jpeg", MediaType.IMAGE, (40, 30)),
    ("icon.png", lambda: m.png(4, 3), "png", MediaType.IMAGE, (4, 3)),
    ("anim.gif", lambda: m.gif(3, 1), "gif", MediaType.IMAGE, (3, 1)),
    ("lossy.webp", lambda: m.WEBP_VP8_4X2, "webp", MediaType.IMAGE, (4, 2)),
    ("lossless.webp", lambda: m.WEBP_VP8L_1X1, "webp", MediaType.IMAGE, (1, 1)),
    ("scan.bmp", lambda: m.bmp(3, 5), "bmp", MediaType.IMAGE, (3, 5)),
    (
        "talk.mp4",
        lambda: m.mp4(m.video_trak(1920, 1080), m.trak(b"soun", m.audio_sample_entry())),
        "mp4",
        MediaType.VIDEO,
        (1920, 1080),
    ),
    (
        "iphone.mov",
        lambda: m.mp4(m.video_trak(1920, 1080), brand=b"qt  ", moov_first=False),
        "mov",
        MediaType.VIDEO,
        (1920, 1080),
    ),
    ("old.3gp", lambda: m.mp4(m.video_trak(176, 144), brand=b"3gp4"), "3gp", MediaType.VIDEO, (176, 144)),
    ("song.m4a", lambda: m.mp4(m.trak(b"soun", m.audio_sample_entry()), brand=b"M4A "), "m4a", MediaType.AUDIO, None),
    (
        "clip.webm",
        lambda: m.matroska(tracks=(m.matroska_video_track(1280, 720), m.matroska_audio_track())),
        "webm",
        MediaType.VIDEO,
        (1280, 720),
    ),
    ("film.mkv", lambda: m.matroska(doctype=b"matroska"), "mkv", MediaType.VIDEO, (1920, 1080)),
    ("old.avi", lambda: m.avi(640, 480), "avi", MediaType.VIDEO, (640, 480)),
    ("camera.mts", lambda: m.mpegts(m2ts=True), "mpegts", MediaType.VIDEO, None),
    ("broadcast.ts", lambda: m.mpegts(), "mpegts", MediaType.VIDEO, None),
    ("dvd.vob", lambda: m.mpeg_ps(), "mpeg", MediaType.VIDEO, None),
    ("theora.ogv", lambda: m.ogg("skeleton", "theora", "vorbis"), "ogg", MediaType.VIDEO, None),
    ("voice.opus", lambda: m.ogg("opus"), "ogg", MediaType.AUDIO, None),
    ("music.ogg", lambda: m.ogg("vorbis"), "ogg", MediaType.AUDIO, None),
    ("lossless.oga", lambda: m.ogg("flac"), "ogg", MediaType.AUDIO, None),
    ("tagged.mp3", lambda: m.mp3(), "mp3", MediaType.AUDIO, None),
    ("bare.mp3", lambda: m.mp3(id3=False), "mp3", MediaType.AUDIO, None),
    ("radio.aac", lambda: m.adts(), "aac", MediaType.AUDIO, None),
    ("take.wav", lambda: m.wav(), "wav", MediaType.AUDIO, None),
    ("long.wav", lambda: m.wav(rf64=True), "wav", MediaType.AUDIO, None),
    ("album.flac", lambda: m.flac(), "flac", MediaType.AUDIO, None),
    ("tagged.flac", lambda: m.flac(id3=True), "flac", MediaType.AUDIO, None),
    ("studio.aiff", lambda: m.aiff(), "aiff", MediaType.AUDIO, None),
    ("webm-audio.webm", lambda: m.matroska(tracks=(m.matroska_audio_track(),)), "webm", MediaType.AUDIO, None),
]


@pytest.mark.parametrize(("name", "make", "key", "media_type", "frame"), ORDINARY, ids=[row[0] for row in ORDINARY])
def test_ordinary_media_of_each_allowed_format(name, make, key, media_type, frame):
    result = sniffed(name, make())
    assert result.ok, result.message
    assert result.format is FORMATS[key]
    assert result.media_type is media_type
    assert not result.extension_conflict
    assert result.message is None
    if frame is not None:
        assert (result.width, result.height) == frame
    assert not result.spherical.pre_tick


def test_every_allowed_format_is_covered_by_an_ordinary_file():
    assert {row[2] for row in ORDINARY} == set(FORMATS)


def test_media_types_are_kalturas_numbers():
    assert (int(MediaType.VIDEO), int(MediaType.IMAGE), int(MediaType.AUDIO)) == (1, 2, 5)


def test_an_mp4_holding_only_sound_is_audio_whatever_its_brand():
    result = sniffed("interview.mp4", m.mp4(m.trak(b"soun", m.audio_sample_entry())))
    assert (result.format.key, result.media_type) == ("m4a", MediaType.AUDIO)
    assert not result.extension_conflict  # .mp4 and .m4a are the same container
    assert result.spherical.verdict is Verdict360.NO
    assert result.codecs == ("mp4a",)


def test_codecs_are_reported_from_the_container():
    result = sniffed("clip.webm", m.matroska(tracks=(m.matroska_video_track(640, 360), m.matroska_audio_track())))
    assert result.codecs == ("V_VP9", "A_OPUS")
    mp4 = sniffed("clip.mp4", m.mp4(m.video_trak(640, 360, codec=b"hvc1"), m.trak(b"soun", m.audio_sample_entry())))
    assert mp4.codecs == ("hvc1", "mp4a")


# -- refused and unknown -------------------------------------------------------------------------

REFUSED = [
    ("IMG_0001.heic", m.ftyp(b"heic", b"mif1", b"heic") + m.box(b"meta"), "heif", "HEIC/HEIF photo"),
    ("photo.avif", m.ftyp(b"avif", b"mif1", b"avif") + m.box(b"meta"), "avif", "AVIF image"),
    ("raw.cr3", m.ftyp(b"crx ", b"crx ", b"isom") + m.box(b"moov"), "cr3", "CR3"),
    ("scan.tif", b"II*\x00\x08\x00\x00\x00" + bytes(64), "tiff", "TIFF"),
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf", "PDF document"),
    ("slides.pptx", b"PK\x03\x04\x14\x00\x06\x00" + bytes(40), "zip", "ZIP archive"),
    ("old.wmv", bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + bytes(40), "asf", "Windows Media"),
    ("setup.exe", b"MZ\x90\x00" + bytes(60), "exe", "program"),
]


@pytest.mark.parametrize(("name", "data", "key", "label"), REFUSED, ids=[row[0] for row in REFUSED])
def test_recognised_formats_that_are_not_allowed_are_named_in_the_message(name, data, key, label):
    result = sniffed(name, data)
    assert result.problem is Problem.NOT_ALLOWED and not result.ok
    assert result.refused is not None and result.refused.key == key
    assert result.format is None and result.media_type is None
    assert name in result.message and label in result.message


def test_unknown_bytes_are_refused_with_the_list_of_what_is_accepted():
    result = sniffed("notes.txt", b"Just some text that is not media at all.\n" * 10)
    assert result.problem is Problem.UNKNOWN_TYPE
    assert "notes.txt is not an image, video or audio file" in result.message
    assert "JPEG" in result.message and "MP4" in result.message and "MP3" in result.message


def test_an_ogg_file_without_a_codec_we_know_is_unknown():
    assert sniffed("data.ogg", m.ogg("skeleton")).problem is Problem.UNKNOWN_TYPE


def test_one_mpeg_frame_header_followed_by_noise_is_not_an_mp3():
    data = b"\xff\xfb\x90\x64" + bytes(413) + b"noise" * 200
    assert sniffed("fake.mp3", data).problem is Problem.UNKNOWN_TYPE


def test_an_id3_tag_bigger_than_the_head_counts_as_mp3_or_aac_by_the_name():
    # Album art can make the tag megabytes long: the audio frames are beyond the bytes we get.
    tagged = m.id3_tag(bytes(1000), declared=2_000_000) + bytes(1000)
    size = 3_000_000
    assert sniff("song.mp3", size, tagged).format.key == "mp3"
    assert sniff("song.aac", size, tagged).format.key == "aac"
    # ...but a tag that claims to be the whole file has no audio at all.
    assert sniff("song.mp3", 2_000_010, tagged).problem is Problem.UNKNOWN_TYPE


def test_an_empty_file_is_refused():
    result = sniff("empty.mp4", 0, b"")
    assert result.problem is Problem.EMPTY
    assert result.message == "empty.mp4 is empty (0 bytes): choose the file again, or another file."


@pytest.mark.parametrize(
    ("size", "head", "tail"),
    [
        (10, b"x" * 11, b""),  # more first bytes than the file has
        (100, b"x" * 10, b"y" * 101),  # a tail longer than the file
        (100, b"", b""),  # no first bytes at all
        (-5, b"x", b""),
        (20, b"a" * 15, b"b" * 10),  # head and tail overlap but disagree
    ],
)
def test_bytes_that_do_not_fit_the_size_are_inconsistent(size, head, tail):
    result = sniff("clip.mp4", size, head, tail)
    assert result.problem is Problem.INCONSISTENT
    assert "choose the file again" in result.message


def test_overlapping_head_and_tail_that_agree_are_fine():
    data = m.mp4(m.video_trak(640, 480))
    assert sniff("small.mp4", len(data), data, data[-50:]).ok


# -- names and lying extensions ------------------------------------------------------------------

LIES = [
    ("holiday.png", lambda: m.jpeg(), "jpeg", "named like a PNG image but is really a JPEG image: rename it to .jpg"),
    ("song.mp3", lambda: m.wav(), "wav", "named like an MP3 audio but is really a WAV audio: rename it to .wav"),
    ("clip.webm", lambda: m.mp4(), "mp4", "named like a WebM but is really an MP4 video: rename it to .mp4"),
    ("video.dat", lambda: m.mp4(), "mp4", "named .dat but is really an MP4 video"),
    ("report.pdf", lambda: m.png(), "png", "named like a PDF document but is really a PNG image"),
]


@pytest.mark.parametrize(("name", "make", "key", "text"), LIES, ids=[row[0] for row in LIES])
def test_an_extension_that_contradicts_the_bytes_is_flagged(name, make, key, text):
    result = sniffed(name, make())
    assert result.format.key == key
    assert result.extension_conflict and not result.ok and result.problem is None
    assert text in result.message


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("IMG_1234.JPG", lambda: m.jpeg()),  # upper case
        ("photo", lambda: m.jpeg()),  # no extension: nothing to contradict
        ("GoPro clip.MOV", lambda: m.mp4()),  # an MP4 named .mov: same container
        ("voice memo.m4a", lambda: m.mp4(m.trak(b"soun", m.audio_sample_entry()))),
        ("insta360.insv", lambda: m.mp4()),
        ("pano.insp", lambda: m.jpeg(64, 32)),
        ("audio-only.mkv", lambda: m.matroska(tracks=(m.matroska_audio_track(),))),
        ("trailing dots.jpg. ", lambda: m.jpeg()),
    ],
)
def test_names_that_do_not_contradict(name, make):
    result = sniffed(name, make())
    assert not result.extension_conflict, result.message
    assert result.ok


def test_a_path_before_the_name_is_dropped():
    result = sniffed("C:\\Users\\pat\\Pictures\\beach.jpg", m.jpeg())
    assert (result.name, result.extension) == ("beach.jpg", "jpg")
    assert sniffed("../../etc/passwd.png", m.png()).name == "passwd.png"


def test_the_canonical_extension_names_what_kaltura_infers_from():
    assert sniffed("pano.insp", m.jpeg()).format.extension == "jpg"
    assert sniffed("x.mts", m.mpegts()).format.extension == "mts"


# -- 360°: photos --------------------------------------------------------------------------------


def test_a_jpeg_with_photo_sphere_xmp_is_360_and_pre_ticked():
    result = sniffed("sphere.jpg", m.jpeg(64, 32, xmp=m.photo_sphere_xmp(64, 32), exif=True))
    assert result.ok and result.media_type is MediaType.IMAGE
    assert result.spherical.verdict is Verdict360.YES and result.spherical.pre_tick
    gpano = next(e for e in result.spherical.evidence if e.signal == "gpano")
    assert gpano.strong
    assert gpano.detail == 'XMP in the JPEG: GPano:ProjectionType="equirectangular"'


def test_gpano_written_as_elements_and_with_another_prefix_is_read_by_namespace():
    elements = m.xmp_packet({"ProjectionType": "equirectangular"}, as_elements=True, prefix="pano")
    result = sniffed("sphere.jpg", m.jpeg(64, 48, xmp=elements))
    assert result.spherical.verdict is Verdict360.YES
    # A property of another namespace with the same local name says nothing.
    other = elements.replace(m.GPANO_NS.encode(), b"http://example.com/not-gpano/")
    assert sniffed("x.jpg", m.jpeg(64, 48, xmp=other)).spherical.verdict is Verdict360.NO


def test_a_partial_panorama_is_a_hint_not_a_tick():
    xmp = m.photo_sphere_xmp(64, 32, FullPanoWidthPixels="128", FullPanoHeightPixels="64")
    result = sniffed("half.jpg", m.jpeg(64, 32, xmp=xmp))
    assert result.spherical.verdict is Verdict360.MAYBE and not result.spherical.pre_tick
    assert signals(result)["gpano"] is False
    assert "partial panorama covering 180° of 360°" in result.spherical.evidence[0].detail


def test_another_projection_is_a_hint():
    xmp = m.xmp_packet({"ProjectionType": "cylindrical"})
    result = sniffed("cyl.jpg", m.jpeg(64, 48, xmp=xmp))
    assert result.spherical.verdict is Verdict360.MAYBE
    assert "cylindrical" in result.spherical.evidence[0].detail


def test_a_two_to_one_photo_without_metadata_only_looks_like_360():
    result = sniffed("wide.jpg", m.jpeg(128, 64))
    assert result.spherical.verdict is Verdict360.MAYBE and not result.spherical.pre_tick
    assert signals(result) == {"aspect-ratio": False}
    assert "128×64" in result.spherical.evidence[0].detail


def test_an_ordinary_photo_is_clearly_not_360():
    result = sniffed("photo.jpg", m.jpeg(64, 48))
    assert result.spherical.verdict is Verdict360.NO and result.spherical.evidence == ()


def test_xmp_with_a_dtd_is_never_parsed():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "equirectangular">'
        + b"".join(f'<!ENTITY a{i} "&a{i - 1 if i else ""};&a{i - 1 if i else ""};">'.encode() for i in range(30))
        + b']><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        + f'<rdf:Description xmlns:GPano="{m.GPANO_NS}" GPano:ProjectionType="&a;"/>'.encode()
        + b"</rdf:RDF></x:xmpmeta>"
    )
    started = time.process_time()
    result = sniffed("bomb.jpg", m.jpeg(64, 48, xmp=bomb))
    assert time.process_time() - started < 5  # a guard against expansion, not a timing assertion
    assert result.ok and result.spherical.verdict is Verdict360.NO


def test_broken_xmp_is_ignored():
    result = sniffed("x.jpg", m.jpeg(64, 48, xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><unclosed'))
    assert result.ok and result.spherical.verdict is Verdict360.NO


@pytest.mark.parametrize("compress", [False, True])
def test_a_png_with_photo_sphere_xmp_is_360(compress):
    result = sniffed("sphere.png", m.png(8, 4, xmp=m.photo_sphere_xmp(8, 4), compress_xmp=compress))
    assert result.spherical.verdict is Verdict360.YES
    assert signals(result)["gpano"] is True


def test_a_webp_with_photo_sphere_xmp_is_360():
    result = sniffed("sphere.webp", m.webp_extended(xmp=m.photo_sphere_xmp(4, 2)))
    assert result.ok and (result.width, result.height) == (4, 2)
    assert result.spherical.verdict is Verdict360.YES


def test_a_webp_whose_xmp_is_beyond_the_head_asks_for_it():
    data = m.webp_extended(xmp=m.photo_sphere_xmp(4, 2))
    xmp_at = data.index(b"XMP ")
    first = sniff("sphere.webp", len(data), data[:xmp_at])
    assert first.spherical.verdict is Verdict360.MAYBE  # only the 2:1 frame so far
    assert first.wanted == (xmp_at, len(data))
    start, end = first.wanted
    second = sniff("sphere.webp", len(data), data[:xmp_at], extra=[(start, data[start:end])])
    assert second.spherical.verdict is Verdict360.YES and second.wanted is None


# -- 360°: MP4 / MOV -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("projection", "word"), [(b"equi", "equirectangular"), (b"cbmp", "cubemap"), (b"mshp", "mesh")]
)
def test_spherical_video_v2_sv3d_is_360(projection, word):
    data = m.mp4(m.video_trak(3840, 1920, children=m.sv3d(projection)))
    result = sniffed("vr.mp4", data)
    assert result.spherical.verdict is Verdict360.YES and result.spherical.pre_tick
    sv3d = next(e for e in result.spherical.evidence if e.signal == "sv3d")
    assert sv3d.strong and word in sv3d.detail


def test_sv3d_without_a_projection_box_still_says_spherical():
    result = sniffed("vr.mp4", m.mp4(m.video_trak(1920, 1080, children=m.sv3d(with_proj=False))))
    assert result.spherical.verdict is Verdict360.YES


def test_vr180_bounds_make_sv3d_a_hint():
    quarter = 1 << 30  # 0.25 of the frame cropped on each side: 180° of 360°
    data = m.mp4(m.video_trak(3840, 1920, children=m.sv3d(bounds=(0, 0, quarter, quarter)) + m.st3d(2)))
    result = sniffed("vr180.mp4", data)
    assert result.spherical.verdict is Verdict360.MAYBE
    assert signals(result) == {"sv3d": False, "st3d": False, "aspect-ratio": False}
    assert "covering 180°" in result.spherical.evidence[0].detail
    assert "left-right" in result.spherical.evidence[1].detail


def test_st3d_alone_is_stereo_not_360():
    result = sniffed("3d-movie.mp4", m.mp4(m.video_trak(1920, 1080, children=m.st3d(1))))
    assert result.spherical.verdict is Verdict360.NO
    assert signals(result) == {"st3d": False}
    assert "top-bottom" in result.spherical.evidence[0].detail


def test_st3d_beside_sv3d_in_an_hevc_entry():
    children = m.st3d(1) + m.sv3d()
    result = sniffed("vr.mov", m.mp4(m.video_trak(5760, 5760, codec=b"hvc1", children=children), brand=b"qt  "))
    assert result.format.key == "mov"
    assert result.spherical.verdict is Verdict360.YES
    assert signals(result) == {"st3d": False, "sv3d": True}


def test_spherical_video_v1_uuid_box_in_the_track_is_360():
    v1 = m.uuid_box(m.SPHERICAL_V1_UUID, m.spherical_v1_xml())
    result = sniffed("v1.mp4", m.mp4(m.video_trak(1920, 1080, extra=v1)))
    assert result.spherical.verdict is Verdict360.YES
    evidence = result.spherical.evidence[0]
    assert evidence.signal == "spherical-uuid" and evidence.strong
    assert "GSpherical:Spherical with an equirectangular projection" in evidence.detail


def test_a_v1_uuid_box_saying_not_spherical_is_no_evidence():
    v1 = m.uuid_box(m.SPHERICAL_V1_UUID, m.spherical_v1_xml(spherical="false"))
    result = sniffed("flat.mp4", m.mp4(m.video_trak(1920, 1080, extra=v1)))
    assert result.spherical.verdict is Verdict360.NO and result.spherical.evidence == ()


def test_a_cropped_v1_video_is_a_hint():
    crop = (
        "<GSpherical:CroppedAreaImageWidthPixels>1920</GSpherical:CroppedAreaImageWidthPixels>"
        "<GSpherical:FullPanoWidthPixels>3840</GSpherical:FullPanoWidthPixels>"
    )
    v1 = m.uuid_box(m.SPHERICAL_V1_UUID, m.spherical_v1_xml(extra=crop))
    result = sniffed("half.mp4", m.mp4(m.video_trak(1920, 1920, extra=v1)))
    assert result.spherical.verdict is Verdict360.MAYBE
    assert "180° of 360°" in result.spherical.evidence[0].detail


def test_v1_uuid_box_at_the_top_level_and_in_the_movie_header():
    v1 = m.uuid_box(m.SPHERICAL_V1_UUID, m.spherical_v1_xml())
    assert sniffed("a.mp4", m.mp4(top_extra=v1)).spherical.verdict is Verdict360.YES
    assert sniffed("b.mp4", m.mp4(moov_extra=v1)).spherical.verdict is Verdict360.YES


def test_an_xmp_uuid_box_with_gpano_in_a_movie():
    xmp = m.uuid_box(m.XMP_UUID, m.photo_sphere_xmp(3840, 1920))
    assert sniffed("x.mp4", m.mp4(top_extra=xmp)).spherical.verdict is Verdict360.YES


def test_the_frame_comes_from_tkhd_version_1_too():
    track = m.trak(b"vide", m.visual_sample_entry(b"avc1", 10, 10), width=4096, height=2048, tkhd_version=1)
    result = sniffed("v1header.mp4", m.mp4(track))
    assert (result.width, result.height) == (4096, 2048)
    assert result.spherical.verdict is Verdict360.MAYBE


def test_the_sample_entry_frame_is_used_when_tkhd_has_none():
    track = m.trak(b"vide", m.visual_sample_entry(b"avc1", 3000, 1500))
    result = sniffed("notkhd.mp4", m.mp4(track))
    assert (result.width, result.height) == (3000, 1500)


def test_a_camera_file_with_moov_after_a_64_bit_mdat_is_read_from_the_tail():
    data = m.mp4(
        m.video_trak(5760, 2880, children=m.sv3d()),
        brand=b"qt  ",
        moov_first=False,
        mdat_size=HEAD_BYTES * 3,
        large_mdat=True,
    )
    result = sniffed("VID_0001.MOV", data)
    assert result.format.key == "mov" and result.media_type is MediaType.VIDEO
    assert (result.width, result.height) == (5760, 2880)
    assert result.spherical.verdict is Verdict360.YES and result.wanted is None


def test_without_the_tail_the_moov_range_is_wanted_and_then_read():
    data = m.mp4(m.video_trak(5760, 2880, children=m.sv3d()), moov_first=False, mdat_size=HEAD_BYTES * 2)
    moov_at = data.rindex(b"moov") - 4
    first = sniffed("VID.mp4", data, tail=False)
    assert first.format.key == "mp4" and first.media_type is MediaType.VIDEO
    assert first.spherical.verdict is Verdict360.UNKNOWN  # not NO: the metadata was not seen
    assert first.wanted == (moov_at, len(data))
    start, end = first.wanted
    second = sniff("VID.mp4", len(data), data[:HEAD_BYTES], extra=[(start, data[start:end])])
    assert second.spherical.verdict is Verdict360.YES and second.wanted is None


def test_a_moov_bigger_than_the_head_is_walked_as_far_as_it_goes():
    padding = m.box(b"udta", bytes(HEAD_BYTES))  # after the tracks: the head ends inside it
    data = m.mp4(m.video_trak(3840, 1920, children=m.sv3d()), moov_extra=padding, mdat_size=100)
    moov_at = data.index(b"moov") - 4
    result = sniff("fast-start.mp4", len(data), data[:HEAD_BYTES])
    assert result.spherical.verdict is Verdict360.YES  # the video track came first
    assert result.wanted == (moov_at, moov_at + int.from_bytes(data[moov_at : moov_at + 4], "big"))


def test_a_final_mdat_with_size_zero_runs_to_the_end_of_the_file():
    data = m.ftyp() + m.moov(m.video_trak(1280, 720)) + b"\x00\x00\x00\x00mdat" + bytes(5000)
    result = sniffed("zero.mp4", data)
    assert result.ok and (result.width, result.height) == (1280, 720) and result.wanted is None


def test_a_file_cut_inside_the_moov_never_raises():
    data = m.mp4(m.video_trak(3840, 1920, children=m.sv3d()), mdat_size=10)
    for cut in range(9, len(data)):
        result = sniff("cut.mp4", cut, data[:cut])
        assert result.format is not None and result.format.key == "mp4", cut


# -- 360°: Matroska / WebM -----------------------------------------------------------------------


def test_a_webm_with_an_equirectangular_projection_is_360():
    track = m.matroska_video_track(3840, 2160, projection=m.matroska_projection(1))
    result = sniffed("vr.webm", m.matroska(tracks=(track, m.matroska_audio_track())))
    assert result.spherical.verdict is Verdict360.YES
    assert signals(result) == {"matroska-projection": True}


def test_matroska_cubemap_is_360_and_cropped_equirectangular_is_a_hint():
    cubemap = m.matroska_video_track(3000, 2000, projection=m.matroska_projection(2))
    assert sniffed("c.mkv", m.matroska(doctype=b"matroska", tracks=(cubemap,))).spherical.verdict is Verdict360.YES
    half = m.matroska_video_track(2000, 2000, projection=m.matroska_projection(1, (0, 0, 1 << 30, 1 << 30)))
    result = sniffed("h.webm", m.matroska(tracks=(half,)))
    assert result.spherical.verdict is Verdict360.MAYBE
    assert "covering 180°" in result.spherical.evidence[0].detail


def test_matroska_stereo_mode_alone_is_not_360():
    track = m.matroska_video_track(1920, 1080, stereo=1)
    result = sniffed("3d.mkv", m.matroska(doctype=b"matroska", tracks=(track,)))
    assert result.spherical.verdict is Verdict360.NO and signals(result) == {"st3d": False}


def test_a_live_webm_with_an_unknown_segment_size():
    track = m.matroska_video_track(3840, 1920, projection=m.matroska_projection(1))
    result = sniffed("live.webm", m.matroska(tracks=(track,), unknown_segment=True))
    assert result.ok and result.spherical.verdict is Verdict360.YES


def test_a_matroska_file_with_another_doctype_is_unknown():
    assert sniffed("x.mkv", m.matroska(doctype=b"notmkv")).problem is Problem.UNKNOWN_TYPE


# -- the verdict for other media -----------------------------------------------------------------


def test_audio_is_clearly_not_360_and_streams_without_a_frame_are_unknown():
    assert sniffed("a.mp3", m.mp3()).spherical.verdict is Verdict360.NO
    assert sniffed("a.ts", m.mpegts()).spherical.verdict is Verdict360.UNKNOWN


def test_the_result_says_what_the_ui_needs_in_one_place():
    result = sniffed("sphere.jpg", m.jpeg(64, 32, xmp=m.photo_sphere_xmp(64, 32)))
    assert (result.format.mime, result.format.extension, int(result.media_type)) == ("image/jpeg", "jpg", 2)
    assert (
        result.spherical.pre_tick
        and result.message is None
        and result.size == len(m.jpeg(64, 32, xmp=m.photo_sphere_xmp(64, 32)))
    )


def test_the_tail_is_wanted_for_iso_bmff_files_only():
    assert wants_tail(m.mp4()) and wants_tail(m.mp4(brand=b"qt  ")) and wants_tail(m.box(b"wide") + m.box(b"mdat"))
    assert not wants_tail(m.jpeg()) and not wants_tail(m.matroska()) and not wants_tail(b"\x00\x00")
