"""Printable PDF certificates of awards (reportlab; pure-Python wheels, no system libraries).

One landscape page, A4 or US Letter, in the space's colours and with its logo when its plan
includes them: the recipient's full name, the badge (name and image), the issuer, the issue
and expiry dates, a summary of the award's evidence when it has any, and a QR code (segno) to
the public verification page — also a link over the code and the address in words, so the
paper and the PDF both lead to the check. Served publicly at ``links.certificate_url``; a
revoked or suspended award has no certificate (410).

Each badge picks one of three designs (``DESIGNS``, ``Badge.certificate_design``): classic
(a frame and a coloured band), modern (a coloured sidebar holding the logo, badge and QR
code) and minimal (centred, no frame). Long names shrink, then wrap; the bundled DejaVu fonts
print Latin, Greek, Cyrillic and more (not CJK). ``preview_png`` draws a sample award of a
badge in a design, for the editor.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import segno
from django.core.files.storage import default_storage
from django.utils import timezone
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from badges import links
from badges.models import Award
from branding.models import DEFAULT_ACCENT, DEFAULT_NAV_BG, DEFAULT_NAV_TEXT, get_branding_for
from branding.plans import Feature, space_has

SIZES = {"a4": landscape(A4), "letter": landscape(letter)}
FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "CertSans", "CertSans-Bold"
MAX_EVIDENCE = 3
INK = HexColor("#1c2333")
MUTED = HexColor("#5d6679")

_fonts_ready = False


def _register_fonts() -> None:
    """DejaVu Sans (bundled): every name in every script the platform accepts prints."""
    global _fonts_ready
    if not _fonts_ready:
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        _fonts_ready = True


@dataclass(frozen=True)
class Look:
    band: str  # the top band (the space's menu colour)
    band_text: str
    accent: str
    logo: bytes | None


def _look(award: Award) -> Look:
    branding = get_branding_for(award.space)
    colours = branding.colours  # defaults filled in
    if not space_has(award.space, Feature.CUSTOM_COLOURS):
        colours = {"nav_bg": DEFAULT_NAV_BG, "nav_text": DEFAULT_NAV_TEXT, "accent": DEFAULT_ACCENT}
    logo = None
    if branding.logo and space_has(award.space, Feature.CUSTOM_LOGO):
        logo = _read(branding.logo.name)
    return Look(colours["nav_bg"], colours["nav_text"], colours["accent"], logo)


def _read(name: str | None) -> bytes | None:
    if not name or not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as f:
        return f.read()


def _image(data: bytes | None) -> ImageReader | None:
    if not data:
        return None
    try:
        return ImageReader(io.BytesIO(data))
    except Exception:  # an image reportlab cannot read (e.g. SVG): the certificate goes without
        return None


def _date(moment) -> str:
    return timezone.localtime(moment).strftime("%-d %B %Y")


# What a certificate prints instead of a name its recipient keeps private (as the public
# page says "Awarded to a recipient who keeps their name private").
NAME_KEPT_PRIVATE = "A recipient who keeps their name private"


def recipient_name(award: Award, *, show_name: bool = True) -> str:
    """The name the certificate prints. ``show_name`` False (a visitor, not the recipient,
    of a private award): never the name, never the email address."""
    if not show_name:
        return NAME_KEPT_PRIVATE
    return award.recipient.get_full_name().strip() or award.recipient_email


def shows_name(award: Award, user) -> bool:
    """Whether ``user`` (anyone, signed in or not) may see the recipient's name on the
    award's certificate: the recipient always; everybody else only when the recipient made
    the award public and it has a name (a visitor never gets the email address instead)."""
    if user is not None and user.is_authenticated and user.pk == award.recipient_id:
        return True
    return bool(award.public_name())


def evidence_lines(award: Award) -> list[str]:
    """One line per piece of evidence (name, else narrative, else URL), at most MAX_EVIDENCE."""
    lines = []
    for item in (getattr(award, "evidence", None) or [])[:MAX_EVIDENCE]:
        get = item.get if isinstance(item, dict) else (lambda k, item=item: getattr(item, k, ""))
        text = get("name") or get("narrative") or get("url") or ""
        text = " ".join(str(text).split())
        if text:
            lines.append(text[:140] + ("…" if len(text) > 140 else ""))
    return lines


def _centred(c: Canvas, text: str, font: str, size: float, x: float, y: float, width: float):
    """Centre ``text`` on x, shrinking it until it fits ``width``."""
    while size > 8 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 1
    c.setFont(font, size)
    c.drawCentredString(x, y, text)


def _qr(c: Canvas, url: str, x: float, y: float, side: float) -> None:
    """The QR code of ``url`` drawn as vector squares in a ``side``-point square at (x, y),
    with a link annotation over it."""
    code = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in code.matrix]
    n = len(matrix) + 8  # the 4-module quiet zone on each side
    module = side / n
    c.setFillColor(white)
    c.rect(x, y, side, side, stroke=0, fill=1)
    c.setFillColor(INK)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                path.rect(x + (col + 4) * module, y + side - (r + 5) * module, module, module)
    c.drawPath(path, stroke=0, fill=1)
    c.linkURL(url, (x, y, x + side, y + side), relative=0)


@dataclass(frozen=True)
class Content:
    """What every design prints, worked out once."""

    recipient: str
    badge: str
    issuer: str
    issued: str
    expiry: str  # "Valid until …" or "Does not expire"
    evidence: list[str]
    verify_url: str
    award_id: str
    space_name: str
    look: Look
    badge_image: ImageReader | None
    logo: ImageReader | None


def _content(award: Award, show_name: bool = True) -> Content:
    look = _look(award)
    snapshot = award.badge_snapshot
    return Content(
        recipient=recipient_name(award, show_name=show_name),
        badge=snapshot.get("name", "Badge"),
        issuer=award.issuer_version.name,
        issued=_date(award.issued_at),
        expiry=f"Valid until {_date(award.expires_at)}" if award.expires_at else "Does not expire",
        evidence=evidence_lines(award),
        verify_url=links.assertion_url(award),
        award_id=str(award.public_id),
        space_name=award.space.name,
        look=look,
        badge_image=_image(_read(snapshot.get("image"))),
        logo=_image(look.logo),
    )


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy lines no wider than ``width``, broken after spaces and hyphens; a piece too
    long for a line on its own is cut by letters."""
    pieces = [p for p in re.split(r"(?<=[ \-])", " ".join(text.split())) if p]
    lines: list[str] = []
    line = ""

    def fits(value: str) -> bool:
        return pdfmetrics.stringWidth(value.rstrip(), font, size) <= width

    for piece in pieces:
        if fits(line + piece):
            line += piece
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        while not fits(piece):
            cut = len(piece)
            while cut > 1 and not fits(piece[:cut]):
                cut -= 1
            lines.append(piece[:cut])
            piece = piece[cut:]
        line = piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _lines(text: str, font: str, size: float, min_size: float, width: float, max_lines: int):
    """(size, lines): ``text`` on one line at the largest size down to ``min_size``; else
    wrapped, at ``min_size`` or smaller (down to 60% of it) until it takes at most
    ``max_lines`` lines; else those lines with the last one cut with "…"."""
    while size > min_size and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 1
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return size, [text]
    floor = max(7, min_size * 0.6)
    lines = _wrap(text, font, size, width)
    while len(lines) > max_lines and size > floor:
        size -= 1
        lines = _wrap(text, font, size, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return size, lines


def _text(
    c: Canvas,
    text: str,
    *,
    font: str,
    size: float,
    x: float,
    y: float,
    width: float,
    align: str = "centre",
    min_size: float = 10,
    max_lines: int = 2,
    leading: float = 1.2,
) -> float:
    """Draw ``text`` with its first baseline at ``y`` (shrunk, then wrapped to fit ``width``);
    returns the baseline of the last line."""
    size, lines = _lines(text, font, size, min_size, width, max_lines)
    c.setFont(font, size)
    for i, line in enumerate(lines):
        if i:
            y -= size * leading
        if align == "centre":
            c.drawCentredString(x, y, line)
        else:
            c.drawString(x, y, line)
    return y


def _logo_or_name(
    c: Canvas,
    content: Content,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    colour: str,
    align: str = "left",
) -> None:
    """The space's logo in a w×h box with its lower left at (x, y), else its name."""
    if content.logo is not None:
        lw, lh = content.logo.getSize()
        scale = min(w / lw, h / lh)
        dx = {"left": 0, "centre": (w - lw * scale) / 2, "right": w - lw * scale}[align]
        c.drawImage(
            content.logo, x + dx, y + (h - lh * scale) / 2, lw * scale, lh * scale, mask="auto"
        )
        return
    c.setFillColor(HexColor(colour))
    size, lines = _lines(content.space_name, BOLD, 18, 10, w, 1)
    c.setFont(BOLD, size)
    baseline = y + h / 2 - size / 3
    if align == "centre":
        c.drawCentredString(x + w / 2, baseline, lines[0])
    elif align == "right":
        c.drawRightString(x + w, baseline, lines[0])
    else:
        c.drawString(x, baseline, lines[0])


def _badge_image(c: Canvas, content: Content, x: float, y: float, side: float) -> None:
    if content.badge_image is not None:
        c.drawImage(content.badge_image, x, y, side, side, preserveAspectRatio=True, mask="auto")


def _evidence(
    c: Canvas,
    content: Content,
    *,
    x: float,
    y: float,
    width: float,
    align: str,
    heading_colour: str,
    size: float = 10,
) -> float:
    c.setFillColor(HexColor(heading_colour))
    c.setFont(BOLD, size + 1)
    (c.drawCentredString if align == "centre" else c.drawString)(x, y, "Evidence")
    c.setFillColor(MUTED)
    for line in content.evidence:
        y -= size * 1.45
        prefix = "" if align == "centre" else "• "
        y = _text(
            c,
            prefix + line,
            font=REGULAR,
            size=size,
            x=x,
            y=y,
            width=width,
            align=align,
            min_size=size,
            max_lines=2,
            leading=1.35,
        )
    return y


def _classic(c: Canvas, content: Content, width: float, height: float) -> None:
    """A framed certificate: the space's menu colours in a band with its logo, the badge
    image on the left, the words centred beside it, the QR code bottom right."""
    look = content.look
    margin = 28
    c.setStrokeColor(HexColor(look.accent))
    c.setLineWidth(3)
    c.rect(margin, margin, width - 2 * margin, height - 2 * margin, stroke=1, fill=0)
    band = 64
    top = height - margin
    c.setFillColor(HexColor(look.band))
    c.rect(margin, top - band, width - 2 * margin, band, stroke=0, fill=1)
    _logo_or_name(c, content, margin + 20, top - band + 10, 260, 44, colour=look.band_text)
    c.setFillColor(HexColor(look.band_text))
    c.setFont(REGULAR, 11)
    c.drawRightString(width - margin - 20, top - band / 2 - 4, "Certificate of achievement")

    inner_left = margin + 40
    image_side = 150
    text_left = inner_left + image_side + 30
    text_width = width - margin - 40 - text_left
    centre = text_left + text_width / 2
    _badge_image(c, content, inner_left, top - band - 95 - image_side, image_side)

    y = top - band - 105
    c.setFillColor(MUTED)
    _text(c, "This certifies that", font=REGULAR, size=13, x=centre, y=y, width=text_width)
    y -= 44
    c.setFillColor(INK)
    y = _text(
        c,
        content.recipient,
        font=BOLD,
        size=32,
        x=centre,
        y=y,
        width=text_width,
        min_size=20,
        max_lines=3,
        leading=1.1,
    )
    y -= 32
    c.setFillColor(MUTED)
    _text(c, "has earned the badge", font=REGULAR, size=13, x=centre, y=y, width=text_width)
    y -= 36
    c.setFillColor(HexColor(look.accent))
    y = _text(
        c,
        content.badge,
        font=BOLD,
        size=24,
        x=centre,
        y=y,
        width=text_width,
        min_size=16,
        leading=1.15,
    )
    y -= 34
    c.setFillColor(INK)
    y = _text(
        c,
        f"Issued by {content.issuer} on {content.issued}",
        font=REGULAR,
        size=13,
        x=centre,
        y=y,
        width=text_width,
    )
    y -= 20
    c.setFillColor(MUTED)
    _text(c, content.expiry, font=REGULAR, size=11, x=centre, y=y, width=text_width)
    if content.evidence:
        _evidence(
            c,
            content,
            x=centre,
            y=y - 30,
            width=text_width,
            align="centre",
            heading_colour="#1c2333",
        )

    qr_side = 96
    qr_x, qr_y = width - margin - 20 - qr_side, margin + 20
    _qr(c, content.verify_url, qr_x, qr_y, qr_side)
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 8)
    c.drawRightString(qr_x - 10, qr_y + 22, "Verify this certificate:")
    c.drawRightString(qr_x - 10, qr_y + 10, content.verify_url)
    c.drawString(margin + 20, margin + 12, f"Award {content.award_id}")


def _modern(c: Canvas, content: Content, width: float, height: float) -> None:
    """A sidebar in the space's menu colour (logo, badge image, QR code), the words set
    left-aligned beside it, the facts in labelled columns."""
    look = content.look
    side_w = 250
    c.setFillColor(HexColor(look.band))
    c.rect(0, 0, side_w, height, stroke=0, fill=1)
    c.setFillColor(HexColor(look.accent))
    c.rect(side_w, 0, 6, height, stroke=0, fill=1)
    _logo_or_name(
        c, content, 30, height - 90, side_w - 60, 50, colour=look.band_text, align="centre"
    )
    # The badge image on a white disc, mid-sidebar.
    disc = 170
    cx, cy = side_w / 2, height / 2 + 30
    c.setFillColor(white)
    c.circle(cx, cy, disc / 2 + 8, stroke=0, fill=1)
    _badge_image(c, content, cx - disc / 2 + 14, cy - disc / 2 + 14, disc - 28)
    qr_side = 104
    _qr(c, content.verify_url, (side_w - qr_side) / 2, 46, qr_side)
    c.setFillColor(HexColor(look.band_text))
    c.setFont(REGULAR, 8)
    c.drawCentredString(side_w / 2, 32, "Scan to verify")

    left = side_w + 60
    text_width = width - left - 50
    y = height - 92
    c.setFillColor(HexColor(look.accent))
    c.setFont(BOLD, 12)
    c.drawString(left, y, "CERTIFICATE OF ACHIEVEMENT")
    y -= 60
    c.setFillColor(INK)
    y = _text(
        c,
        content.recipient,
        font=BOLD,
        size=38,
        x=left,
        y=y,
        width=text_width,
        align="left",
        min_size=22,
        max_lines=3,
        leading=1.1,
    )
    y -= 30
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 13)
    c.drawString(left, y, "has earned")
    y -= 32
    c.setFillColor(HexColor(look.accent))
    y = _text(
        c,
        content.badge,
        font=BOLD,
        size=26,
        x=left,
        y=y,
        width=text_width,
        align="left",
        min_size=16,
        leading=1.15,
    )
    # The facts: three labelled columns.
    y -= 48
    facts = [
        ("Issued by", content.issuer),
        ("Issued on", content.issued),
        ("Validity", content.expiry),
    ]
    column = text_width / 3
    lowest = y
    for i, (label, value) in enumerate(facts):
        x = left + i * column
        c.setFillColor(MUTED)
        c.setFont(REGULAR, 9)
        c.drawString(x, y, label.upper())
        c.setFillColor(INK)
        lowest = min(
            lowest,
            _text(
                c,
                value,
                font=BOLD,
                size=12,
                x=x,
                y=y - 17,
                width=column - 14,
                align="left",
                min_size=9,
                max_lines=3,
            ),
        )
    y = lowest
    if content.evidence:
        _evidence(
            c, content, x=left, y=y - 34, width=text_width, align="left", heading_colour=look.accent
        )
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 8)
    c.drawString(left, 44, f"Verify at {content.verify_url}")
    c.drawString(left, 32, f"Award {content.award_id}")


def _minimal(c: Canvas, content: Content, width: float, height: float) -> None:
    """Quiet and centred: a thin accent rule, a small logo, the badge image above the name,
    the facts on one line, a small QR code at the foot. No frame, no band."""
    look = content.look
    c.setFillColor(HexColor(look.accent))
    c.rect(0, height - 8, width, 8, stroke=0, fill=1)
    _logo_or_name(
        c, content, width / 2 - 90, height - 70, 180, 36, colour=look.accent, align="centre"
    )
    centre = width / 2
    text_width = width - 220
    image_side = 96
    _badge_image(c, content, centre - image_side / 2, height - 190, image_side)
    y = height - 226
    c.setFillColor(HexColor(look.accent))
    c.setFont(BOLD, 11)
    c.drawCentredString(centre, y, "CERTIFICATE OF ACHIEVEMENT")
    y -= 52
    c.setFillColor(INK)
    y = _text(
        c,
        content.recipient,
        font=BOLD,
        size=40,
        x=centre,
        y=y,
        width=text_width,
        min_size=22,
        max_lines=3,
        leading=1.1,
    )
    y -= 16
    c.setStrokeColor(HexColor(look.accent))
    c.setLineWidth(1)
    c.line(centre - 60, y, centre + 60, y)
    y -= 30
    c.setFillColor(INK)
    y = _text(
        c,
        f"has earned {content.badge}",
        font=REGULAR,
        size=16,
        x=centre,
        y=y,
        width=text_width,
        min_size=11,
    )
    y -= 24
    c.setFillColor(MUTED)
    y = _text(
        c,
        f"Issued by {content.issuer} on {content.issued} · {content.expiry}",
        font=REGULAR,
        size=11,
        x=centre,
        y=y,
        width=text_width,
        min_size=8,
    )
    if content.evidence:
        c.setFillColor(MUTED)
        _text(
            c,
            "Evidence: " + "; ".join(content.evidence),
            font=REGULAR,
            size=10,
            x=centre,
            y=y - 24,
            width=text_width,
            min_size=9,
            max_lines=2,
        )
    qr_side = 72
    _qr(c, content.verify_url, centre - qr_side / 2, 44, qr_side)
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 8)
    c.drawCentredString(centre, 32, content.verify_url)
    c.drawCentredString(centre, 20, f"Award {content.award_id}")


# The template set a badge chooses from (Badge.certificate_design).
DESIGNS = {"classic": _classic, "modern": _modern, "minimal": _minimal}


def certificate_pdf(
    award: Award, size: str = "a4", design: str | None = None, *, show_name: bool = True
) -> bytes:
    """The certificate of ``award`` as PDF bytes, in ``design`` (default: the badge's own
    choice); without the recipient's name (nor email) when ``show_name`` is False (see
    ``shows_name``). Needs award.recipient, award.issuer_version, award.space and
    award.badge loaded."""
    _register_fonts()
    width, height = SIZES[size]
    content = _content(award, show_name)
    if design not in DESIGNS:
        design = getattr(award.badge, "certificate_design", "") or "classic"
        design = design if design in DESIGNS else "classic"
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    c.setTitle(f"{content.badge} — {content.recipient}" if show_name else content.badge)
    c.setAuthor(content.issuer)
    c.setSubject(f"Certificate of the badge {content.badge}; verify at {content.verify_url}")
    c.setCreator("Badge Platform")
    DESIGNS[design](c, content, width, height)
    c.showPage()
    c.save()
    return buffer.getvalue()


SAMPLE_ID = "00000000-0000-4000-8000-000000000000"


def sample_award(badge) -> Award:
    """An unsaved award of ``badge`` to a sample person, for the editor's previews."""
    import uuid

    from issuers.models import IssuerVersion
    from users.models import User

    now = timezone.now()
    issuer = badge.issuer.current if badge.issuer_id and badge.issuer.current_id else None
    return Award(
        space=badge.space,
        badge=badge,
        public_id=uuid.UUID(SAMPLE_ID),
        recipient=User(first_name="Alex", last_name="Sample"),
        recipient_email="alex@example.org",
        issuer_version=issuer or IssuerVersion(name="Your issuer"),
        badge_snapshot={
            "name": badge.name or "Badge name",
            "image": badge.graphic.image.name if badge.graphic_id else "",
        },
        issued_at=now,
        achieved_at=now,
        expires_at=badge.expiry_for(now),
        evidence=[{"name": "Final project", "url": "https://example.org/work"}],
    )


def preview_png(badge, design: str, scale: float = 0.6) -> bytes:
    """The first page of a sample certificate of ``badge`` in ``design``, as a PNG."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(certificate_pdf(sample_award(badge), "a4", design))
    try:
        image = pdf[0].render(scale=scale).to_pil()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def certificate_award(public_id) -> Award | None:
    """The award a certificate URL names, with what the certificate needs (one query)."""
    return (
        Award.objects.select_related("recipient", "issuer_version", "space", "badge")
        .filter(public_id=public_id)
        .first()
    )
