"""Server-side badge graphic designer: a Design in, a crisp transparent PNG out.

Shapes are drawn hard-edged at 4x (fewer times for big output) and downsampled once with
LANCZOS: clean anti-aliasing, though Pillow has no anti-aliased shape primitives. Borders and
rings are exact inward offsets of the outline, so they stay even all the way round, the
shield's point included. Text is drawn with the bundled DejaVu Sans Bold (badges/fonts).
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

SHAPES = ("circle", "hexagon", "shield", "rounded-square", "rosette")
MAX_LINE_LENGTH = 24
MIN_SIZE, MAX_SIZE = 64, 2048

_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_SUPERSAMPLE = 4  # for sizes up to 600; bigger badges use less (memory is size² × factor²)
_MAX_CANVAS = 4096
_FONT_FILE = Path(__file__).resolve().parent / "fonts" / "DejaVuSans-Bold.ttf"
_SYSTEM_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
_ICON_MAX_SIDE = 4096

Point = tuple[float, float]
RGB = tuple[int, int, int]


@dataclass
class Design:
    shape: str
    background: str  # "#RRGGBB"
    border: str
    text_color: str
    line1: str = ""
    line2: str = ""
    icon_png: bytes | None = None  # already through badgeplatform.images.process_image

    def validate(self) -> None:
        """Raise ValueError, with a message fit for a form, if this design can't be drawn."""
        if self.shape not in SHAPES:
            raise ValueError(f"Unknown badge shape; choose one of: {', '.join(SHAPES)}.")
        colours = (
            ("background", self.background),
            ("border", self.border),
            ("text", self.text_color),
        )
        for label, value in colours:
            if not isinstance(value, str) or not _COLOUR.fullmatch(value):
                # The bad value is not echoed back: it is user input of unknown size.
                raise ValueError(
                    f"The {label} colour must be a hex colour like #1F6FEB (# and six digits)."
                )
        for label, value in (("first", self.line1), ("second", self.line2)):
            if not isinstance(value, str):
                raise ValueError(f"The {label} line of text must be text.")
            if len(value) > MAX_LINE_LENGTH:
                raise ValueError(
                    f"The {label} line of text is {len(value)} characters long; "
                    f"the limit is {MAX_LINE_LENGTH}."
                )
        if self.icon_png is not None and not isinstance(self.icon_png, bytes):
            raise ValueError("The icon must be PNG image bytes.")


def render_badge(design: Design, *, size: int = 600) -> bytes:
    """Render the design as a size × size RGBA PNG, transparent outside the badge."""
    design.validate()
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"The badge size must be between {MIN_SIZE} and {MAX_SIZE} pixels.")
    icon = _load_icon(design.icon_png) if design.icon_png else None

    scale = max(2, min(_SUPERSAMPLE, _MAX_CANVAS // size))
    n = size * scale
    geo = _geometry(design.shape, n)
    bg, border, ink = _rgb(design.background), _rgb(design.border), _rgb(design.text_color)
    u = n / 100  # one unit = 1% of the badge's side; every proportion below is in units
    border_w, gap, ring_w = 3.6 * u, 1.8 * u, max(1.0, 0.7 * u)

    # Hard-edged polygons painted straight onto the canvas, back to front (no mask blending,
    # which at 4x would cost ~0.1 s a layer); the downsample does all the anti-aliasing.
    canvas = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for i, poly in enumerate(geo.behind):  # ribbon tails; the right-hand one a shade darker
        draw.polygon(poly, fill=_mix(border, (0, 0, 0), 0.18 if i % 2 else 0.06))
        draw.polygon(_offset(poly, 1.6 * u), fill=_mix(bg, border, 0.06))
    draw.polygon(geo.outline, fill=border)
    face = _offset(geo.outline, border_w) if geo.face is None else geo.face
    _draw_pleats(draw, geo, border, u)
    draw.polygon(face, fill=bg)
    # A thin inner ring in the border colour: the detail that makes it read as a badge.
    draw.polygon(_offset(face, gap), fill=_mix(border, bg, 0.15))
    draw.polygon(_offset(face, gap + ring_w), fill=bg)

    safe = _mask(n, face, inset=gap + ring_w + 3.5 * u)
    layout = _layout(design, icon, safe, scale)
    _draw_text(canvas, layout, ink, bg, _mask(n, face, inset=gap + ring_w))

    badge = canvas.resize((size, size), Image.Resampling.LANCZOS)
    badge = _add_sheen(badge)
    if icon is not None and layout.icon_box is not None:
        _place_icon(badge, icon, layout.icon_box, scale)

    out = io.BytesIO()
    badge.save(out, format="PNG")
    return out.getvalue()


# --- geometry -----------------------------------------------------------------------------


@dataclass
class _Geometry:
    outline: list[Point]  # the body's silhouette
    face: list[Point] | None = None  # where the background goes; None: outline minus border
    behind: list[list[Point]] = field(default_factory=list)  # drawn under the body
    pleats: tuple[Point, float, float, int] | None = None  # centre, r_in, r_out, count


def _geometry(shape: str, n: int) -> _Geometry:
    c = n / 2
    if shape == "circle":
        return _Geometry(_circle((c, c), 0.47 * n))
    if shape == "hexagon":
        r = 0.48 * n  # pointy-top
        corners = [
            (c + r * math.cos(math.radians(a)), c + r * math.sin(math.radians(a)))
            for a in range(-90, 270, 60)
        ]
        return _Geometry(_rounded(corners, [0.05 * n] * 6))
    if shape == "rounded-square":
        lo, hi = 0.06 * n, 0.94 * n
        return _Geometry(_rounded([(lo, lo), (hi, lo), (hi, hi), (lo, hi)], [0.14 * n] * 4))
    if shape == "shield":
        return _Geometry(_shield(n))
    if shape == "rosette":
        return _rosette(n)
    raise ValueError(f"Unknown badge shape; choose one of: {', '.join(SHAPES)}.")


def _circle(centre: Point, r: float, steps: int = 720) -> list[Point]:
    cx, cy = centre
    return [
        (cx + r * math.cos(2 * math.pi * i / steps), cy + r * math.sin(2 * math.pi * i / steps))
        for i in range(steps)
    ]


def _shield(n: int) -> list[Point]:
    """A heater shield: a slightly dipped top, straight flanks, curves meeting in a point."""
    c = n / 2
    x1, top, dip, waist, tip = 0.90 * n, 0.04 * n, 0.03 * n, 0.40 * n, 0.965 * n  # mirrored
    top_right = _bezier((c, top + dip), (0.60 * n, top + dip), (0.68 * n, top), (0.74 * n, top), 24)
    top_right.append((x1, top))  # a straight run into the corner, so it can be rounded
    top_left = [(n - x, y) for x, y in reversed(top_right)]
    right = _bezier((x1, waist), (x1, 0.68 * n), (c + 0.24 * n, 0.86 * n), (c, tip))
    left = [(n - x, y) for x, y in reversed(right)]
    points = top_left + top_right[1:] + right + left[1:]
    radii = [0.0] * len(points)
    radii[0] = radii[len(top_left) + len(top_right) - 2] = 0.05 * n  # the two top corners
    return _rounded(points, radii)


def _rosette(n: int) -> _Geometry:
    """A prize rosette: a pleated, scalloped ring around a disc, two swallow-tail ribbons."""
    c = (n / 2, 0.405 * n)
    r_base, depth, petals = 0.355 * n, 0.03 * n, 36
    outline = [
        (
            c[0] + (r_base + depth * abs(math.cos(petals * t / 2))) * math.cos(t),
            c[1] + (r_base + depth * abs(math.cos(petals * t / 2))) * math.sin(t),
        )
        for t in (2 * math.pi * i / 2880 for i in range(2880))
    ]
    r_face = 0.285 * n
    tails = []
    for side in (-1, 1):
        # Each tail hangs from behind the disc, splaying outwards, with a notched end.
        angle = math.radians(16 * side)
        w, length = 0.145 * n, 0.50 * n
        ax, ay = c[0] + side * 0.06 * n, c[1] + 0.05 * n  # top centre, hidden under the disc
        dx, dy = math.sin(angle), math.cos(angle)  # along the tail
        px, py = dy, -dx  # across the tail
        bx, by = ax + dx * length, ay + dy * length
        notch = 0.075 * n
        tails.append(
            [
                (ax - px * w / 2, ay - py * w / 2),
                (ax + px * w / 2, ay + py * w / 2),
                (bx + px * w / 2, by + py * w / 2),
                (bx - dx * notch, by - dy * notch),
                (bx - px * w / 2, by - py * w / 2),
            ]
        )
    return _Geometry(
        outline,
        face=_circle(c, r_face),
        behind=tails,
        pleats=(c, r_face, r_base + depth, petals),
    )


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, steps: int = 96) -> list[Point]:
    pts = []
    for i in range(steps + 1):
        t = i / steps
        a, b, cc, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        pts.append(
            (
                a * p0[0] + b * p1[0] + cc * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + cc * p2[1] + d * p3[1],
            )
        )
    return pts


def _rounded(points: Sequence[Point], radii: Sequence[float], steps: int = 24) -> list[Point]:
    """Replace each corner whose radius is > 0 by a circular arc tangent to both edges."""
    out: list[Point] = []
    count = len(points)
    for i, (p, radius) in enumerate(zip(points, radii, strict=True)):
        if radius <= 0:
            out.append(p)
            continue
        prev, nxt = points[i - 1], points[(i + 1) % count]
        v1 = _unit(prev[0] - p[0], prev[1] - p[1])
        v2 = _unit(nxt[0] - p[0], nxt[1] - p[1])
        cos_corner = max(-1.0, min(1.0, v1[0] * v2[0] + v1[1] * v2[1]))
        half = math.acos(cos_corner) / 2
        if half < 1e-3 or half > math.pi / 2 - 1e-3:
            out.append(p)
            continue
        reach = min(radius / math.tan(half), _dist(p, prev) / 2, _dist(p, nxt) / 2)
        r = reach * math.tan(half)
        a = (p[0] + v1[0] * reach, p[1] + v1[1] * reach)
        b = (p[0] + v2[0] * reach, p[1] + v2[1] * reach)
        bis = _unit(v1[0] + v2[0], v1[1] + v2[1])
        centre = (p[0] + bis[0] * r / math.sin(half), p[1] + bis[1] * r / math.sin(half))
        start = math.atan2(a[1] - centre[1], a[0] - centre[0])
        end = math.atan2(b[1] - centre[1], b[0] - centre[0])
        sweep = (end - start + math.pi) % (2 * math.pi) - math.pi  # the short way round
        for k in range(steps + 1):
            t = start + sweep * k / steps
            out.append((centre[0] + r * math.cos(t), centre[1] + r * math.sin(t)))
    return out


def _unit(x: float, y: float) -> Point:
    length = math.hypot(x, y) or 1.0
    return (x / length, y / length)


def _dist(p: Point, q: Point) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def _mask(n: int, poly: Sequence[Point], *, inset: float = 0) -> Image.Image:
    """Hard-edged mask of the polygon, shrunk by ``inset`` pixels all round."""
    m = Image.new("L", (n, n), 0)
    ImageDraw.Draw(m).polygon(_offset(poly, inset) if inset else list(poly), fill=255)
    return m


def _offset(poly: Sequence[Point], d: float) -> list[Point]:
    """The polygon shrunk by ``d``: every edge moved inwards, meeting its neighbours.

    Edges too short to survive the shrink (the dense samples near a shield's point) turn
    inside out; they are dropped and their neighbours extended, as in a true inset. Exact for
    the near-convex outlines drawn here; Pillow's wide outlines instead leave spikes.
    """
    pts: list[Point] = []
    for p in poly:  # consecutive duplicates (where two rounded corners meet) have no direction
        if not pts or _dist(p, pts[-1]) > 1e-6:
            pts.append(p)
    if len(pts) > 1 and _dist(pts[0], pts[-1]) <= 1e-6:
        pts.pop()
    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, pts[1:] + pts[:1], strict=True))
    turn = 1.0 if area > 0 else -1.0  # which side of each edge is inside
    # Each edge as (a point on it, its direction), already moved inwards by d.
    edges = []
    for a, b in zip(pts, pts[1:] + pts[:1], strict=True):
        ux, uy = _unit(b[0] - a[0], b[1] - a[1])
        nx, ny = -uy * turn, ux * turn
        edges.append(((a[0] + nx * d, a[1] + ny * d), (ux, uy)))
    while len(edges) >= 3:
        corners = [_meet(edges[i - 1], edges[i]) for i in range(len(edges))]
        alive = [
            i
            for i, (_, (ux, uy)) in enumerate(edges)
            if (corners[(i + 1) % len(edges)][0] - corners[i][0]) * ux
            + (corners[(i + 1) % len(edges)][1] - corners[i][1]) * uy
            >= 0
        ]
        if len(alive) == len(edges):
            return corners
        edges = [edges[i] for i in alive]
    return []


def _meet(e1: tuple[Point, Point], e2: tuple[Point, Point]) -> Point:
    """Where two lines, each a point and a direction, cross (e2's point if parallel)."""
    (p, u), (q, v) = e1, e2
    cross = u[0] * v[1] - u[1] * v[0]
    if abs(cross) < 1e-9:
        return q
    t = ((q[0] - p[0]) * v[1] - (q[1] - p[1]) * v[0]) / cross
    return (p[0] + u[0] * t, p[1] + u[1] * t)


def _draw_pleats(draw: ImageDraw.ImageDraw, geo: _Geometry, border: RGB, u: float) -> None:
    """Radial fold lines in the rosette's ribbon ring, one per scallop notch."""
    if geo.pleats is None:
        return
    (cx, cy), r_in, r_out, petals = geo.pleats
    fold = _mix(border, (0, 0, 0), 0.25)
    for k in range(petals):
        t = (2 * k + 1) * math.pi / petals  # where |cos(petals * t / 2)| is 0: a notch
        draw.line(
            [
                (cx + r_in * math.cos(t), cy + r_in * math.sin(t)),
                (cx + r_out * math.cos(t), cy + r_out * math.sin(t)),
            ],
            fill=fold,
            width=max(1, round(0.45 * u)),
        )


def _add_sheen(badge: Image.Image) -> Image.Image:
    """Soft top light and bottom shade, so flat colours read as a physical badge.

    Applied after downsampling (it is smooth, so needs no supersampling) and to RGB only,
    leaving the anti-aliased alpha edge exactly as drawn.
    """
    size = badge.size
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)  # 0 at the top
    light = ramp.point(lambda v: max(0, round((120 - v) / 120 * 42)))
    shade = ramp.point(lambda v: max(0, round((v - 150) / 105 * 30)))
    alpha = badge.getchannel("A")
    rgb = badge.convert("RGB")
    rgb.paste((255, 255, 255), mask=light)
    rgb.paste((0, 0, 0), mask=shade)
    rgb.putalpha(alpha)
    return rgb


# --- text and icon ------------------------------------------------------------------------


@dataclass
class _Row:
    text: str
    size: int
    y: float  # centre line, canvas pixels
    kind: str = "title"  # or "subtitle"


@dataclass
class _Layout:
    rows: list[_Row]
    icon_box: tuple[float, float, float, float] | None  # (x0, y0, x1, y1), canvas pixels


# Bidi embeddings, overrides and isolates: they'd let the pixels read differently from the
# stored text (U+202E turns "RTL" into "LTR"), which matters to anyone reviewing a badge.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _clean(text: str) -> str:
    """Drawable text: NFC, whitespace as spaces, no controls, bidi overrides or surrogates."""
    text = unicodedata.normalize("NFC", text.encode("utf-8", "replace").decode("utf-8"))
    return "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace()
        or (ch not in _BIDI_CONTROLS and unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn"))
    ).strip()


# Each FreeType font object holds its own copy of the 700 KB file: keep only a few sizes.
@lru_cache(maxsize=16)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (_FONT_FILE, _SYSTEM_FONT):
        if path.is_file():
            return ImageFont.truetype(str(path), px)
    return ImageFont.load_default(px)


_MEASURE_PX = 400


def _text_width(text: str, px: float) -> float:
    """Advance width at ``px``, scaled from one reference size (plus 2% for hinting)."""
    return float(_font(_MEASURE_PX).getlength(text)) * px / _MEASURE_PX * 1.02


def _spans(safe: Image.Image, step: int) -> dict[int, tuple[int, int]]:
    """Row -> (left, right) of the text-safe area, sampled every ``step`` rows."""
    spans = {}
    n = safe.width
    for y in range(0, safe.height, step):
        box = safe.crop((0, y, n, y + 1)).getbbox()
        if box:
            spans[y] = (box[0], box[2])
    return spans


def _available(spans: dict[int, tuple[int, int]], y0: float, y1: float, n: int, step: int) -> float:
    """Widest centred run that fits in every sampled row of the band (0 if any row is out)."""
    width = float(n)
    for y in range(int(y0) - int(y0) % step, int(y1) + 1, step):
        if y not in spans:
            return 0.0
        left, right = spans[y]
        width = min(width, 2 * min(n / 2 - left, right - n / 2))
    return max(0.0, width)


def _layout(design: Design, icon: Image.Image | None, safe: Image.Image, step: int) -> _Layout:
    """Place icon and text rows, as large as the shape's width allows where each one sits.

    Tries the whole block at a range of scales (a smaller block sits nearer the wide middle
    of a round shape) and, for a title with spaces, on one row or two. Keeps the layout whose
    most-shrunk element is shrunk least, preferring bigger when that is a near tie.
    """
    line1, line2 = _clean(design.line1), _clean(design.line2)
    n = safe.width
    spans = _spans(safe, step)
    if not spans:
        return _Layout([], None)
    # Centre on the safe area's centre of mass, not its bbox: a shield's is higher up.
    weight = sum(r - left for left, r in spans.values())
    centre = sum(y * (r - left) for y, (left, r) in spans.items()) / weight
    box = _Box(spans, min(spans), max(spans) + step, centre, n, step)

    best: tuple[float, _Layout] | None = None
    for parts in _split_options(line1):
        for step in range(14):
            scale = 1.0 - 0.05 * step
            layout, worst = _place(parts, line2, icon, scale, box)
            score = worst + 0.2 * scale - (0.12 if len(parts) > 1 else 0.0)
            if best is None or score > best[0] + 1e-9:
                best = (score, layout)
    assert best is not None
    return best[1]


@dataclass
class _Box:
    """The text-safe area: per-row spans, vertical extent and centre of mass."""

    spans: dict[int, tuple[int, int]]
    top: float
    bottom: float
    centre: float
    n: int
    step: int

    def width(self, y0: float, y1: float) -> float:
        return _available(self.spans, y0, y1, self.n, self.step)


def _split_options(text: str) -> list[list[str]]:
    if not text:
        return [[]]
    options = [[text]]
    words = text.split(" ")
    if len(words) > 1:
        # The split that balances the two rows best.
        cuts = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        a, b = min(cuts, key=lambda ab: abs(len(ab[0]) - len(ab[1])))
        options.append([a, b])
    return options


# Base sizes as fractions of the badge side, before any shrinking.
_TITLE, _SUBTITLE, _ICON_WITH_TEXT, _ICON_ALONE = 0.125, 0.07, 0.27, 0.5


def _place(
    parts: list[str], line2: str, icon: Image.Image | None, scale: float, box: _Box
) -> tuple[_Layout, float]:
    """Lay the block out at ``scale``; returns it and its smallest size / base-size ratio."""
    n = box.n
    min_px = max(8, round(0.018 * n))  # ~11 px at 600: the smallest still legible
    base1, base2 = _TITLE * n, _SUBTITLE * n
    base_icon = (_ICON_WITH_TEXT if parts or line2 else _ICON_ALONE) * n
    s1, s2 = round(base1 * scale), round(base2 * scale)
    icon_h = base_icon * scale if icon is not None else 0.0
    aspect = icon.width / icon.height if icon is not None else 1.0
    rows: list[_Row] = []
    icon_box = None
    for _ in range(2):  # second pass: re-stack with the sizes the first pass could afford
        stack: list[tuple[str, str, float]] = []  # (kind, text, height)
        if icon is not None:
            stack.append(("icon", "", icon_h))
        stack += [("title", part, s1 * 1.16) for part in parts]
        if line2:
            stack.append(("subtitle", line2, s2 * 1.3))
        gap_icon = 0.035 * n if icon is not None and len(stack) > 1 else 0.0
        gap_sub = 0.012 * n if parts and line2 else 0.0
        total = sum(h for _, _, h in stack) + gap_icon + gap_sub
        if total > box.bottom - box.top:
            return _Layout([], None), 0.0
        y = min(max(box.centre - total / 2, box.top), box.bottom - total)
        rows, icon_box = [], None
        fitted1, fitted2 = s1, s2
        for kind, text, h in stack:
            if kind == "icon":
                # Shrink the icon until its box fits the shape across its whole height.
                ih = h
                while ih > 1 and box.width(y + (h - ih) / 2, y + (h + ih) / 2) < ih * aspect:
                    ih *= 0.95
                iw = ih * aspect
                icon_box = (n / 2 - iw / 2, y + (h - ih) / 2, n / 2 + iw / 2, y + (h + ih) / 2)
                icon_h = ih
                y += h + gap_icon
                continue
            size = s1 if kind == "title" else s2
            # Test the band the glyphs occupy, not the line spacing around them.
            fit = _largest_fitting(text, size, min_px, box.width(y + 0.12 * h, y + 0.88 * h))
            if kind == "title":
                fitted1 = min(fitted1, fit)
            else:
                fitted2 = min(fitted2, fit)
            rows.append(_Row(text, size, y + h / 2, kind))
            y += h
            if kind == "title" and line2 and text == parts[-1]:
                y += gap_sub
        s1 = fitted1
        s2 = min(fitted2, max(min_px, int(0.8 * s1))) if parts else fitted2  # title stays title
    for row in rows:  # give every row the size its kind settled on in the final pass
        row.size = s1 if row.kind == "title" else s2
    ratios = [s1 / base1] * bool(parts) + [s2 / base2] * bool(line2)
    if icon is not None:
        ratios.append(icon_h / base_icon)
    return _Layout(rows, icon_box), min(ratios, default=1.0)


def _largest_fitting(text: str, size: int, min_px: int, avail: float) -> int:
    width = _text_width(text, size)
    if width <= avail:
        return size
    return max(min_px, int(size * avail / width))


def _draw_text(canvas: Image.Image, layout: _Layout, ink: RGB, bg: RGB, clip: Image.Image) -> None:
    if not layout.rows:
        return
    n = canvas.width
    text_mask = Image.new("L", canvas.size, 0)
    halo_mask = Image.new("L", canvas.size, 0)
    low_contrast = _contrast(ink, bg) < 3.0
    for row in layout.rows:
        font = _font(row.size)
        try:
            ImageDraw.Draw(text_mask).text(
                (n / 2, row.y), row.text, font=font, fill=255, anchor="mm"
            )
            if low_contrast:
                # The colours chosen don't separate: a thin halo keeps the words legible.
                ImageDraw.Draw(halo_mask).text(
                    (n / 2, row.y),
                    row.text,
                    font=font,
                    fill=255,
                    anchor="mm",
                    stroke_width=max(2, row.size // 14),
                )
        except (OSError, ValueError, UnicodeError):
            continue  # a glyph FreeType won't rasterise is skipped, never a 500
    # Never let text spill outside the badge, whatever the font did; and only blend the
    # rectangle the text covers (a full-canvas masked paste is slow at 4x).
    box = (halo_mask if low_contrast else text_mask).getbbox()
    if box is None:
        return
    if low_contrast:
        halo = ImageChops.multiply(halo_mask.crop(box), clip.crop(box))
        canvas.paste(_best_contrast(ink), box, mask=halo)
    canvas.paste(ink, box, mask=ImageChops.multiply(text_mask.crop(box), clip.crop(box)))


def _load_icon(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            if max(im.size) > _ICON_MAX_SIDE:
                raise ValueError("too large")
            im.load()
            return im.convert("RGBA")
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise ValueError("The icon is not a usable PNG image.") from exc


def _place_icon(
    badge: Image.Image, icon: Image.Image, box: tuple[float, float, float, float], scale: int
) -> None:
    """Resize the icon straight to its final pixels (one resample: sharpest result)."""
    x0, y0, x1, y1 = (v / scale for v in box)
    w, h = max(1, round(x1 - x0)), max(1, round(y1 - y0))
    fitted = icon.resize((w, h), Image.Resampling.LANCZOS)
    layer = Image.new("RGBA", badge.size, (0, 0, 0, 0))
    layer.paste(fitted, (round(x0), round(y0)))
    badge.alpha_composite(layer)


# --- colour -------------------------------------------------------------------------------


def _rgb(hex_colour: str) -> RGB:
    value = int(hex_colour[1:], 16)
    return (value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _luminance(c: RGB) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])


def _contrast(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _best_contrast(c: RGB) -> RGB:
    return (
        (0, 0, 0) if _contrast(c, (0, 0, 0)) >= _contrast(c, (255, 255, 255)) else (255, 255, 255)
    )
