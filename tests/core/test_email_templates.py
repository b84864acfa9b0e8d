"""One email system: every platform email template is one the app sends, and every email the
app sends by template has its three parts. (Emails a space authors, such as the badge issue
email, are rendered by branding.emails only; their old platform templates were removed.)"""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = [
    "badgeplatform",
    "orgs",
    "users",
    "issuers",
    "branding",
    "badges",
    "reporting",
    "api",
    "webhooks",
]
# Templates other emails build on, not emails of their own.
FRAME = {"base.html", "button.html"}
SENDS = re.compile(r"""(?:template=|render_email\()\s*["'](\w+)["']""")


def template_kinds() -> set[str]:
    folder = ROOT / "templates" / "emails"
    return {p.name.removesuffix("_subject.txt") for p in folder.glob("*_subject.txt")}


def sent_kinds() -> set[str]:
    kinds = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                kinds |= set(SENDS.findall(path.read_text()))
    return kinds


def test_every_email_template_is_sent_by_the_app():
    unused = template_kinds() - sent_kinds()
    assert not unused, f"templates/emails/ holds emails nothing sends: {sorted(unused)}"


def test_every_email_the_app_sends_by_template_has_subject_text_and_html():
    folder = ROOT / "templates" / "emails"
    kinds = sent_kinds()
    assert kinds >= {"password_reset", "already_registered", "added_to_space", "verify_email"}
    for kind in kinds:
        for part in (f"{kind}_subject.txt", f"{kind}.txt", f"{kind}.html"):
            assert (folder / part).exists(), part
    stray = {
        p.name
        for p in folder.iterdir()
        if p.name not in FRAME and p.name.split(".")[0].removesuffix("_subject") not in kinds
    }
    assert not stray, f"templates/emails/ holds files no email uses: {sorted(stray)}"
