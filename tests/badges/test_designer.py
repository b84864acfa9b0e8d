"""The badge designer renders every shape cleanly, and treats any text as mere pixels."""

from __future__ import annotations

import io
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from badges import designer
from badges.designer import SHAPES, Design, render_badge

MAGENTA = (255, 0, 255)


def design(**changes: object) -> Design:
    base = Design(
        shape="circle",
        background="#1F3A93",
        border="#D4AF37",
        text_color="#FFFFFF",
        line1="Python Expert",
        line2="2025",
    )
    return replace(base, **changes)


def png(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data), formats=["PNG"])
    im.load()
    return im


def chunk_types(data: bytes) -> set[bytes]:
    kinds, pos = set(), 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        kinds.add(kind)
        pos += 12 + length
    return kinds


def icon_png(colour: tuple[int, int, int] = MAGENTA) -> bytes:
    im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((4, 4, 60, 60), fill=colour)
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def pixels(im: Image.Image) -> list[tuple[int, ...]]:
    data = im.convert("RGBA").tobytes()
    return [tuple(data[i : i + 4]) for i in range(0, len(data), 4)]


def count_near(im: Image.Image, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    return sum(
        1
        for r, g, b, a in pixels(im)
        if a == 255 and abs(r - colour[0]) + abs(g - colour[1]) + abs(b - colour[2]) < tolerance
    )


def differs(a: Image.Image, b: Image.Image) -> bool:
    # getbbox() on RGBA looks at alpha only, and text never changes the alpha: compare colour.
    return ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is not None


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_renders_a_transparent_edged_square_png(shape: str) -> None:
    data = render_badge(design(shape=shape))
    im = png(data)
    assert (im.format, im.mode, im.size) == ("PNG", "RGBA", (600, 600))
    for corner in [(1, 1), (598, 1), (1, 598), (598, 598)]:
        assert im.getpixel(corner)[3] == 0, corner
    assert im.getpixel((300, 300))[3] == 255
    # Anti-aliased, not jagged: the edge has partly transparent pixels.
    assert any(im.getchannel("A").histogram()[1:255])
    assert chunk_types(data) == {b"IHDR", b"IDAT", b"IEND"}


def test_rosette_has_ribbon_tails_below_the_disc() -> None:
    im = png(render_badge(design(shape="rosette")))
    bottom_band = im.getchannel("A").crop((0, 480, 600, 590))
    assert bottom_band.getbbox() is not None  # the tails hang down here...
    assert im.getpixel((300, 585))[3] == 0  # ...two of them, with a gap between


def test_text_changes_the_pixels() -> None:
    blank = png(render_badge(design(line1="", line2="")))
    titled = png(render_badge(design(line1="Mentor", line2="")))
    other = png(render_badge(design(line1="Leader", line2="")))
    assert differs(blank, titled)
    assert differs(titled, other)
    assert count_near(titled, (255, 255, 255)) > count_near(blank, (255, 255, 255)) + 500


def test_text_is_centred() -> None:
    im = png(render_badge(design(line1="I", line2="", border="#1F3A93")))
    # A lone, symmetric glyph on a symmetric badge: its ink is centred horizontally.
    ink = im.convert("L").point(lambda v: 255 if v > 200 else 0).getbbox()
    assert ink is not None
    assert abs((ink[0] + ink[2]) / 2 - 300) <= 2


def test_icon_appears_above_the_text() -> None:
    without = png(render_badge(design()))
    with_icon = png(render_badge(design(icon_png=icon_png())))
    assert count_near(without, MAGENTA) == 0
    assert count_near(with_icon, MAGENTA) > 1000
    magenta = Image.new("L", with_icon.size)
    magenta.putdata(
        [255 if (r, g, b) == MAGENTA and a == 255 else 0 for r, g, b, a in pixels(with_icon)]
    )
    x0, y0, x1, y1 = magenta.getbbox()
    assert abs((x0 + x1) / 2 - 300) <= 3  # centred
    assert y1 < 300  # above the middle, where the text goes


def test_icon_alone_is_bigger() -> None:
    alone = png(render_badge(design(line1="", line2="", icon_png=icon_png())))
    with_text = png(render_badge(design(icon_png=icon_png())))
    assert count_near(alone, MAGENTA) > 1.5 * count_near(with_text, MAGENTA)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"shape": "star"}, "Unknown badge shape"),
        ({"shape": ""}, "Unknown badge shape"),
        ({"background": "red"}, "background colour"),
        ({"background": "#12345"}, "background colour"),
        ({"border": "#GGGGGG"}, "border colour"),
        ({"border": "#1234567"}, "border colour"),
        ({"text_color": "#123456\n"}, "text colour"),
        ({"text_color": None}, "text colour"),
        ({"line1": "x" * 25}, "first line of text is 25 characters long; the limit is 24"),
        ({"line2": "y" * 100}, "second line of text is 100 characters long; the limit is 24"),
        ({"line1": 42}, "first line of text must be text"),
        ({"icon_png": "not bytes"}, "icon must be PNG image bytes"),
    ],
)
def test_bad_designs_are_refused(changes: dict[str, object], message: str) -> None:
    bad = design(**changes)
    with pytest.raises(ValueError, match=message):
        bad.validate()
    with pytest.raises(ValueError, match=message):
        render_badge(bad)


def test_a_good_design_validates() -> None:
    design(line1="x" * 24, line2="y" * 24).validate()  # exactly at the limit is fine


@pytest.mark.parametrize(
    "icon",
    [b"", b"not a png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", icon_png()[:40]],
)
def test_a_broken_icon_is_a_value_error(icon: bytes) -> None:
    with pytest.raises(ValueError, match="icon"):
        render_badge(design(icon_png=icon or b"\x00"))


@pytest.mark.parametrize("size", [0, 63, 2049, 10**6])
def test_size_is_bounded(size: int) -> None:
    with pytest.raises(ValueError, match="size"):
        render_badge(design(), size=size)


def test_other_sizes_render() -> None:
    for size in (64, 256):
        assert png(render_badge(design(shape="hexagon"), size=size)).size == (size, size)


@pytest.mark.parametrize(
    "line1, line2",
    [
        ("<script>alert(1)", "</script>"),
        ("{{settings.SECRET_KEY}}", "{% debug %}"),
        ("'; DROP TABLE badges;--", "${jndi:ldap://x}"),
        ("%s%s%s%n", "{0.__class__}"),
    ],
)
def test_hostile_text_is_only_pixels(line1: str, line2: str) -> None:
    data = render_badge(design(line1=line1, line2=line2))
    assert chunk_types(data) == {b"IHDR", b"IDAT", b"IEND"}  # no text chunk carries it
    assert b"SECRET" not in data and b"script" not in data
    assert png(data).size == (600, 600)


@pytest.mark.parametrize(
    "text",
    [
        "Żółć gęślą jaźń",
        "日本語のバッジ",
        "مرحبا بالعالم",
        "שלום",
        "👩‍👩‍👧‍👦🏳️‍🌈🇺🇦",
        "Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358\u0359\u035a\u035b",
        "a\x00b\x07c\x1bd",
        "tab\tnew\nline\r",
        "\ud800\udfff lone surrogates",
        "\u202eevil\u202c \u2066iso\u2069",
        "\U0010ffff\ue000 private",
        "\u200b\u200b\u200b",
        " ",
        "W" * 24,
    ],
)
@pytest.mark.parametrize("shape", ["shield", "rosette"])
def test_any_unicode_renders_without_crashing(text: str, shape: str) -> None:
    im = png(render_badge(design(shape=shape, line1=text, line2=text[::-1]), size=200))
    assert im.size == (200, 200)


def test_bidi_overrides_are_not_drawn() -> None:
    plain = render_badge(design(line1="RTL", line2=""))
    sneaky = render_badge(design(line1="\u202eRTL", line2=""))
    assert plain == sneaky


def test_low_contrast_text_still_shows() -> None:
    # White on near-white: the renderer adds a dark halo so the words remain readable.
    im = png(render_badge(design(background="#F5F5F5", border="#C0C0C0", line1="Ink")))
    assert count_near(im.crop((150, 200, 450, 400)), (0, 0, 0), tolerance=60) > 200


def test_rendering_is_deterministic() -> None:
    d = design(shape="rosette", icon_png=icon_png())
    assert render_badge(d) == render_badge(d)


def test_font_ships_with_its_licence() -> None:
    fonts = Path(designer.__file__).parent / "fonts"
    assert (fonts / "DejaVuSans-Bold.ttf").is_file()
    assert "Bitstream Vera" in (fonts / "LICENSE-DejaVu.txt").read_text()
