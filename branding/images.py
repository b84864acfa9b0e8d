"""The image policies of branding uploads; every upload goes through badgeplatform.images.

Policies are built when an upload is checked (not at import), and the forms take the
factory, so a page without an upload never needs the image pipeline.
"""

from __future__ import annotations

from typing import Any


def _policy(**kwargs: Any):
    from badgeplatform.images import ImagePolicy

    return ImagePolicy(**kwargs)


def logo_policy():
    return _policy()


def icon_policy():
    return _policy()


def hero_policy():
    return _policy()


LOGO_FORM: dict[str, Any] = {
    "policy": logo_policy,
    "label": "Logo",
    "help_text": "JPEG, GIF or PNG. 280×60 pixels is recommended (the menu shows it at most "
    "200×44); it is also used on your landing page and in emails.",
}
ICON_FORM: dict[str, Any] = {
    "policy": icon_policy,
    "label": "Icon",
    "help_text": "JPEG, GIF or PNG, square; 35×35 pixels is recommended. Shown in the browser "
    "tab and at the top of the collapsed menu.",
}
