"""Small, structurally valid media files made in the test itself, for the sniffer's tests.

Each builder writes the real container format with the standard library only (no encoder is a
dependency of the project): JPEG with real Huffman-coded scans, PNG with zlib and CRCs, Ogg pages
with their CRC, ISO-BMFF boxes, EBML elements, RIFF chunks. The images decode in real decoders
(checked once with Pillow when they were written); the sniffer only needs their headers, so the
audio and video payloads are silence or zeros.
"""

from __future__ import annotations

import struct
import zlib

# -- XMP -----------------------------------------------------------------------------------------

GPANO_NS = "http://ns.google.com/photos/1.0/panorama/"
XMP_JPEG_ID = b"http://ns.adobe.com/xap/1.0/\x00"


def xmp_packet(properties: dict[str, str], *, as_elements: bool = False, prefix: str = "GPano") -> bytes:
    """An XMP packet with ``properties`` in the GPano namespace (as attributes or elements)."""
    if as_elements:
        inner = "".join(f"<{prefix}:{k}>{v}</{prefix}:{k}>" for k, v in properties.items())
        description = f'<rdf:Description rdf:about="" xmlns:{prefix}="{GPANO_NS}">{inner}</rdf:Description>'
    else:
        attrs = " ".join(f'{prefix}:{k}="{v}"' for k, v in properties.items())
        description = f'<rdf:Description rdf:about="" xmlns:{prefix}="{GPANO_NS}" {attrs}/>'
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="tests">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{description}</rdf:RDF></x:xmpmeta>" + " " * 64 + '<?xpacket end="w"?>'
    ).encode()


def photo_sphere_xmp(width: int, height: int, **overrides: str) -> bytes:
    """The GPano XMP a Photo Sphere camera writes for a full equirectangular image."""
    props = {
        "UsePanoramaViewer": "True",
        "ProjectionType": "equirectangular",
        "CroppedAreaImageWidthPixels": str(width),
        "CroppedAreaImageHeightPixels": str(height),
        "FullPanoWidthPixels": str(width),
        "FullPanoHeightPixels": str(height),
        "CroppedAreaLeftPixels": "0",
        "CroppedAreaTopPixels": "0",
    }
    props.update(overrides)
    return xmp_packet(props)


# -- JPEG ----------------------------------------------------------------------------------------


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def jpeg(
    width: int = 16, height: int = 8, *, xmp: bytes | None = None, exif: bool = False, progressive: bool = False
) -> bytes:
    """A grey baseline (or progressive-marked) JPEG that decodes: every 8×8 block is DC 0, EOB.

    Huffman tables hold just the codes used, with the standard luminance code lengths: DC
    category 0 is ``00`` and the AC end-of-block is ``1010``.
    """
    parts = [b"\xff\xd8", _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    if exif:
        parts.append(_segment(0xE1, b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00" + bytes(64)))
    if xmp is not None:
        parts.append(_segment(0xE1, XMP_JPEG_ID + xmp))
    parts.append(_segment(0xDB, b"\x00" + bytes([1]) * 64))  # quantisation table 0, all ones
    sof = 0xC2 if progressive else 0xC0
    parts.append(_segment(sof, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"))
    dc_counts = bytes([0, 1] + [0] * 14)
    ac_counts = bytes([0, 2, 1, 1] + [0] * 12)
    parts.append(_segment(0xC4, b"\x00" + dc_counts + b"\x00" + b"\x10" + ac_counts + b"\x01\x02\x03\x00"))
    if progressive:
        # A DC-first scan is enough for the header walk; the file is not meant to be decoded.
        parts.append(_segment(0xDA, b"\x01\x01\x00\x00\x00\x00"))
    else:
        parts.append(_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"))
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = "001010" * blocks
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)).replace(b"\xff", b"\xff\x00")
    parts += [scan, b"\xff\xd9"]
    return b"".join(parts)


# -- PNG, GIF, WebP, BMP -------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 4, height: int = 2, *, xmp: bytes | None = None, compress_xmp: bool = False) -> bytes:
    """An 8-bit RGB PNG (zlib IDAT, CRCs), with an optional iTXt XMP chunk before the data."""
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if xmp is not None:
        text = zlib.compress(xmp) if compress_xmp else xmp
        flag = b"\x01\x00" if compress_xmp else b"\x00\x00"
        chunks.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00" + flag + b"\x00\x00" + text))
    rows = b"".join(b"\x00" + b"\x20\x60\xa0" * width for _ in range(height))
    chunks += [_png_chunk(b"IDAT", zlib.compress(rows)), _png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def gif(width: int = 3, height: int = 1) -> bytes:
    """A GIF89a whose logical screen is ``width``×``height`` with one 1×1 image (LZW-coded)."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\xff\xff\xff\x00\x00\x00"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b"\x3b"


# Made once with Pillow 13 (lossy, quality 50, 4×2 red) and kept as bytes: no WebP encoder is a
# dependency, and writing a VP8 bitstream by hand is not what these tests are about.
WEBP_VP8_4X2 = bytes.fromhex(
    "524946463600000057454250565038202a0000009001009d012a0400020002c04c25a00274ba00039800feed903f885dec6dbffcf4cfeb6fe3ff19000000"
)
# Pillow 13, lossless, 1×1.
WEBP_VP8L_1X1 = bytes.fromhex("524946461e000000574542505650384c110000002f0000000007508f22d7a3ff8188e87f0000")


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def webp_extended(*, xmp: bytes | None) -> bytes:
    """An extended (VP8X) 4×2 WebP: the VP8 image, then an XMP chunk as the format prescribes."""
    vp8 = WEBP_VP8_4X2[12:]
    flags = 0x04 if xmp is not None else 0
    vp8x = _riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (4 - 1).to_bytes(3, "little") + (2 - 1).to_bytes(3, "little"))
    body = b"WEBP" + vp8x + vp8 + (_riff_chunk(b"XMP ", xmp) if xmp is not None else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def bmp(width: int = 2, height: int = 2) -> bytes:
    """A 24-bit bottom-up BMP with a BITMAPINFOHEADER."""
    stride = (width * 3 + 3) // 4 * 4
    pixels = bytes(stride * height)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    header = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info))
    return header + info + pixels


# -- ISO-BMFF ------------------------------------------------------------------------------------


def box(kind: bytes, body: bytes = b"", *, large: bool = False) -> bytes:
    """One ISO-BMFF box; ``large`` writes the 64-bit size form (size field 1)."""
    if large:
        return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(body)) + body
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, body: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags) + body)


def uuid_box(uuid: bytes, body: bytes) -> bytes:
    return box(b"uuid", uuid + body)


SPHERICAL_V1_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")


def spherical_v1_xml(*, spherical: str = "true", projection: str = "equirectangular", extra: str = "") -> bytes:
    """The Spherical Video V1 (RFC) XML that Google's spatial-media injector writes."""
    return (
        '<?xml version="1.0"?><rdf:SphericalVideo\n'
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
        'xmlns:GSpherical="http://ns.google.com/videos/1.0/spherical/">'
        f"<GSpherical:Spherical>{spherical}</GSpherical:Spherical>"
        "<GSpherical:Stitched>true</GSpherical:Stitched>"
        "<GSpherical:StitchingSoftware>Spherical Metadata Tool</GSpherical:StitchingSoftware>"
        f"<GSpherical:ProjectionType>{projection}</GSpherical:ProjectionType>{extra}"
        "</rdf:SphericalVideo>"
    ).encode()


def st3d(mode: int = 1) -> bytes:
    """Spherical Video V2 stereo box: 0 mono, 1 top-bottom, 2 left-right."""
    return full_box(b"st3d", bytes([mode]))


def sv3d(
    projection: bytes = b"equi", *, bounds: tuple[int, int, int, int] = (0, 0, 0, 0), with_proj: bool = True
) -> bytes:
    """Spherical Video V2 box: ``svhd`` and ``proj`` (``prhd`` + ``equi``/``cbmp``/``mshp``)."""
    svhd = full_box(b"svhd", b"Spherical Metadata Tool\x00")
    if not with_proj:
        return box(b"sv3d", svhd)
    prhd = full_box(b"prhd", struct.pack(">iii", 0, 0, 0))
    if projection == b"equi":
        shape = full_box(b"equi", struct.pack(">IIII", *bounds))
    elif projection == b"cbmp":
        shape = full_box(b"cbmp", struct.pack(">II", 0, 0))
    else:
        shape = full_box(b"mshp", struct.pack(">I", 0) + b"raw " + bytes(8))
    return box(b"sv3d", svhd + box(b"proj", prhd + shape))


def tkhd(width: int, height: int, *, version: int = 0) -> bytes:
    """A track header whose presentation size is ``width``×``height`` (16.16 fixed point)."""
    times = struct.pack(">IIIII", 0, 0, 1, 0, 1000) if version == 0 else struct.pack(">QQIIQ", 0, 0, 1, 0, 1000)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    rest = bytes(8) + struct.pack(">hhhH", 0, 0, 0, 0) + matrix + struct.pack(">II", width << 16, height << 16)
    return full_box(b"tkhd", times + rest, version=version, flags=3)


def visual_sample_entry(codec: bytes, width: int, height: int, children: bytes = b"") -> bytes:
    """An ``avc1``/``hvc1``... entry: 78 bytes of fields, an ``avcC``-like box, then ``children``."""
    fields = bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", width, height)
    fields += struct.pack(">II", 0x480000, 0x480000) + bytes(4) + struct.pack(">H", 1) + bytes(32)
    fields += struct.pack(">Hh", 0x18, -1)
    assert len(fields) == 78
    config = box(b"avcC" if codec == b"avc1" else b"hvcC", b"\x01\x64\x00\x1f\xff\xe0\x00")
    return box(codec, fields + config + children)


def audio_sample_entry() -> bytes:
    fields = bytes(6) + struct.pack(">H", 1) + bytes(8) + struct.pack(">HHHHI", 2, 16, 0, 0, 48000 << 16)
    return box(b"mp4a", fields + box(b"esds", bytes(20)))


def trak(
    handler: bytes, entry: bytes, *, width: int = 0, height: int = 0, extra: bytes = b"", tkhd_version: int = 0
) -> bytes:
    """A track: ``tkhd``, ``mdia`` (``mdhd``, ``hdlr``, ``minf/stbl/stsd``), then ``extra`` boxes."""
    stsd = full_box(b"stsd", struct.pack(">I", 1) + entry)
    stbl = box(b"stbl", stsd + full_box(b"stts", bytes(4)) + full_box(b"stsz", bytes(8)) + full_box(b"stco", bytes(4)))
    minf = box(b"minf", (full_box(b"vmhd", bytes(8)) if handler == b"vide" else full_box(b"smhd", bytes(4))) + stbl)
    hdlr = full_box(b"hdlr", bytes(4) + handler + bytes(12) + b"handler\x00")
    mdhd = full_box(b"mdhd", struct.pack(">IIIIHH", 0, 0, 48000, 48000, 0x55C4, 0))
    return box(b"trak", tkhd(width, height, version=tkhd_version) + box(b"mdia", mdhd + hdlr + minf) + extra)


def video_trak(width: int, height: int, *, codec: bytes = b"avc1", children: bytes = b"", extra: bytes = b"") -> bytes:
    return trak(b"vide", visual_sample_entry(codec, width, height, children), width=width, height=height, extra=extra)


def moov(*traks: bytes, extra: bytes = b"") -> bytes:
    mvhd = full_box(b"mvhd", struct.pack(">IIII", 0, 0, 1000, 1000) + bytes(80))
    return box(b"moov", mvhd + b"".join(traks) + extra)


def ftyp(major: bytes = b"isom", *compatible: bytes) -> bytes:
    return box(b"ftyp", major + struct.pack(">I", 0x200) + b"".join(compatible or (major, b"iso2", b"mp41")))


def mp4(
    *traks: bytes,
    brand: bytes = b"isom",
    moov_first: bool = True,
    mdat_size: int = 1024,
    large_mdat: bool = False,
    moov_extra: bytes = b"",
    top_extra: bytes = b"",
) -> bytes:
    """An MP4/MOV: ``ftyp``, then ``moov`` and ``mdat`` in either order (cameras put moov last)."""
    movie = moov(*(traks or (video_trak(1920, 1080),)), extra=moov_extra)
    data = box(b"mdat", bytes(mdat_size), large=large_mdat)
    head = ftyp(brand, *((b"qt  ",) if brand == b"qt  " else ())) + top_extra
    return head + (movie + data if moov_first else box(b"free") + data + movie)


# -- Matroska / WebM -----------------------------------------------------------------------------


def _vint_size(n: int) -> bytes:
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return (n | (1 << (7 * length))).to_bytes(length, "big")
    raise ValueError(n)


def element(ident: int, body: bytes = b"", *, unknown_size: bool = False) -> bytes:
    """One EBML element; ``unknown_size`` writes the all-ones size (a live stream's Segment)."""
    raw_id = ident.to_bytes((ident.bit_length() + 7) // 8, "big")
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown_size else _vint_size(len(body))
    return raw_id + size + body


def uint_element(ident: int, value: int) -> bytes:
    return element(ident, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def matroska(
    *,
    doctype: bytes = b"webm",
    tracks: tuple[bytes, ...] = (),
    unknown_segment: bool = False,
) -> bytes:
    """A WebM/Matroska file: EBML header, Segment (Info, Tracks, one Cluster)."""
    header = element(
        0x1A45DFA3,
        uint_element(0x4286, 1)
        + uint_element(0x42F7, 1)
        + uint_element(0x42F2, 4)
        + uint_element(0x42F3, 8)
        + element(0x4282, doctype)
        + uint_element(0x4287, 4)
        + uint_element(0x4285, 2),
    )
    info = element(
        0x1549A966, uint_element(0x2AD7B1, 1_000_000) + element(0x4D80, b"tests") + element(0x5741, b"tests")
    )
    entries = tracks or (matroska_video_track(1920, 1080),)
    cluster = element(0x1F43B675, uint_element(0xE7, 0) + element(0xA3, b"\x81\x00\x00\x80" + bytes(32)))
    body = info + element(0x1654AE6B, b"".join(entries)) + cluster
    return header + element(0x18538067, body, unknown_size=unknown_segment)


def matroska_video_track(
    width: int, height: int, *, codec: bytes = b"V_VP9", projection: bytes = b"", stereo: int = 0
) -> bytes:
    video = uint_element(0xB0, width) + uint_element(0xBA, height)
    if stereo:
        video += uint_element(0x53B8, stereo)
    video += projection
    return element(
        0xAE,
        uint_element(0xD7, 1)
        + uint_element(0x73C5, 1)
        + uint_element(0x83, 1)
        + element(0x86, codec)
        + element(0xE0, video),
    )


def matroska_audio_track(codec: bytes = b"A_OPUS") -> bytes:
    audio = element(0xE1, element(0xB5, struct.pack(">d", 48000.0)) + uint_element(0x9F, 2))
    return element(
        0xAE, uint_element(0xD7, 2) + uint_element(0x73C5, 2) + uint_element(0x83, 2) + element(0x86, codec) + audio
    )


def matroska_projection(kind: int, bounds: tuple[int, int, int, int] | None = None) -> bytes:
    body = uint_element(0x7671, kind)
    if bounds is not None:
        body += element(0x7672, bytes(4) + struct.pack(">IIII", *bounds))
    return element(0x7670, body)


# -- RIFF audio/video, AIFF, FLAC, Ogg, MPEG -----------------------------------------------------


def wav(seconds: float = 0.01, *, rf64: bool = False) -> bytes:
    """PCM 16-bit mono 8 kHz silence."""
    samples = bytes(int(8000 * seconds) * 2)
    fmt = _riff_chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16))
    body = b"WAVE" + fmt + _riff_chunk(b"data", samples)
    return (b"RF64" if rf64 else b"RIFF") + struct.pack("<I", 0xFFFFFFFF if rf64 else len(body)) + body


def avi(width: int = 320, height: int = 240) -> bytes:
    """An AVI with its ``hdrl`` list (``avih`` with the frame) and an empty ``movi`` list."""
    avih = _riff_chunk(b"avih", struct.pack("<14I", 40000, 0, 0, 0x10, 0, 0, 1, 0, width, height, 0, 0, 0, 0))
    strh = _riff_chunk(b"strh", b"vidsMJPG" + bytes(48))
    hdrl = _riff_chunk(b"LIST", b"hdrl" + avih + _riff_chunk(b"LIST", b"strl" + strh))
    body = b"AVI " + hdrl + _riff_chunk(b"LIST", b"movi")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def aiff() -> bytes:
    comm = b"COMM" + struct.pack(">IhIh", 18, 1, 80, 16) + b"\x40\x0b\xfa\x00\x00\x00\x00\x00\x00\x00"
    ssnd = b"SSND" + struct.pack(">III", 8 + 160, 0, 0) + bytes(160)
    body = b"AIFF" + comm + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def flac(*, id3: bool = False) -> bytes:
    """A FLAC stream with its STREAMINFO block (last metadata block) and no frames."""
    # Block sizes, frame sizes, then 44.1 kHz, 2 channels, 16 bits, 0 samples; an empty MD5.
    info = struct.pack(">HH", 4096, 4096) + bytes(6) + bytes.fromhex("0ac442f000000000") + bytes(16)
    data = b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info
    return (id3_tag(b"") + data) if id3 else data


def id3_tag(payload: bytes, *, declared: int | None = None) -> bytes:
    """An ID3v2.4 tag holding ``payload``; ``declared`` lies about its size (album art beyond the head)."""
    size = len(payload) if declared is None else declared
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + payload


def mp3(frames: int = 4, *, id3: bool = True) -> bytes:
    """MPEG-1 layer III, 128 kbit/s, 44.1 kHz frames (417 bytes each) of silence."""
    frame = b"\xff\xfb\x90\x64" + bytes(417 - 4)
    tag = id3_tag(b"TIT2" + struct.pack(">I", 6) + b"\x00\x00\x03tests") if id3 else b""
    return tag + frame * frames


def adts(frames: int = 4) -> bytes:
    """AAC-LC ADTS frames, 44.1 kHz stereo, 32 bytes each."""
    length = 32
    header = bytes(
        [0xFF, 0xF1, 0x50, 0x80 | ((length >> 11) & 3), (length >> 3) & 0xFF, ((length & 7) << 5) | 0x1F, 0xFC]
    )
    return (header + bytes(length - 7)) * frames


_OGG_TABLE = []
for _i in range(256):
    _r = _i << 24
    for _ in range(8):
        _r = ((_r << 1) ^ 0x04C11DB7) if _r & 0x80000000 else (_r << 1)
    _OGG_TABLE.append(_r & 0xFFFFFFFF)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def ogg_page(packet: bytes, *, serial: int, sequence: int, bos: bool = False, granule: int = 0) -> bytes:
    """One Ogg page holding one packet, with its CRC."""
    lacing = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = b"OggS\x00" + bytes([0x02 if bos else 0]) + struct.pack("<qIII", granule, serial, sequence, 0)
    page = header + bytes([len(lacing)]) + bytes(lacing) + packet
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg(*codecs: str) -> bytes:
    """An Ogg file whose streams start with the identification packets of ``codecs``."""
    first = {
        "opus": b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00",
        "vorbis": b"\x01vorbis" + struct.pack("<IBIiii", 0, 2, 44100, 0, 128000, 0) + b"\xb8\x01",
        "theora": b"\x80theora\x03\x02\x01" + bytes(35),
        "flac": b"\x7fFLAC\x01\x00\x00\x01fLaC" + bytes(38),
        "skeleton": b"fishead\x00" + bytes(56),
    }
    bos = [ogg_page(first[c], serial=n + 1, sequence=0, bos=True) for n, c in enumerate(codecs)]
    rest = ogg_page(b"OpusTags" + bytes(16), serial=1, sequence=1)
    return b"".join(bos) + rest


def mpegts(packets: int = 12, *, m2ts: bool = False) -> bytes:
    """Transport stream packets (PAT, then null packets); ``m2ts`` adds the 4-byte timestamps."""
    pat = b"\x47\x40\x00\x10\x00\x00\xb0\x0d\x00\x01\xc1\x00\x00\x00\x01\xf0\x00\x2a\xb1\x04\xb2"
    packet_list = [pat + b"\xff" * (188 - len(pat))] + [b"\x47\x1f\xff\x10" + b"\xff" * 184] * (packets - 1)
    if m2ts:
        return b"".join(struct.pack(">I", i * 300) + p for i, p in enumerate(packet_list))
    return b"".join(packet_list)


def mpeg_ps() -> bytes:
    """An MPEG-2 program stream: a pack header, a system header and the end code."""
    pack = b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01\x01\x89\xc3\xf8"
    system = b"\x00\x00\x01\xbb\x00\x0c\x80\x00\x01\x04\xe1\xff\xe0\xe0\xe8\xc0\xc0\x20"
    return pack + system + bytes(2048) + b"\x00\x00\x01\xb9"
