"""WCAG 2.x contrast: the ratio between two sRGB colours, and the checks the branding page makes."""

from __future__ import annotations

from dataclasses import dataclass

# WCAG AA for normal-size text (the menu labels and button captions are normal size).
AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = relative_luminance(a), relative_luminance(b)
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class ContrastCheck:
    key: str
    label: str
    ratio: float

    @property
    def passes(self) -> bool:
        return self.ratio >= AA_NORMAL_TEXT

    @property
    def message(self) -> str:
        return (
            f"{self.label}: contrast {self.ratio:.2f}:1 is below the WCAG AA minimum of "
            f"{AA_NORMAL_TEXT}:1, so some people will struggle to read it."
        )


def contrast_checks(*, nav_bg: str, nav_text: str, accent: str) -> list[ContrastCheck]:
    """The pairs people read: menu text on the menu, and white captions on the highlight
    (selected menu items and primary buttons; the same ratio covers highlight links on white)."""
    return [
        ContrastCheck("nav", "Menu text on the menu background", contrast_ratio(nav_text, nav_bg)),
        ContrastCheck(
            "accent", "White text on the highlight colour", contrast_ratio(WHITE, accent)
        ),
    ]
