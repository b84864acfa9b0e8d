"""The one pipeline every uploaded image goes through.

An upload is never stored as sent. It is size-capped while reading, identified by its content
(PNG, JPEG or GIF only), measured from its header before any pixel is decoded, fully decoded to
prove it is intact, and re-encoded as a fresh PNG without metadata under a random name. What
comes out is pixels we produced ourselves, so a polyglot, an SVG with script or an EXIF payload
cannot survive the trip.
"""

from __future__ import annotations

import io
import secrets
import struct
import warnings
import zlib
from dataclasses import dataclass, replace
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("PNG", "JPEG", "GIF")
MB = 1024 * 1024

# What a hostile or broken file can make Pillow raise while parsing or decoding. Anything in
# this list means "we cannot trust these bytes", never a bug of ours worth a 500.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    zlib.error,
)


class ImageRejected(ValidationError):
    """An upload we refuse, with a message the uploader can act on."""

    # Same signature as ValidationError, so copy and pickle (which rebuild from args) work.
    def __init__(self, message: str, code: str | None = None, params: Any = None) -> None:
        super().__init__(message, code=code, params=params)


@dataclass(frozen=True)
class ImagePolicy:
    max_bytes: int = 5 * MB
    max_pixels: int = 16_000_000
    max_side: int = 4096
    max_frames: int = 100
    # Downsize the output so its longest side is at most this (e.g. 1024 logos, 512 avatars).
    output_max_side: int | None = None


DEFAULT_POLICY = ImagePolicy()


def process_image(upload: Any, *, policy: ImagePolicy = DEFAULT_POLICY) -> ContentFile:
    """Validate an upload and return it re-encoded as a metadata-free PNG with a random name.

    ``upload`` may be a Django ``UploadedFile``/``File``, any binary file-like object, or bytes.
    Raises ``ImageRejected`` (a ``ValidationError``) for anything that is not a sound PNG, JPEG
    or GIF within ``policy``. Nothing is written anywhere; the caller saves the result.
    """
    data = _read_capped(upload, policy.max_bytes)
    if not data:
        raise ImageRejected("The file is empty.", code="empty")

    im = _open(data, policy)
    try:
        _check_dimensions(im.size, policy)
        _check_frames(im, policy)
        frame = _decode_first_frame(im)
    finally:
        im.close()

    frame = _normalise(frame)
    if policy.output_max_side and max(frame.size) > policy.output_max_side:
        side = policy.output_max_side
        # thumbnail() keeps the aspect ratio and resamples RGBA premultiplied (no dark fringes).
        frame.thumbnail((side, side), Image.Resampling.LANCZOS)

    # A brand-new image carries no info dict, EXIF cache or ICC profile from the upload, so the
    # PNG encoder has nothing to copy across: only the pixels leave this function.
    clean = Image.new(frame.mode, frame.size)
    clean.paste(frame, (0, 0))
    out = io.BytesIO()
    clean.save(out, format="PNG")
    return ContentFile(out.getvalue(), name=f"{secrets.token_hex(16)}.png")


def image_dimensions(content: bytes) -> tuple[int, int]:
    """(width, height) read from a PNG/JPEG/GIF header without decoding any pixels.

    Unlike ``Image.open`` this skips Pillow's decompression-bomb check, so it can report the
    size of a bomb; it never allocates the image. Raises ``ImageRejected`` if not recognised.
    """
    Image.init()
    for fmt in ALLOWED_FORMATS:
        factory, accept = Image.OPEN[fmt]
        fp = io.BytesIO(content)
        if accept and not accept(content[:16]):
            continue
        try:
            with factory(fp) as im:
                return im.size
        except _DECODE_ERRORS:
            continue
    raise ImageRejected(_NOT_AN_IMAGE, code="not_image")


_NOT_AN_IMAGE = "This file is not a PNG, JPEG or GIF image."
_DAMAGED = "The file is damaged or incomplete."


def _mb(n: int) -> str:
    return f"{n / MB:,.1f}".removesuffix(".0") + " MB"


def _too_big(size: int | None, limit: int) -> ImageRejected:
    if size is None:
        message = f"The file is larger than the {_mb(limit)} limit."
    elif _mb(size) == _mb(limit):
        # 5 MB + 1 byte would otherwise read "The file is 5 MB; the limit is 5 MB."
        message = f"The file is {size:,} bytes; the limit is {limit:,} bytes ({_mb(limit)})."
    else:
        message = f"The file is {_mb(size)}; the limit is {_mb(limit)}."
    return ImageRejected(message, code="file_too_large")


def _read_capped(upload: Any, max_bytes: int) -> bytes:
    """At most max_bytes of the upload; refuses bigger ones without reading them whole."""
    if isinstance(upload, bytes | bytearray | memoryview):
        data = bytes(upload)
        if len(data) > max_bytes:
            raise _too_big(len(data), max_bytes)
        return data

    # Django's UploadedFile knows its size up front: refuse before reading a byte.
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        raise _too_big(declared, max_bytes)

    fp: IO[bytes] = upload
    if _seekable(fp):
        fp.seek(0)  # a form validator may already have read part of it
    data = fp.read(max_bytes + 1)
    if not isinstance(data, bytes):
        raise TypeError("process_image() needs a binary file, not a text one.")
    if len(data) > max_bytes:
        raise _too_big(_total_size(fp), max_bytes)
    return data


def _seekable(fp: Any) -> bool:
    try:
        return bool(fp.seekable())
    except (AttributeError, OSError, ValueError):
        return hasattr(fp, "seek") and hasattr(fp, "tell")


def _total_size(fp: Any) -> int | None:
    if not _seekable(fp):
        return None
    try:
        return int(fp.seek(0, io.SEEK_END))
    except (OSError, ValueError, TypeError):
        return None


def _too_large(size: tuple[int, int], policy: ImagePolicy) -> ImageRejected:
    w, h = size
    if w > policy.max_side or h > policy.max_side:
        limit = f"{policy.max_side:,} × {policy.max_side:,}"
    else:
        limit = f"{policy.max_pixels:,} pixels in total"
    return ImageRejected(
        f"The image is too large: {w:,} × {h:,} pixels; the limit is {limit}.",
        code="image_too_large",
    )


def _open(data: bytes, policy: ImagePolicy) -> ImageFile.ImageFile:
    """Identify by content (never by name or declared type) and parse the header only."""
    try:
        # Pillow's own bomb guard, as a second line behind _check_dimensions(): its warning
        # becomes an error here. (catch_warnings is process-wide; at worst another thread
        # briefly sees this filter too, and our own size check still applies.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        try:
            size = image_dimensions(data)
        except ImageRejected:
            size = None
        # Only reachable when the policy allows more than Pillow does: quote Pillow's limit.
        pillow_limit = replace(
            policy, max_pixels=min(policy.max_pixels, Image.MAX_IMAGE_PIXELS or policy.max_pixels)
        )
        if size is None:
            raise ImageRejected(
                f"The image is too large; the limit is {pillow_limit.max_pixels:,} pixels.",
                code="image_too_large",
            ) from None
        raise _too_large(size, pillow_limit) from None
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        # Includes "PNG signature, then garbage": a polyglot is not an image we recognise.
        raise ImageRejected(_NOT_AN_IMAGE, code="not_image") from None


def _check_dimensions(size: tuple[int, int], policy: ImagePolicy) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise ImageRejected(_DAMAGED, code="damaged")
    if w > policy.max_side or h > policy.max_side or w * h > policy.max_pixels:
        raise _too_large(size, policy)


def _check_frames(im: Image.Image, policy: ImagePolicy) -> None:
    # GIF walks the frame headers without decoding them (bounded by max_bytes); APNG reads the
    # count from acTL. Only frame 0 is ever decoded, but a cap keeps intent explicit.
    try:
        frames = int(getattr(im, "n_frames", 1))
    except _DECODE_ERRORS:
        raise ImageRejected(_DAMAGED, code="damaged") from None
    if frames > policy.max_frames:
        raise ImageRejected(
            f"Animated images may have at most {policy.max_frames:,} frames; "
            f"this one has {frames:,}.",
            code="too_many_frames",
        )


def _decode_first_frame(im: ImageFile.ImageFile) -> Image.Image:
    # A truncated file must fail loudly rather than come out half grey. This is a process-wide
    # Pillow switch; nothing in this app has a reason to turn it on, so pin it off.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        im.seek(0)
        im.load()
    except _DECODE_ERRORS:
        raise ImageRejected(_DAMAGED, code="damaged") from None
    # Bake in the EXIF orientation while we still have it, since the EXIF is dropped next.
    try:
        return ImageOps.exif_transpose(im)
    except _DECODE_ERRORS:
        return im.copy()  # unreadable EXIF is only metadata we are discarding anyway


def _normalise(im: Image.Image) -> Image.Image:
    """8-bit RGB, or RGBA when the source has any transparency (palette, tRNS or alpha)."""
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        # 16-bit greyscale: scale to 8 bits; a plain convert("L") would clip it to white.
        im = im.convert("I").point(lambda v: v / 256).convert("L")
    target = "RGBA" if im.has_transparency_data else "RGB"
    return im if im.mode == target else im.convert(target)
