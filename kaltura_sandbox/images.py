"""Generated pictures for thumbnails: baseline JPEG and PNG encoders (standard library only).

A thumbnail is drawn on a grid of 8x8-pixel blocks, one colour per block, and encoded either as a
baseline JPEG whose blocks carry only their DC (average colour) coefficient - a valid JFIF file
any decoder reads, with the requested ``quality`` scaling its quantisation tables as libjpeg does
- or as an 8-bit RGB PNG. Working per block keeps a large thumbnail fast in pure Python: the cost
grows with the number of blocks, not pixels, and never needs the whole raster in memory for JPEG.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

RGB = tuple[int, int, int]
BLOCK = 8

# The example quantisation tables of ITU-T T.81 Annex K (only their DC entries matter here, but
# the full tables are written so the file is an ordinary baseline JPEG).
_LUMA_QUANT = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_CHROMA_QUANT = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip
# Standard Huffman tables (T.81 K.3): code-length counts and symbols.
_DC_LUMA_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_CHROMA_BITS = (0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
_AC_LUMA_BITS = (0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D)
_AC_CHROMA_BITS = (0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77)
_AC_LUMA_VALUES = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a34"
    "35363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a9293949596"
    "9798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1"
    "f2f3f4f5f6f7f8f9fa"
)
_AC_CHROMA_VALUES = bytes.fromhex(
    "000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a26272829"
    "2a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a929394"
    "95969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9ea"
    "f2f3f4f5f6f7f8f9fa"
)
# JPEG stores coefficients in zig-zag order: position k of the stream is table index _ZIGZAG[k].
_ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
    21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60,
    61, 54, 47, 55, 62, 63,
)  # fmt: skip
DEFAULT_QUALITY = 75


#: At most this many distinct colours are computed per row or column of blocks; a larger
#: picture repeats each sampled colour over neighbouring blocks (a 10000-pixel side is 1250 blocks).
MAX_SAMPLES = 256


def block_grid(width: int, height: int, colour_at: Callable[[float, float], RGB]) -> list[list[RGB]]:
    """The colour of every 8x8 block of a ``width`` x ``height`` picture, sampled at its centre."""
    columns = (width + BLOCK - 1) // BLOCK
    rows = (height + BLOCK - 1) // BLOCK
    column_step = max(1.0, columns / MAX_SAMPLES)
    row_step = max(1.0, rows / MAX_SAMPLES)
    xs = [min(width - 0.5, int(int(bx / column_step) * column_step) * BLOCK + BLOCK / 2) for bx in range(columns)]
    cache: dict[float, list[RGB]] = {}
    grid = []
    for by in range(rows):
        y = min(height - 0.5, int(int(by / row_step) * row_step) * BLOCK + BLOCK / 2)
        row = cache.get(y)
        if row is None:
            colours: dict[float, RGB] = {}
            row = []
            for x in xs:
                colour = colours.get(x)
                if colour is None:
                    colour = colours[x] = colour_at(x, y)
                row.append(colour)
            cache[y] = row
        grid.append(row)
    return grid


# -- JPEG -------------------------------------------------------------------------------------


def _scaled_table(table: tuple[int, ...], quality: int) -> list[int]:
    """libjpeg's ``jpeg_quality_scaling``: quality 50 is the table itself, 100 all ones."""
    quality = max(1, min(100, quality))
    scale = 5000 // quality if quality < 50 else 200 - quality * 2
    return [max(1, min(255, (value * scale + 50) // 100)) for value in table]


def _huffman_codes(bits: tuple[int, ...], values: bytes | tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """symbol -> (code, length) of a canonical Huffman table (T.81 Annex C)."""
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    index = 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def _dht(table_class: int, table_id: int, bits: tuple[int, ...], values: bytes | tuple[int, ...]) -> bytes:
    return bytes([table_class << 4 | table_id, *bits, *values])


def _category(value: int) -> tuple[int, int]:
    """(size category, value bits) of a DC difference (T.81 F.1.2.1)."""
    if value == 0:
        return 0, 0
    size = abs(value).bit_length()
    return size, value if value > 0 else value + (1 << size) - 1


class _DcCoder:
    """The bits of one block (DC difference, then end-of-block) as a string of '0'/'1'."""

    def __init__(self, dc_bits: tuple[int, ...], ac_bits: tuple[int, ...], ac_values: bytes) -> None:
        self.dc = _huffman_codes(dc_bits, _DC_VALUES)
        code, length = _huffman_codes(ac_bits, ac_values)[0]
        self.eob = format(code, f"0{length}b")
        self.cache: dict[int, str] = {}

    def bits(self, difference: int) -> str:
        text = self.cache.get(difference)
        if text is None:
            size, value = _category(difference)
            code, length = self.dc[size]
            text = format(code, f"0{length}b") + (format(value, f"0{size}b") if size else "") + self.eob
            self.cache[difference] = text
        return text


def _to_bytes(bits: str) -> bytes:
    """Pack a bit string (padded with ones, as T.81 F.1.2.3 asks) and stuff 0xFF bytes."""
    bits += "1" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return data.replace(b"\xff", b"\xff\x00")


def encode_jpeg(width: int, height: int, grid: list[list[RGB]], quality: int = DEFAULT_QUALITY) -> bytes:
    """A baseline JFIF JPEG of ``width`` x ``height`` with one flat colour per 8x8 block."""
    luma_q = _scaled_table(_LUMA_QUANT, quality)
    chroma_q = _scaled_table(_CHROMA_QUANT, quality)
    luma = _DcCoder(_DC_LUMA_BITS, _AC_LUMA_BITS, _AC_LUMA_VALUES)
    chroma = _DcCoder(_DC_CHROMA_BITS, _AC_CHROMA_BITS, _AC_CHROMA_VALUES)
    coders = (luma, chroma, chroma)
    quant_dc = (luma_q[0], chroma_q[0], chroma_q[0])
    # A block repeating the previous one's colour codes three zero differences: the same bits.
    repeat = luma.bits(0) + chroma.bits(0) + chroma.bits(0)
    parts: list[str] = []
    previous = [0, 0, 0]
    last: RGB | None = None
    run = 0
    for row in grid:
        for colour in row:
            if colour == last:
                run += 1
                continue
            if run:
                parts.append(repeat * run)
                run = 0
            last = colour
            r, g, b = colour
            # JFIF YCbCr; a flat block's DCT has only DC = 8 * (sample - 128).
            samples = (
                0.299 * r + 0.587 * g + 0.114 * b,
                128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
            )
            for index, sample in enumerate(samples):
                dc = round(8 * (sample - 128) / quant_dc[index])
                parts.append(coders[index].bits(dc - previous[index]))
                previous[index] = dc
    if run:
        parts.append(repeat * run)
    scan = _to_bytes("".join(parts))
    header = b"".join(
        (
            b"\xff\xd8",
            _segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xFFDB, bytes([0, *(luma_q[i] for i in _ZIGZAG)]) + bytes([1, *(chroma_q[i] for i in _ZIGZAG)])),
            _segment(0xFFC0, struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1])),
            _segment(
                0xFFC4,
                _dht(0, 0, _DC_LUMA_BITS, _DC_VALUES)
                + _dht(1, 0, _AC_LUMA_BITS, _AC_LUMA_VALUES)
                + _dht(0, 1, _DC_CHROMA_BITS, _DC_VALUES)
                + _dht(1, 1, _AC_CHROMA_BITS, _AC_CHROMA_VALUES),
            ),
            _segment(0xFFDA, bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])),
        )
    )
    return header + scan + b"\xff\xd9"


# -- PNG --------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png_rows(width: int, height: int, rows: list[bytes] | list[bytearray]) -> bytes:
    """An 8-bit RGB PNG from raw rows of ``width * 3`` bytes."""
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 6))
        + _png_chunk(b"IEND", b"")
    )


def encode_png(width: int, height: int, grid: list[list[RGB]]) -> bytes:
    """An 8-bit RGB PNG of ``width`` x ``height`` with one flat colour per 8x8 block."""
    rows: list[bytes] = []
    for block_row in grid:
        row = b"".join(bytes(colour) * BLOCK for colour in block_row)[: width * 3]
        rows.extend([row] * BLOCK)
    return encode_png_rows(width, height, rows[:height])
