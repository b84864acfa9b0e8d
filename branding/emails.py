"""Authored emails: placeholders, sanitising, the space's frame, and the one function callers use.

``render_space_email(space=…, kind=…, values=…)`` returns (subject, text, html) for a space's
email of that kind: its authored content when its plan allows and it has some, else the
default below, inside the frame of the space's logo and colours. Give the result to
``badgeplatform.mail.queue_rendered_email``.

Authored content is data, never code:
- placeholders are ``{{name}}`` tokens replaced by plain string substitution (one pass, so a
  value that itself looks like a placeholder stays literal); anything else in braces is left
  as typed — the template engine never sees authored text;
- the body is Markdown (simple HTML allowed), rendered and then sanitised with nh3 against a
  small allow-list; values are HTML-escaped before they go in, and the result is sanitised again;
- the subject is one line: authored CR/LF is refused by the form, and line breaks inside values
  are collapsed to spaces.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import markdown
import nh3
from django.conf import settings
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from branding.models import EmailKind, get_branding_for

if TYPE_CHECKING:
    from orgs.models import Space

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Anything that looks like template syntax but is not a known placeholder is refused by the form.
TEMPLATE_LIKE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)

PLACEHOLDER_LABELS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "username": "Username",
    "badge_name": "Badge name",
    "issuer_name": "Issuer name",
    "organisation": "Organisation",
    "link": "Link",
    "expiry_date": "Expiry date",
}

# Tags an email body may keep; everything else (script, style, img, iframe, forms) goes.
EMAIL_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "a",
        "ul",
        "ol",
        "li",
        "h2",
        "h3",
        "blockquote",
        "hr",
    }
)
EMAIL_ATTRIBUTES = {"a": {"href", "title"}}
EMAIL_URL_SCHEMES = frozenset({"http", "https", "mailto"})


@dataclass(frozen=True)
class EmailSpec:
    kind: str
    label: str
    description: str
    placeholders: tuple[str, ...]
    default_subject: str
    default_body: str
    button_label: str
    # Shown in the preview and "send me a test"; the link is set per space.
    sample: Mapping[str, str]


SPECS: dict[str, EmailSpec] = {
    EmailKind.VERIFICATION: EmailSpec(
        kind=EmailKind.VERIFICATION,
        label="Welcome and verification email",
        description="Sent when someone is given an account in your space: it asks them to "
        "verify their email address and create a password.",
        placeholders=(
            "first_name",
            "last_name",
            "username",
            "organisation",
            "link",
            "expiry_date",
        ),
        default_subject="Verify your email for {{organisation}}",
        default_body=(
            "Hello {{first_name}},\n\n"
            "An account has been set up for you at **{{organisation}}**. Verify your email "
            "address and create your password with the button below, and you can keep and "
            "share every badge you are awarded."
        ),
        button_label="Verify email and create password",
        sample={
            "first_name": "Sam",
            "last_name": "Sample",
            "username": "sam.sample",
            "link": "",
            "expiry_date": "",
        },
    ),
    EmailKind.BADGE_ISSUED: EmailSpec(
        kind=EmailKind.BADGE_ISSUED,
        label="Badge issue email",
        description="Sent to a recipient for every badge they are awarded.",
        placeholders=(
            "first_name",
            "last_name",
            "badge_name",
            "issuer_name",
            "organisation",
            "link",
            "expiry_date",
        ),
        default_subject="You have been awarded “{{badge_name}}”",
        default_body=(
            "Hello {{first_name}},\n\n"
            "Congratulations! **{{issuer_name}}** has awarded you the badge "
            "**{{badge_name}}**.\n\n"
            "Open it to see what it stands for, download it, or share it with anyone — they "
            "can check that it is genuine without an account."
        ),
        button_label="View your badge",
        sample={
            "first_name": "Sam",
            "last_name": "Sample",
            "badge_name": "Sample Badge: Teamwork",
            "issuer_name": "Sample Issuer",
            "link": "",
            "expiry_date": "31 December 2027",
        },
    ),
}


def spec_for(kind: str) -> EmailSpec:
    try:
        return SPECS[kind]
    except KeyError:
        raise ValueError(f"Unknown email kind {kind!r}; one of {sorted(SPECS)}") from None


def token(name: str) -> str:
    return "{{" + name + "}}"


def unknown_placeholders(text: str, spec: EmailSpec) -> list[str]:
    """Brace expressions in ``text`` that are not placeholders of this kind (as typed)."""
    bad = []
    for match in TEMPLATE_LIKE.finditer(text):
        inner = PLACEHOLDER.fullmatch(match.group(0))
        if inner is None or inner.group(1) not in spec.placeholders:
            bad.append(match.group(0))
    return bad


def substitute(text: str, values: Mapping[str, str], escape: bool = False) -> str:
    """Replace known ``{{name}}`` tokens in one pass; leave everything else as it is."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return html.escape(values[name]) if escape else values[name]

    return PLACEHOLDER.sub(replace, text)


def sanitise(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=set(EMAIL_TAGS),
        attributes={k: set(v) for k, v in EMAIL_ATTRIBUTES.items()},
        url_schemes=set(EMAIL_URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


def body_to_html(body: str, values: Mapping[str, str]) -> str:
    """Markdown → HTML → sanitised; then escaped values in; then sanitised again."""
    rendered = sanitise(markdown.markdown(body))
    return sanitise(substitute(rendered, values, escape=True))


def body_to_text(body: str, values: Mapping[str, str]) -> str:
    """The plain-text part: the authored source without any tags, values as they are."""
    stripped = html.unescape(nh3.clean(body, tags=set()))
    return substitute(stripped, values).strip()


def subject_line(subject: str, values: Mapping[str, str]) -> str:
    one_line = {k: " ".join(v.split()) for k, v in values.items()}
    return " ".join(substitute(subject, one_line).split())[:300]


def frame_context(space: Space | None) -> dict[str, Any]:
    """What emails/base.html needs to frame an email in the space's logo and colours."""
    if space is None:
        return {}
    from branding.plans import Feature, space_has

    branding = get_branding_for(space)
    colours = branding.colours if space_has(space, Feature.CUSTOM_COLOURS) else {}
    logo = branding.logo if space_has(space, Feature.CUSTOM_LOGO) else None
    return {
        "space": space,
        "email_nav_bg": colours.get("nav_bg", ""),
        "email_nav_text": colours.get("nav_text", ""),
        "email_accent": colours.get("accent", ""),
        "email_logo_url": settings.SITE_URL + logo.url if logo else "",
        "email_white_label": space_has(space, Feature.WHITE_LABEL_EMAILS),
    }


# Markers for PreparedEmail.render_many: \x01 is never in a value (checked) and escaping
# leaves it as it is.
_MARK = "\x01"
_MARKS = re.compile("\x01([a-z_.0-9]+)\x01")


def _marker(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


class PreparedEmail:
    """A space's email of one kind with everything that does not depend on the recipient done
    once: the authored content, the frame (branding, plan), the Markdown of the body, the
    templates. ``render(values, notes)`` fills in one recipient (a batch of emails in the
    worker renders through one of these)."""

    def __init__(
        self,
        *,
        space: Space | None,
        kind: str,
        subject: str,
        body: str,
        html_template: str = "branding/emails/space_email.html",
    ):
        self.space = space
        self.spec = spec_for(kind)
        self.kind = kind
        self.subject = subject
        self.frame = frame_context(space)
        # body_to_html / body_to_text, the parts that do not depend on the values.
        self.body_html = sanitise(markdown.markdown(body))
        self.body_text = html.unescape(nh3.clean(body, tags=set()))
        self.text_template = get_template("branding/emails/space_email.txt")
        self.html_template = get_template(html_template)
        # The frame rendered once per shape (which values are empty, how many notes) with
        # markers where each recipient's values go: see render_many.
        self._frames: dict[tuple, tuple[str, str]] = {}

    def _values(self, values: Mapping[str, str]) -> dict[str, str]:
        unknown = set(values) - set(self.spec.placeholders)
        if unknown:
            raise ValueError(f"Values for unknown placeholders of {self.kind!r}: {sorted(unknown)}")
        values = {name: str(values.get(name) or "") for name in self.spec.placeholders}
        if not values["organisation"] and self.space is not None:
            values["organisation"] = self.space.name
        return values

    def _context(self, *, subject, values, body_html, body_text, notes) -> dict[str, Any]:
        return {
            **self.frame,
            "site_url": settings.SITE_URL,
            "subject": subject,
            "spec": self.spec,
            "values": values,
            "body_html": mark_safe(body_html),  # noqa: S308 - sanitised by nh3 (or a marker)
            "body_text": body_text,
            "notes": notes,
        }

    def render(self, values: Mapping[str, str], notes: Sequence[str] = ()) -> tuple[str, str, str]:
        values = self._values(values)
        subject = subject_line(self.subject, values)
        context = self._context(
            subject=subject,
            values=values,
            # Sanitised by nh3 (escaped values in, then sanitised again).
            body_html=sanitise(substitute(self.body_html, values, escape=True)),
            body_text=substitute(self.body_text, values).strip(),
            notes=[str(n) for n in notes],
        )
        text = self.text_template.render(context)
        html_part = self.html_template.render(context)
        return subject, text, html_part

    def render_many(
        self, values: Mapping[str, str], notes: Sequence[str] = ()
    ) -> tuple[str, str, str]:
        """What ``render`` returns, for one recipient of a batch at the cost of string
        substitution: the templates are rendered once per shape (which values are empty, how
        many notes: all they branch on) with a marker for each value, and each recipient's
        values, escaped for the HTML part, replace the markers in one pass.
        tests/branding/test_prepared_email.py holds it equal to ``render``."""
        values = self._values(values)
        notes = [str(n) for n in notes]
        if any(_MARK in v for v in (*values.values(), *notes)):
            return self.render(values, notes)  # a value holding a marker: no shortcut
        shape = (tuple(bool(v) for v in values.values()), len(notes))
        frame = self._frames.get(shape)
        if frame is None:
            context = self._context(
                subject=_marker("subject"),
                values={name: _marker("values." + name) if v else "" for name, v in values.items()},
                body_html=_marker("body_html"),
                body_text=_marker("body_text"),
                notes=[_marker(f"note{i}") for i in range(len(notes))],
            )
            frame = self._frames[shape] = (
                self.text_template.render(context),
                self.html_template.render(context),
            )
        subject = subject_line(self.subject, values)
        parts = {
            **{f"values.{k}": v for k, v in values.items()},
            "subject": subject,
            "body_text": substitute(self.body_text, values).strip(),
            **{f"note{i}": n for i, n in enumerate(notes)},
        }
        text = _MARKS.sub(lambda m: parts[m.group(1)], frame[0])
        escaped = {k: html.escape(v) for k, v in parts.items()}
        escaped["body_html"] = sanitise(substitute(self.body_html, values, escape=True))
        html_part = _MARKS.sub(lambda m: escaped[m.group(1)], frame[1])
        return subject, text, html_part


def render_authored(
    *,
    space: Space | None,
    kind: str,
    subject: str,
    body: str,
    values: Mapping[str, str],
    notes: Sequence[str] = (),
    html_template: str = "branding/emails/space_email.html",
) -> tuple[str, str, str]:
    """Subject, text and HTML of an authored email (saved or not: previews use this too)."""
    return PreparedEmail(
        space=space, kind=kind, subject=subject, body=body, html_template=html_template
    ).render(values, notes)


def prepared_space_email(space: Space | None, kind: str) -> PreparedEmail:
    """The space's email of ``kind`` ready to render for many recipients (see PreparedEmail):
    for a batch, call this once per space and ``render`` once per recipient."""
    subject, body, _ = authored_content(space, kind)
    return PreparedEmail(space=space, kind=kind, subject=subject, body=body)


def authored_content(space: Space | None, kind: str) -> tuple[str, str, bool]:
    """(subject, body, is_custom) in effect for the space: its own, or the default."""
    from branding.models import EmailTemplate
    from branding.plans import Feature, space_has

    spec = spec_for(kind)
    if space is not None and space_has(space, Feature.CUSTOM_EMAILS):
        row = EmailTemplate.objects.filter(space=space, kind=kind).first()
        if row is not None:
            return row.subject, row.body, True
    return spec.default_subject, spec.default_body, False


def render_space_email(
    *,
    space: Space | None,
    kind: str,
    values: Mapping[str, str],
    notes: Sequence[str] = (),
) -> tuple[str, str, str]:
    """The space's email of ``kind`` with ``values`` filled in: (subject, text, html).

    ``kind`` is "verification" or "badge_issued"; ``values`` maps placeholder names of that
    kind (see SPECS; a missing one becomes "", "organisation" defaults to the space's name,
    an unknown one is a ValueError) to plain, unescaped strings. ``link`` is the absolute URL
    the email's button opens. ``expiry_date`` is an already formatted date, or "" for none.
    ``notes`` are plain-text lines for the small print under the button (escaped), for what
    the author cannot know, e.g. "verify your address to keep your badges".
    """
    return prepared_space_email(space, kind).render(values, notes)


def sample_values(space: Space, kind: str, *, user: Any = None) -> dict[str, str]:
    """Believable values for previews and test sends (the person's own name when known)."""
    from django.urls import reverse

    spec = spec_for(kind)
    values = dict(spec.sample)
    if user is not None:
        values["first_name"] = user.first_name or values["first_name"]
        values["last_name"] = user.last_name or values["last_name"]
        if "username" in values:
            values["username"] = user.username
    values["organisation"] = space.name
    values["link"] = settings.SITE_URL + reverse("space_root", args=[space.slug])
    if kind == EmailKind.VERIFICATION:
        from datetime import timedelta

        from django.utils import timezone
        from django.utils.formats import date_format

        expires = timezone.localdate() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        values["expiry_date"] = date_format(expires, "j F Y")
    return values
