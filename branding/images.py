"""The image policies of branding uploads; every upload goes through badgeplatform.images.

No hard size limit on what people upload beyond the pipeline's own caps; what is stored is
scaled down to what the pages and emails can show sharply on a high-density screen.
"""

from typing import Any

from badgeplatform.images import ImagePolicy

LOGO_POLICY = ImagePolicy(output_max_side=1120)  # 4× the recommended 280 px width
ICON_POLICY = ImagePolicy(output_max_side=256)  # a favicon and collapsed-menu square
HERO_POLICY = ImagePolicy(output_max_side=2400)  # a full-width banner

LOGO_FORM: dict[str, Any] = {
    "policy": LOGO_POLICY,
    "label": "Logo",
    "help_text": "JPEG, GIF or PNG. 280×60 pixels is recommended (the menu shows it at most "
    "200×44); it is also used on your landing page and in emails.",
}
ICON_FORM: dict[str, Any] = {
    "policy": ICON_POLICY,
    "label": "Icon",
    "help_text": "JPEG, GIF or PNG, square; 35×35 pixels is recommended. Shown in the browser "
    "tab and at the top of the collapsed menu.",
}
