"""Security headers: the Content-Security-Policy on every page, its two intended exceptions
(the email editor frames its preview; the preview may be framed by our own pages), and the
production settings (HSTS, secure cookies)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import make_award, put_on_plan

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def directives(header: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


@pytest.mark.parametrize(
    "url",
    ["/healthz", "/api/docs", "/s/{slug}/dashboard/", "/s/{slug}/badges/", "/backpack/"],
)
def test_every_page_carries_the_strict_policy(client_a, space_a, url):
    response = client_a.get(url.format(slug=space_a.slug), follow=False)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no nonce needed
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"


def test_anonymous_pages_carry_the_policy(client, space_a, member_a):
    from badges import links

    for url in ("/", "/accounts/login/"):
        assert "script-src 'self'" in client.get(url)["Content-Security-Policy"]
    award = make_award(space_a, recipient=member_a)
    award.is_public = True
    award.save()
    response = client.get(links.assertion_url(award), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_no_template_has_inline_script_or_handler_or_style():
    """The policy forbids them; a new one would break a page in the browser only."""
    import re

    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "emails" in path.parts:  # emails are not served under the policy
            continue
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: inline event handler")
        if re.search(r"\sstyle\s*=", text) or "<style" in text:
            offenders.append(f"{path}: inline style")
    assert offenders == []


def test_email_editor_may_frame_its_preview_and_only_it_is_frameable(client_a, space_a):
    put_on_plan(space_a, "white-label")
    edit = client_a.get(
        reverse("branding:email_edit", kwargs={"space_slug": space_a.slug, "kind": "badge_issued"})
    )
    assert directives(edit["Content-Security-Policy"])["frame-src"] == "'self'"
    assert directives(edit["Content-Security-Policy"])["frame-ancestors"] == "'none'"
    preview = client_a.get(
        reverse(
            "branding:email_preview", kwargs={"space_slug": space_a.slug, "kind": "badge_issued"}
        )
    )
    policy = directives(preview["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "'self'"
    assert policy["default-src"] == "'none'"  # nothing in the email can load or run
    # Other pages may frame nothing.
    other = client_a.get(f"/s/{space_a.slug}/dashboard/")
    assert directives(other["Content-Security-Policy"])["frame-src"] == "'none'"


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 64 + "-a-long-random-production-secret-key",
    "ALLOWED_HOSTS": "badges.example.org",
    "SITE_URL": "https://badges.example.org",
}


def test_production_settings_have_hsts_secure_cookies_and_csp(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SESSION_COOKIE_HTTPONLY, 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE]))"
    )
    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "badgeplatform.settings",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    hsts, subdomains, session_secure, csrf_secure, redirect, httponly, csp = json.loads(out)
    assert hsts >= 31536000 and subdomains and session_secure and csrf_secure and redirect
    assert httponly and csp
