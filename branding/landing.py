"""The landing page's authored text: Markdown, sanitised with nh3 before it reaches a page."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

LANDING_TAGS = frozenset(
    {"p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li", "h2", "h3", "blockquote", "hr"}
)


def render_landing_text(text: str) -> SafeString:
    cleaned = nh3.clean(
        markdown.markdown(text),
        tags=set(LANDING_TAGS),
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above
