"""The upload pipeline against the hostile corpus: refuse clearly, or re-encode to clean PNG."""

from __future__ import annotations

import copy
import io
import pickle
import re
import struct

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from badgeplatform.images import ImagePolicy, ImageRejected, image_dimensions, process_image
from tests.security import hostile_images as hostile

RANDOM_PNG_NAME = re.compile(r"^[0-9a-f]{32}\.png$")


def png_chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG, in order (asserting the file is a well-formed PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        kinds.append(kind)
        pos += 12 + length
    assert kinds[-1] == b"IEND" and pos == len(data)
    return kinds


def as_upload(data: bytes, name: str = "logo.png") -> SimpleUploadedFile:
    # The name and declared type always claim PNG: the pipeline must not believe either.
    return SimpleUploadedFile(name, data, content_type="image/png")


def opened(result: ContentFile) -> Image.Image:
    im = Image.open(io.BytesIO(result.read()), formats=["PNG"])
    im.load()
    return im


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(hostile.REFUSED))
def test_hostile_file_is_refused_with_a_clear_message(case: str) -> None:
    build, message, code = hostile.REFUSED[case]
    with pytest.raises(ImageRejected) as caught:
        process_image(as_upload(build()))
    assert caught.value.messages == [message]
    assert caught.value.code == code
    assert isinstance(caught.value, ValidationError)  # forms show it like any field error


@pytest.mark.parametrize("case", sorted(hostile.REFUSED))
def test_bytes_and_file_objects_are_judged_the_same(case: str) -> None:
    build, message, _ = hostile.REFUSED[case]
    for upload in (build(), io.BytesIO(build())):
        with pytest.raises(ImageRejected) as caught:
            process_image(upload)
        assert caught.value.messages == [message]


def test_svg_is_refused_whatever_it_is_called() -> None:
    for name in ("logo.png", "logo.jpg", "logo.gif", "logo.svg"):
        with pytest.raises(ImageRejected, match="not a PNG, JPEG or GIF"):
            process_image(as_upload(hostile.svg_named_png(), name=name))


def test_an_endless_stream_is_not_read_past_the_limit() -> None:
    stream = hostile.EndlessStream()
    policy = ImagePolicy()
    with pytest.raises(ImageRejected) as caught:
        process_image(stream, policy=policy)
    assert caught.value.messages == ["The file is larger than the 5 MB limit."]
    assert stream.bytes_read <= policy.max_bytes + 1


def test_a_declared_size_over_the_limit_is_refused_without_reading() -> None:
    class HugeUpload:
        size = 10 * 1024**3

        def read(self, n: int = -1) -> bytes:
            raise AssertionError("must not read a file already known to be too big")

    with pytest.raises(ImageRejected) as caught:
        process_image(HugeUpload())
    assert caught.value.messages == ["The file is 10,240 MB; the limit is 5 MB."]


def test_one_byte_over_the_limit_says_so_in_bytes() -> None:
    policy = ImagePolicy()
    data = hostile.valid_png() + b"\x00" * (policy.max_bytes + 1 - len(hostile.valid_png()))
    with pytest.raises(ImageRejected) as caught:
        process_image(data, policy=policy)
    assert caught.value.messages == [
        "The file is 5,242,881 bytes; the limit is 5,242,880 bytes (5 MB)."
    ]
    # Exactly at the limit is fine (trailing bytes after IEND are ignored, then dropped).
    process_image(data[:-1], policy=policy)


def test_policy_limits_are_quoted_back() -> None:
    png = hostile.valid_png((200, 50))
    with pytest.raises(ImageRejected) as caught:
        process_image(png, policy=ImagePolicy(max_side=100))
    assert caught.value.messages == [
        "The image is too large: 200 × 50 pixels; the limit is 100 × 100."
    ]
    with pytest.raises(ImageRejected) as caught:
        process_image(png, policy=ImagePolicy(max_pixels=1000))
    assert caught.value.messages == [
        "The image is too large: 200 × 50 pixels; the limit is 1,000 pixels in total."
    ]
    with pytest.raises(ImageRejected) as caught:
        process_image(hostile.animated_gif(3), policy=ImagePolicy(max_frames=2))
    assert caught.value.messages == ["Animated images may have at most 2 frames; this one has 3."]
    with pytest.raises(ImageRejected) as caught:
        process_image(hostile.valid_png(), policy=ImagePolicy(max_bytes=100))
    assert caught.value.code == "file_too_large"


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_pillow_bomb_guard_still_applies_under_a_lax_policy(side: int) -> None:
    # 10,000² trips Pillow's DecompressionBombWarning, 20,000² its DecompressionBombError;
    # both must become a refusal rather than a warning in a log or a 500.
    lax = ImagePolicy(max_side=50_000, max_pixels=10**10)
    with pytest.raises(ImageRejected) as caught:
        process_image(hostile.png_bomb(side, side, rows=1), policy=lax)
    limit = f"{Image.MAX_IMAGE_PIXELS:,}"
    assert caught.value.messages == [
        f"The image is too large: {side:,} × {side:,} pixels; the limit is {limit} pixels in total."
    ]


def test_truncated_images_are_refused_even_if_pillow_was_told_to_allow_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        process_image(hostile.truncated_jpeg())
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_image_dimensions_reads_headers_without_decoding() -> None:
    assert image_dimensions(hostile.valid_jpeg((64, 48))) == (64, 48)
    assert image_dimensions(hostile.png_bomb()) == (50_000, 50_000)
    assert image_dimensions(hostile.gif_bomb()) == (30_000, 30_000)
    with pytest.raises(ImageRejected):
        image_dimensions(hostile.svg_named_png())


# --- accepted -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(hostile.ACCEPTED))
def test_accepted_image_is_reencoded_as_clean_png(case: str) -> None:
    source = hostile.ACCEPTED[case]()
    result = process_image(as_upload(source, name="holiday photo.JPG"))

    assert isinstance(result, ContentFile)
    assert RANDOM_PNG_NAME.match(result.name)
    data = result.read()
    # Only pixels survive: no text, EXIF, ICC, XMP or animation chunks, nothing after IEND.
    assert set(png_chunks(data)) <= {b"IHDR", b"IDAT", b"IEND"}
    assert b"<script" not in data and b"<html" not in data
    im = opened(ContentFile(data))
    assert im.mode in ("RGB", "RGBA")
    assert not {"exif", "xmp", "icc_profile", "comment", "Comment", "Description"} & set(im.info)
    assert not im.getexif()
    assert getattr(im, "n_frames", 1) == 1
    assert im.size == Image.open(io.BytesIO(source)).size


def test_every_upload_gets_a_fresh_random_name() -> None:
    names = {process_image(hostile.valid_png()).name for _ in range(5)}
    assert len(names) == 5


def test_palette_transparency_is_kept() -> None:
    im = opened(process_image(hostile.palette_png_with_transparency()))
    assert im.mode == "RGBA"
    assert im.getpixel((31, 31))[3] == 0  # index 0: transparent
    assert im.getpixel((16, 16)) == (255, 0, 0, 255)  # index 1: opaque red
    assert im.getpixel((1, 1)) == (0, 0, 255, 128)  # index 2: half-transparent blue


def test_cmyk_jpeg_comes_out_as_rgb_with_the_right_colours() -> None:
    im = opened(process_image(hostile.cmyk_jpeg()))
    assert im.mode == "RGB"
    # The gradient runs black-ish (0, 0, 128) at top left to (251, 250, 128) at bottom right.
    for (x, y), expected in {(2, 2): (8, 10, 128), (61, 45): (243, 239, 128)}.items():
        got = im.getpixel((x, y))
        assert all(abs(g - e) < 24 for g, e in zip(got, expected, strict=True)), got


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    im = opened(process_image(hostile.sixteen_bit_grey_png()))
    assert im.getpixel((0, 0)) == (156, 156, 156)  # 40,000 / 256, not clipped to white


def test_exif_orientation_is_applied_before_exif_is_dropped() -> None:
    im = opened(process_image(hostile.jpeg_rotated_by_exif()))
    assert im.size == (20, 60)
    assert not im.getexif()


def test_animation_keeps_only_the_first_frame() -> None:
    im = opened(process_image(hostile.animated_gif(3)))
    assert im.getpixel((8, 8)) == (200, 30, 30)


def test_output_max_side_downsizes_and_keeps_aspect() -> None:
    logo = ImagePolicy(output_max_side=512)
    assert opened(process_image(hostile.valid_png((2000, 1000)), policy=logo)).size == (512, 256)
    assert opened(process_image(hostile.valid_jpeg((300, 900)), policy=logo)).size == (171, 512)
    # Small images are never blown up.
    assert opened(process_image(hostile.valid_png((64, 48)), policy=logo)).size == (64, 48)


def test_a_partly_read_upload_is_read_from_the_start() -> None:
    upload = as_upload(hostile.valid_png())
    upload.read(10)  # e.g. a form field already sniffed it
    assert opened(process_image(upload)).size == (64, 48)


def test_a_django_file_on_disk_is_accepted(tmp_path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(hostile.valid_jpeg())
    with path.open("rb") as handle:
        result = process_image(File(handle))
    assert RANDOM_PNG_NAME.match(result.name)


def test_the_pipeline_writes_nothing(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    process_image(hostile.valid_png())
    with pytest.raises(ImageRejected):
        process_image(hostile.png_bomb())
    assert list(tmp_path.iterdir()) == []


def test_a_rejection_survives_copy_and_pickle() -> None:
    # Forms and caches copy errors around; ValidationError subclasses must rebuild from args.
    error = ImageRejected("The file is empty.", code="empty")
    for clone in (copy.deepcopy(error), pickle.loads(pickle.dumps(error))):  # noqa: S301
        assert isinstance(clone, ImageRejected)
        assert (clone.messages, clone.code) == (["The file is empty."], "empty")
