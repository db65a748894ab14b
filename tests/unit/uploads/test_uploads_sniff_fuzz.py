"""Hostile input never makes the sniffer raise: random bytes, random sizes and names, real files
cut, flipped and with their length fields rewritten, and random box and element trees."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.uploads.sniff import FORMATS, REFUSED, MediaType, SniffResult, Verdict360, sniff
from tests.unit.uploads import media_files as m

SAMPLES = [
    m.jpeg(64, 32, xmp=m.photo_sphere_xmp(64, 32), exif=True),
    m.png(8, 4, xmp=m.photo_sphere_xmp(8, 4), compress_xmp=True),
    m.webp_extended(xmp=m.photo_sphere_xmp(4, 2)),
    m.gif(),
    m.bmp(),
    m.mp4(
        m.video_trak(
            3840, 1920, children=m.st3d(1) + m.sv3d(), extra=m.uuid_box(m.SPHERICAL_V1_UUID, m.spherical_v1_xml())
        ),
        m.trak(b"soun", m.audio_sample_entry()),
        moov_first=False,
        large_mdat=True,
        top_extra=m.uuid_box(m.XMP_UUID, m.photo_sphere_xmp(10, 5)),
    ),
    m.matroska(
        tracks=(
            m.matroska_video_track(3840, 1920, projection=m.matroska_projection(1, (0, 0, 5, 5))),
            m.matroska_audio_track(),
        )
    ),
    m.avi(),
    m.wav(),
    m.aiff(),
    m.flac(id3=True),
    m.mp3(),
    m.adts(),
    m.ogg("skeleton", "theora", "vorbis"),
    m.mpegts(m2ts=True),
    m.mpeg_ps(),
]

NAMES = st.sampled_from(["a.jpg", "a.mp4", "a.mov", "x", ".hidden", "a.b.c.webm", "a." + "x" * 50, "", "a/b\\c.mp3"])


def well_formed(result: SniffResult) -> None:
    """Whatever came in, the answer is one of the documented shapes."""
    assert isinstance(result, SniffResult)
    assert result.format is None or result.format in FORMATS.values()
    assert result.refused is None or result.refused in REFUSED.values()
    assert (result.format is None) == (result.media_type is None)
    assert result.media_type is None or isinstance(result.media_type, MediaType)
    assert isinstance(result.spherical.verdict, Verdict360)
    if result.wanted is not None:
        start, end = result.wanted
        assert 0 <= start < end <= result.size
    assert result.ok or result.message


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=0, max_value=1 << 40), NAMES)
def test_random_bytes_never_raise(head: bytes, extra_size: int, name: str) -> None:
    well_formed(sniff(name, len(head) + extra_size, head))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.binary(max_size=2048), st.integers(min_value=-10, max_value=10_000), NAMES)
def test_random_heads_tails_and_sizes_never_raise(head: bytes, tail: bytes, size: int, name: str) -> None:
    well_formed(sniff(name, size, head, tail))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    st.integers(min_value=1),
)
def test_real_files_with_flipped_bytes_and_cuts_never_raise(data: bytes, flips, cut: int) -> None:
    mutable = bytearray(data)
    for where, value in flips:
        mutable[where % len(mutable)] = value
    mutated = bytes(mutable[: 1 + cut % len(mutable)])
    well_formed(sniff("f.bin", len(mutated), mutated))
    well_formed(sniff("f.bin", len(mutated) * 3, mutated[: len(mutated) // 2], mutated[len(mutated) // 2 :]))


LENGTHS = st.sampled_from([0, 1, 2, 7, 8, 9, 15, 16, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF]) | st.integers(
    min_value=0, max_value=1 << 64 - 1
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(min_value=0), LENGTHS), min_size=1, max_size=6))
def test_length_fields_rewritten_to_hostile_values_never_raise(data: bytes, rewrites) -> None:
    """Overwrite 4 or 8 bytes wherever a box, chunk or segment length might be."""
    mutable = bytearray(data)
    for where, value in rewrites:
        at = where % max(1, len(mutable) - 8)
        mutable[at : at + 8] = struct.pack(">Q", value % (1 << 64))
    mutated = bytes(mutable)
    well_formed(sniff("f.mp4", len(mutated), mutated))
    well_formed(sniff("f.mp4", len(mutated) + 10_000_000, mutated, mutated[-64:]))


BOX_TYPES = st.sampled_from(
    [
        b"moov",
        b"trak",
        b"mdia",
        b"minf",
        b"stbl",
        b"stsd",
        b"avc1",
        b"hvc1",
        b"sv3d",
        b"proj",
        b"equi",
        b"st3d",
        b"uuid",
        b"tkhd",
        b"hdlr",
        b"mdat",
        b"free",
        b"ftyp",
    ]
)


@st.composite
def box_trees(draw, depth: int = 0) -> bytes:
    """Random nested boxes whose sizes are sometimes honest and sometimes not."""
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=4 if depth < 5 else 0))):
        kind = draw(BOX_TYPES)
        body = draw(box_trees(depth + 1)) if depth < 6 and draw(st.booleans()) else draw(st.binary(max_size=120))
        if kind == b"uuid":
            body = draw(st.sampled_from([m.SPHERICAL_V1_UUID, m.XMP_UUID, bytes(16)])) + body
        honest = 8 + len(body)
        size = draw(st.sampled_from([honest, honest, 0, 1, 3, honest + 5, max(0, honest - 3), 0xFFFFFFFF]))
        if size == 1:
            parts.append(
                struct.pack(">I", 1)
                + kind
                + struct.pack(">Q", draw(st.sampled_from([16 + len(body), 0, 7, 1 << 63])))
                + body
            )
        else:
            parts.append(struct.pack(">I", size) + kind + body)
    return b"".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(box_trees(), st.integers(min_value=0, max_value=1 << 33))
def test_random_box_trees_never_raise(tree: bytes, gap: int) -> None:
    data = m.ftyp() + tree
    well_formed(sniff("t.mp4", len(data), data))
    well_formed(sniff("t.mp4", len(data) + gap, data, data[-100:]))


@st.composite
def ebml_trees(draw, depth: int = 0) -> bytes:
    ids = st.sampled_from(
        [0x18538067, 0x1654AE6B, 0xAE, 0x83, 0xE0, 0xB0, 0xBA, 0x7670, 0x7671, 0x7672, 0x53B8, 0x86, 0x1F43B675, 0xEC]
    )
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=3 if depth < 5 else 0))):
        body = draw(ebml_trees(depth + 1)) if draw(st.booleans()) else draw(st.binary(max_size=40))
        parts.append(m.element(draw(ids), body, unknown_size=draw(st.booleans()) and depth < 2))
    return b"".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ebml_trees(), st.sampled_from([b"webm", b"matroska"]))
def test_random_ebml_trees_never_raise(tree: bytes, doctype: bytes) -> None:
    header = m.element(0x1A45DFA3, m.element(0x4282, doctype))
    data = header + tree
    result = sniff("t.webm", len(data), data)
    well_formed(result)
    assert result.format is not None  # the EBML header alone decides the format


def test_deeply_nested_xml_does_not_raise():
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    jpeg = m.jpeg(64, 48, xmp=deep[:65_000])
    well_formed(sniff("deep.jpg", len(jpeg), jpeg))
    v1 = m.uuid_box(m.SPHERICAL_V1_UUID, deep)
    data = m.mp4(m.video_trak(1920, 1080, extra=v1))
    result = sniff("deep.mp4", len(data), data)
    well_formed(result)
    assert result.spherical.verdict is Verdict360.NO


def test_many_tiny_boxes_are_walked_within_the_budget():
    data = m.ftyp() + m.box(b"moov", m.box(b"free") * 200_000)
    result = sniff("many.mp4", len(data), data[: 256 * 1024], data[-1024 * 1024 :])
    well_formed(result)
    assert result.format.key == "mp4"
