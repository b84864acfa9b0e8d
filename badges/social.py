"""The picture a shared link unfurls into (Open Graph / Twitter ``summary_large_image``).

``card_png(...)`` draws a 1200×630 PNG with Pillow: the badge graphic on the left, the
badge's name, who earned it (only when the recipient made their name public) and the issuer
on the right, the award's state when it is no longer valid, and the site's address in a band
at the bottom — in the platform's look, like the public pages. The bundled DejaVu fonts
print names in every script they cover. Cards are cached by a digest of what they show, so
a change (a rename, a revocation) draws a new one and an unchanged card is never redrawn.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw, ImageFont

from badges.openbadges.publish import FORMAT, Payload, _cached
from branding.models import DEFAULT_ACCENT, DEFAULT_NAV_BG, DEFAULT_NAV_TEXT

WIDTH, HEIGHT = 1200, 630
FONT_DIR = settings.BASE_DIR / "badges" / "fonts"
INK = "#1c2333"
MUTED = "#5d6679"
STATE_COLOURS = {"revoked": "#b42318", "suspended": "#b54708", "expired": "#b54708"}


@dataclass(frozen=True)
class Card:
    title: str  # the badge's name
    image: str  # the stored graphic's name ("" for none)
    issuer: str
    recipient: str = ""  # only when public
    state: str = ""  # "", "revoked", "suspended", "expired"
    label: str = "Verified Open Badge"

    def key(self) -> str:
        digest = hashlib.sha256(repr(sorted(asdict(self).items())).encode()).hexdigest()[:32]
        return f"ob:{FORMAT}:card:{digest}"


@lru_cache(maxsize=32)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Words on lines no wider than ``width``; a word too long for a line is cut by letters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def fit(text: str, *, bold: bool, sizes: tuple[int, ...], width: float, max_lines: int):
    """The largest size at which ``text`` fits in ``max_lines`` lines (else the smallest,
    its last line ending in an ellipsis)."""
    for size in sizes:
        font = _font(bold, size)
        lines = wrap(text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    lines = lines[:max_lines]
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return font, lines


def _graphic(name: str) -> Image.Image | None:
    if not name or not default_storage.exists(name):
        return None
    try:
        with default_storage.open(name, "rb") as f:
            image = Image.open(io.BytesIO(f.read()))
            image.load()
    except Exception:  # an unreadable graphic: the card goes without it
        return None
    return image.convert("RGBA")


def draw(card: Card) -> bytes:
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    pen = ImageDraw.Draw(canvas)
    band = 78
    pen.rectangle((0, 0, WIDTH, 10), fill=DEFAULT_ACCENT)
    pen.rectangle((0, HEIGHT - band, WIDTH, HEIGHT), fill=DEFAULT_NAV_BG)
    host = urlsplit(settings.SITE_URL).netloc
    pen.text(
        (60, HEIGHT - band / 2),
        "✓ Badge Platform",
        font=_font(True, 28),
        fill=DEFAULT_NAV_TEXT,
        anchor="lm",
    )
    pen.text(
        (WIDTH - 60, HEIGHT - band / 2),
        host,
        font=_font(False, 24),
        fill=DEFAULT_NAV_TEXT,
        anchor="rm",
    )

    side = 380
    top = 10 + (HEIGHT - band - 10 - side) // 2
    graphic = _graphic(card.image)
    if graphic is not None:
        scale = min(side / graphic.width, side / graphic.height)  # small graphics grow too
        graphic = graphic.resize(
            (max(1, round(graphic.width * scale)), max(1, round(graphic.height * scale))),
            Image.LANCZOS,
        )
        x = 70 + (side - graphic.width) // 2
        y = top + (side - graphic.height) // 2
        canvas.paste(graphic, (x, y), graphic)
    else:
        pen.ellipse((70, top, 70 + side, top + side), fill="#e8ecf5")

    left, right = 70 + side + 60, WIDTH - 60
    width = right - left
    blocks: list[tuple[ImageFont.FreeTypeFont, list[str], str, int]] = []
    label = card.state.capitalize() if card.state else card.label
    blocks.append((_font(True, 24), [label.upper()], STATE_COLOURS.get(card.state, MUTED), 18))
    font, lines = fit(card.title, bold=True, sizes=(64, 56, 48, 42, 36), width=width, max_lines=3)
    blocks.append((font, lines, INK, 26))
    if card.recipient:
        font, lines = fit(
            f"Awarded to {card.recipient}",
            bold=False,
            sizes=(34, 30, 26),
            width=width,
            max_lines=2,
        )
        blocks.append((font, lines, INK, 14))
    font, lines = fit(
        f"Issued by {card.issuer}", bold=False, sizes=(30, 26, 24), width=width, max_lines=2
    )
    blocks.append((font, lines, MUTED, 0))

    def height_of(font, lines):
        ascent, descent = font.getmetrics()
        return len(lines) * (ascent + descent + 6)

    total = sum(height_of(f, lines) + gap for f, lines, _, gap in blocks)
    y = 10 + (HEIGHT - band - 10 - total) / 2
    for font, lines, colour, gap in blocks:
        ascent, descent = font.getmetrics()
        for line in lines:
            pen.text((left, y), line, font=font, fill=colour)
            y += ascent + descent + 6
        y += gap
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


def card_png(card: Card) -> Payload:
    return _cached(card.key(), lambda: Payload.of(draw(card), 200, "image/png"), local=False)
