"""A hostile (and a friendly) image corpus, built in memory so no binary lands in the repo.

Every builder returns the raw bytes an attacker (or an unlucky user) could upload.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image, PngImagePlugin

SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_signature() -> bytes:
    return b"\x89PNG\r\n\x1a\n"


def _save(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, format=fmt, **params)
    return out.getvalue()


def _gradient(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A non-uniform picture, so JPEG has real data to (de)compress."""
    w, h = size
    im = Image.new("RGB", size)
    im.putdata([(x * 255 // w, y * 255 // h, 128) for y in range(h) for x in range(w)])
    return im


# --- accepted -----------------------------------------------------------------------------


def valid_png(size: tuple[int, int] = (64, 48)) -> bytes:
    return _save(_gradient(size), "PNG")


def valid_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    return _save(_gradient(size), "JPEG", quality=90)


def valid_gif() -> bytes:
    return _save(_gradient().convert("P"), "GIF")


def animated_gif(frames: int = 3) -> bytes:
    """A small, legitimate animation (under the frame cap): accepted, first frame kept."""
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]
    images = [Image.new("RGB", (16, 16), colours[i % len(colours)]) for i in range(frames)]
    return _save(images[0], "GIF", save_all=True, append_images=images[1:], duration=100)


def png_with_script_text() -> bytes:
    """Valid PNG whose tEXt/iTXt chunks carry script: accepted, chunks must be stripped."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    info.add_itxt("Description", SCRIPT.decode())
    return _save(_gradient(), "PNG", pnginfo=info)


def png_then_html() -> bytes:
    """A valid PNG with an HTML page glued after IEND (a classic polyglot). Accepted: the
    re-encode keeps only pixels, so the trailing page is gone."""
    return valid_png() + HTML


def jpeg_with_huge_exif() -> bytes:
    """A JPEG whose APP1/EXIF segment is near the 64 KB maximum, full of markup and GPS.

    Accepted; the output must carry no EXIF.
    """
    exif = Image.Exif()
    exif[0x010E] = "<script>" + "A" * 60_000 + "</script>"  # ImageDescription
    exif[0x010F] = "EvilCam"  # Make
    exif[0x0112] = 1  # Orientation: normal
    gps = exif.get_ifd(0x8825)
    gps[2] = (51.0, 30.0, 0.0)  # GPSLatitude: the kind of thing users don't mean to publish
    return _save(_gradient(), "JPEG", exif=exif.tobytes(), comment=b"x" * 1000)


def jpeg_rotated_by_exif() -> bytes:
    """A 60 × 20 JPEG whose EXIF says "rotate 90°": the output should be 20 × 60."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(_gradient((60, 20)), "JPEG", exif=exif.tobytes())


def cmyk_jpeg() -> bytes:
    return _save(_gradient().convert("CMYK"), "JPEG", quality=90)


def palette_png_with_transparency() -> bytes:
    """Palette PNG: index 0 fully transparent, index 1 opaque red, index 2 half-transparent."""
    im = Image.new("P", (32, 32), 0)
    im.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255])
    im.paste(1, (8, 8, 24, 24))
    im.paste(2, (0, 0, 4, 4))
    return _save(im, "PNG", transparency=bytes([0, 255, 128]))


def sixteen_bit_grey_png() -> bytes:
    return _save(Image.new("I;16", (8, 8), 40_000), "PNG")


# --- refused ------------------------------------------------------------------------------


def png_header_then_html() -> bytes:
    """PNG magic bytes followed by an HTML page: sniffers say PNG, browsers may say HTML."""
    return _png_signature() + HTML


def svg_named_png() -> bytes:
    """An SVG with script. The test uploads it as "logo.png" with content type image/png."""
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" '
        b'height="64"><script>alert(1)</script><rect width="64" height="64"/></svg>'
    )


def html_file() -> bytes:
    return HTML


def empty_file() -> bytes:
    return b""


def six_megabyte_file() -> bytes:
    """A valid PNG padded past 5 MB with trailing junk: refused on size alone."""
    return valid_png() + b"\x00" * (6 * 1024 * 1024 - len(valid_png()))


def truncated_jpeg() -> bytes:
    """A real JPEG cut off in the middle of its entropy-coded data (header intact)."""
    data = valid_jpeg((256, 256))
    return data[: len(data) * 2 // 3]


def truncated_png() -> bytes:
    data = valid_png((256, 256))
    return data[: len(data) * 2 // 3]


def png_corrupt_idat() -> bytes:
    """A PNG with a flipped byte inside its compressed pixel data (bit rot or tampering)."""
    data = bytearray(valid_png((64, 64)))
    idat = data.index(b"IDAT")
    data[idat + 4 + 20] ^= 0xFF
    return bytes(data)


def png_bomb(width: int = 50_000, height: int = 50_000, *, rows: int = 64) -> bytes:
    """A PNG claiming width × height 1-bit grey pixels, made cheaply.

    IHDR carries the claimed size; IDAT is a tiny zlib stream of only ``rows`` zero rows,
    so the file is a few hundred bytes. Decoding it would allocate width × height × 4 bytes
    once converted to RGBA (10 GB for the default size); the pipeline must refuse it from the
    header alone.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    idat = zlib.compress(row * rows, 9)
    return _png_signature() + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@cache
def complete_png_bomb(side: int = 20_000) -> bytes:
    """A genuine, fully valid decompression bomb: every row present, all zeros.

    20,000 × 20,000 is 400 M pixels (1.6 GB as RGBA) in about 50 KB of file.
    """
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    parts = [packer.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(packer.compress(row * (side % 1000)))
    parts.append(packer.flush())
    idat = b"".join(parts)
    return _png_signature() + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def gif_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A GIF whose logical screen claims width × height, with a single 1 × 1 frame."""
    return _gif(1, screen=(width, height))


def gif_with_frames(frames: int = 10_000) -> bytes:
    """A 1 × 1 GIF with ``frames`` frames, hand-assembled (about 23 bytes a frame)."""
    return _gif(frames)


def _gif(frames: int, *, screen: tuple[int, int] = (1, 1)) -> bytes:
    header = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0)  # 2-colour global table
    palette = b"\x00\x00\x00\xff\xff\xff"
    control = b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms delay
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    # LZW, min code size 2: <clear=4> <pixel 0> <end=5> in 3-bit codes, LSB first.
    pixels = b"\x02\x02\x44\x01\x00"
    return header + palette + (control + descriptor + pixels) * frames + b";"


def apng_claiming_frames(frames: int = 999_999) -> bytes:
    """An APNG whose acTL claims 999,999 animation frames (none is present).

    The plain IDAT image comes before any fcTL, so it counts as one more: a million frames.
    """
    data = valid_png((4, 4))
    actl = _chunk(b"acTL", struct.pack(">II", frames, 0))
    ihdr_end = 8 + 25  # signature + IHDR chunk
    return data[:ihdr_end] + actl + data[ihdr_end:]


def jpeg_claiming_huge_size() -> bytes:
    """A JPEG whose SOF marker says 60,000 × 60,000 (the header is all that's needed)."""
    data = bytearray(valid_jpeg((8, 8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60_000, 60_000)  # height, width
    return bytes(data)


class EndlessStream(io.RawIOBase):
    """A file-like object that never ends (think /dev/zero behind a proxy): counts reads."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = len(buffer)
        buffer[:n] = b"\x89PNG" * (n // 4) + b"\x00" * (n % 4)
        self.bytes_read += n
        return n


ACCEPTED = {
    "valid_png": valid_png,
    "valid_jpeg": valid_jpeg,
    "valid_gif": valid_gif,
    "animated_gif": animated_gif,
    "png_with_script_text": png_with_script_text,
    "png_then_html": png_then_html,
    "jpeg_with_huge_exif": jpeg_with_huge_exif,
    "cmyk_jpeg": cmyk_jpeg,
    "palette_png_with_transparency": palette_png_with_transparency,
    "sixteen_bit_grey_png": sixteen_bit_grey_png,
}

# name -> (builder, the start of the message the uploader must see, ValidationError code)
REFUSED = {
    "png_header_then_html": (
        png_header_then_html,
        "This file is not a PNG, JPEG or GIF image.",
        "not_image",
    ),
    "svg_named_png": (svg_named_png, "This file is not a PNG, JPEG or GIF image.", "not_image"),
    "html_file": (html_file, "This file is not a PNG, JPEG or GIF image.", "not_image"),
    "empty_file": (empty_file, "The file is empty.", "empty"),
    "six_megabyte_file": (
        six_megabyte_file,
        "The file is 6 MB; the limit is 5 MB.",
        "file_too_large",
    ),
    "truncated_jpeg": (truncated_jpeg, "The file is damaged or incomplete.", "damaged"),
    "truncated_png": (truncated_png, "The file is damaged or incomplete.", "damaged"),
    "png_corrupt_idat": (png_corrupt_idat, "The file is damaged or incomplete.", "damaged"),
    "png_bomb": (
        png_bomb,
        "The image is too large: 50,000 × 50,000 pixels; the limit is 4,096 × 4,096.",
        "image_too_large",
    ),
    "complete_png_bomb": (
        complete_png_bomb,
        "The image is too large: 20,000 × 20,000 pixels; the limit is 4,096 × 4,096.",
        "image_too_large",
    ),
    "gif_bomb": (
        gif_bomb,
        "The image is too large: 30,000 × 30,000 pixels; the limit is 4,096 × 4,096.",
        "image_too_large",
    ),
    "jpeg_claiming_huge_size": (
        jpeg_claiming_huge_size,
        "The image is too large: 60,000 × 60,000 pixels; the limit is 4,096 × 4,096.",
        "image_too_large",
    ),
    "gif_with_frames": (
        gif_with_frames,
        "Animated images may have at most 100 frames; this one has 10,000.",
        "too_many_frames",
    ),
    "apng_claiming_frames": (
        apng_claiming_frames,
        "Animated images may have at most 100 frames; this one has 1,000,000.",
        "too_many_frames",
    ),
}
