"""Printable PDF certificates of awards (reportlab; pure-Python wheels, no system libraries).

One landscape page, A4 or US Letter, in the space's colours and with its logo when its plan
includes them: the recipient's full name, the badge (name and image), the issuer, the issue
and expiry dates, a summary of the award's evidence when it has any, and a QR code (segno) to
the public verification page — also a link over the code and the address in words, so the
paper and the PDF both lead to the check. Served publicly at ``links.certificate_url``; a
revoked or suspended award has no certificate (410).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from django.core.files.storage import default_storage
from django.utils import timezone
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.utils import ImageReader, simpleSplit
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


def recipient_name(award: Award) -> str:
    return award.recipient.get_full_name().strip() or award.recipient_email


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


def certificate_pdf(award: Award, size: str = "a4") -> bytes:
    """The certificate of ``award`` as PDF bytes. Needs award.recipient, award.issuer_version
    and award.space loaded."""
    _register_fonts()
    width, height = SIZES[size]
    look = _look(award)
    snapshot = award.badge_snapshot
    verify_url = links.assertion_url(award)
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    badge_name = snapshot.get("name", "Badge")
    c.setTitle(f"{badge_name} — {recipient_name(award)}")
    c.setAuthor(award.issuer_version.name)
    c.setSubject(f"Certificate of the badge {badge_name}; verify at {verify_url}")
    c.setCreator("Badge Platform")

    margin = 28
    # The frame, in the space's accent colour.
    c.setStrokeColor(HexColor(look.accent))
    c.setLineWidth(3)
    c.rect(margin, margin, width - 2 * margin, height - 2 * margin, stroke=1, fill=0)
    # The top band: the space's logo (or name) in its menu colours.
    band = 64
    top = height - margin
    c.setFillColor(HexColor(look.band))
    c.rect(margin, top - band, width - 2 * margin, band, stroke=0, fill=1)
    logo = _image(look.logo)
    if logo is not None:
        w, h = logo.getSize()
        scale = min(200 / w, 44 / h)
        c.drawImage(
            logo, margin + 20, top - band / 2 - h * scale / 2, w * scale, h * scale, mask="auto"
        )
    else:
        c.setFillColor(HexColor(look.band_text))
        c.setFont(BOLD, 18)
        c.drawString(margin + 20, top - band / 2 - 6, award.space.name)
    c.setFillColor(HexColor(look.band_text))
    c.setFont(REGULAR, 11)
    c.drawRightString(width - margin - 20, top - band / 2 - 4, "Certificate of achievement")

    # The badge image on the left, the text centred in the rest.
    inner_left = margin + 40
    image_side = 150
    text_left = inner_left + image_side + 30
    text_width = width - margin - 40 - text_left
    centre = text_left + text_width / 2
    badge_image = _image(_read(snapshot.get("image")))
    image_top = top - band - 95
    if badge_image is not None:
        c.drawImage(
            badge_image,
            inner_left,
            image_top - image_side,
            image_side,
            image_side,
            preserveAspectRatio=True,
            mask="auto",
        )

    y = top - band - 105
    c.setFillColor(MUTED)
    _centred(c, "This certifies that", REGULAR, 13, centre, y, text_width)
    y -= 44
    c.setFillColor(INK)
    _centred(c, recipient_name(award), BOLD, 32, centre, y, text_width)
    y -= 32
    c.setFillColor(MUTED)
    _centred(c, "has earned the badge", REGULAR, 13, centre, y, text_width)
    y -= 36
    c.setFillColor(HexColor(look.accent))
    _centred(c, badge_name, BOLD, 24, centre, y, text_width)
    y -= 34
    c.setFillColor(INK)
    _centred(
        c,
        f"Issued by {award.issuer_version.name} on {_date(award.issued_at)}",
        REGULAR,
        13,
        centre,
        y,
        text_width,
    )
    y -= 20
    expiry = f"Valid until {_date(award.expires_at)}" if award.expires_at else "Does not expire"
    c.setFillColor(MUTED)
    _centred(c, expiry, REGULAR, 11, centre, y, text_width)

    evidence = evidence_lines(award)
    if evidence:
        y -= 30
        c.setFillColor(INK)
        _centred(c, "Evidence", BOLD, 11, centre, y, text_width)
        c.setFont(REGULAR, 10)
        c.setFillColor(MUTED)
        for line in evidence:
            for part in simpleSplit(line, REGULAR, 10, text_width)[:2]:
                y -= 14
                c.drawCentredString(centre, y, part)

    # The QR code to the verification page, bottom right, with the address in words.
    qr_side = 96
    qr_x, qr_y = width - margin - 20 - qr_side, margin + 20
    _qr(c, verify_url, qr_x, qr_y, qr_side)
    c.setFillColor(MUTED)
    c.setFont(REGULAR, 8)
    c.drawRightString(qr_x - 10, qr_y + 22, "Verify this certificate:")
    c.drawRightString(qr_x - 10, qr_y + 10, verify_url)
    c.drawString(margin + 20, margin + 12, f"Award {award.public_id}")
    c.showPage()
    c.save()
    return buffer.getvalue()


def certificate_award(public_id) -> Award | None:
    """The award a certificate URL names, with what the certificate needs (one query)."""
    return (
        Award.objects.select_related("recipient", "issuer_version", "space")
        .filter(public_id=public_id)
        .first()
    )
