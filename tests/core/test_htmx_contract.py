"""The htmx contract (badgeplatform/htmx.py): one status for an invalid form, swapped by the
client and nothing else; partial responses vary on the htmx headers; a history restore gets
the whole page."""

import json
import re

import pytest
from django.urls import reverse

from badgeplatform.htmx import INVALID_FORM_STATUS, render_form
from tests.factories import make_badge

HTMX = {"HTTP_HX_REQUEST": "true"}
HISTORY_RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}


def test_the_one_status_is_422():
    assert INVALID_FORM_STATUS == 422


# (what, method, URL name, URL args from the space, data, signed in): at least one per app.
INVALID_FORMS = [
    ("orgs: add organisation", "post", "orgs:add_child", "root", {"name": ""}, True),
    ("orgs: new group", "post", "orgs:group_create", "root", {"name": ""}, True),
    ("users: sign in", "post", "accounts:login", None, {"username": "", "password": ""}, False),
    ("users: register", "post", "accounts:register", None, {"email": "not-an-email"}, False),
    ("users: password reset", "post", "accounts:password_reset", None, {"email": "x"}, False),
    ("users: new role", "post", "users:role_create", "", {"name": ""}, True),
    ("users: create user", "post", "users:create", "", {"email": "nope"}, True),
    ("users: bulk action", "post", "users:bulk", "", {"action": "nonsense"}, True),
    ("users: list filter", "get", "users:list", "", {"organisation": "999999"}, True),
    ("users: personal settings", "post", "accounts:settings", None, {"username": ""}, True),
    ("issuers: new issuer", "post", "issuers:create", "", {"name": ""}, True),
    ("badges: editor", "post", "badges:create", "", {"tab": "details", "expiry_amount": "3"}, True),
    ("badges: rule", "post", "rules:create", "", {"activity_id": ""}, True),
    ("badges: graphic upload", "post", "graphics:upload", "", {"name": ""}, True),
    (
        "branding: colours",
        "post",
        "branding:branding",
        "",
        {"action": "save_colours", "nav_bg": "red", "nav_text": "#ffffff", "accent": "#000000"},
        True,
    ),
    (
        "reporting: report",
        "get",
        "reporting:index",
        "",
        {"period": "custom", "from": "2025-02-30", "to": "2025-03-01"},
        True,
    ),
    ("api: new key", "post", "api_keys:index", "", {"name": ""}, True),
    ("audit log filter", "get", "audit_log", "", {"date_from": "not a date"}, True),
]


def _url(space, name, args):
    if args is None:
        return reverse(name)
    if args == "root":
        return reverse(name, args=[space.slug, space.root_organisation.pk])
    return reverse(name, args=[space.slug])


@pytest.mark.parametrize(
    "what, method, name, args, data, signed_in", INVALID_FORMS, ids=[c[0] for c in INVALID_FORMS]
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_every_invalid_form_answers_the_one_status(
    client, admin_a, space_a, what, method, name, args, data, signed_in, headers
):
    if signed_in:
        client.force_login(admin_a)
    response = getattr(client, method)(_url(space_a, name, args), data, **headers)
    assert response.status_code == INVALID_FORM_STATUS, what
    # The form comes back with its errors, to be swapped in (not an error page).
    assert response["Content-Type"].startswith("text/html")
    assert response.content


def test_a_valid_get_of_a_form_page_is_200(client_a, space_a):
    assert client_a.get(reverse("issuers:create", args=[space_a.slug])).status_code == 200


def test_render_form_counts_formset_errors_and_ignores_unbound_forms(rf):
    from django import forms

    class F(forms.Form):
        name = forms.CharField()

    FormSet = forms.formset_factory(F)
    request = rf.get("/")
    unbound = F()
    bad_set = FormSet({"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-name": ""})
    bad_set.forms[0].empty_permitted = False
    assert render_form(request, "base.html", {}, unbound).status_code == 200
    assert render_form(request, "base.html", {}, unbound, bad_set).status_code == 422
    assert render_form(request, "base.html", {}, F({"name": "x"})).status_code == 200


# ---- The client swaps exactly that status -----------------------------------------------------


def _htmx_config(client) -> dict:
    page = client.get(reverse("accounts:login")).content.decode()
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert match, "base.html must configure htmx"
    return json.loads(match.group(1))


def _handling(config: dict, status: int) -> dict:
    """The rule htmx 2 applies to a status: the first whose code (a regular expression,
    tested unanchored as htmx does) matches."""
    return next(r for r in config["responseHandling"] if re.search(r["code"], str(status)))


def test_the_client_swaps_422_and_reports_every_other_error(client, db):
    config = _htmx_config(client)
    assert _handling(config, 422) == {"code": "422", "swap": True, "error": False}
    for status in (400, 403, 404, 409, 413, 429, 500, 503):
        rule = _handling(config, status)
        assert rule["swap"] is False and rule["error"] is True, status
    assert _handling(config, 200)["swap"] is True
    assert _handling(config, 204)["swap"] is False


def test_the_client_keeps_no_page_snapshots_and_reloads_on_back(client, db):
    config = _htmx_config(client)
    assert config["historyCacheSize"] == 0
    assert config["refreshOnHistoryMiss"] is True
    assert config["historyRestoreAsHxRequest"] is False


def test_app_js_says_what_happened_on_an_error_and_swaps_nothing_itself(settings):
    script = (settings.BASE_DIR / "static" / "js" / "app.js").read_text()
    assert "htmx:responseError" in script and "htmx:sendError" in script
    # The one status is swapped by the configuration, not by a second rule in the script.
    assert "shouldSwap" not in script


# ---- Partial responses vary; a history restore gets the page ----------------------------------


@pytest.mark.parametrize("name", ["badges:index", "users:list"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_partial_capable_view_varies_on_the_htmx_headers(client_a, space_a, name, headers):
    response = client_a.get(reverse(name, args=[space_a.slug]), **headers)
    assert response.status_code == 200
    vary = {v.strip() for v in response["Vary"].split(",")}
    assert {"HX-Request", "HX-History-Restore-Request"} <= vary


def test_a_view_that_never_asks_does_not_vary_on_htmx(client, db):
    response = client.get(reverse("healthz"))
    assert "HX-Request" not in response.get("Vary", "")


def test_htmx_asks_for_a_fragment_and_gets_one(client_a, space_a):
    make_badge(space_a, name="Data Wrangler")
    response = client_a.get(reverse("badges:index", args=[space_a.slug]), **HTMX)
    body = response.content.decode()
    assert "Data Wrangler" in body
    assert "<html" not in body


@pytest.mark.parametrize("name", ["badges:index", "users:list", "reporting:index"])
def test_a_history_restore_gets_the_whole_page(client_a, space_a, name):
    make_badge(space_a, name="Data Wrangler")
    response = client_a.get(reverse(name, args=[space_a.slug]), **HISTORY_RESTORE)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert 'id="content"' in body  # the app shell, not a region of it


def test_a_history_restore_of_the_badge_editor_gets_the_whole_page(client_a, space_a):
    badge = make_badge(space_a, name="Data Wrangler")
    response = client_a.get(reverse("badges:edit", args=[space_a.slug, badge.pk]), **HTMX)
    assert "<html" not in response.content.decode()
    response = client_a.get(
        reverse("badges:edit", args=[space_a.slug, badge.pk]), **HISTORY_RESTORE
    )
    assert response.content.decode().lstrip().lower().startswith("<!doctype html>")
