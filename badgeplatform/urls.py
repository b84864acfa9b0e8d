"""URLs. Tenant pages live under /s/<space_slug>/; each app exposes ``space_urlpatterns``."""

from django.contrib import admin
from django.urls import include, path

from api import urls as api_urls
from api.http import api
from badgeplatform import audit_views, views
from badges import (
    backpack_urls,
    claims_urls,
    issuing_urls,
    public_urls,
    rules_urls,
    verify_views,
)
from badges import urls as badges_urls
from branding import urls as branding_urls
from branding import views as branding_views
from issuers import urls as issuers_urls
from orgs import urls as orgs_urls
from reporting import urls as reporting_urls
from sso import urls as sso_urls
from users import mfa_urls as users_mfa_urls
from users import urls as users_urls
from webhooks import urls as webhooks_urls

# (app_name, tenant patterns): mounted under /s/<space_slug>/ with the app's namespace.
TENANT_APPS = [
    ("orgs", orgs_urls.space_urlpatterns),
    ("users", users_urls.space_urlpatterns),
    ("issuers", issuers_urls.space_urlpatterns),
    ("badges", badges_urls.space_urlpatterns),
    ("graphics", badges_urls.graphics_urlpatterns),
    ("branding", branding_urls.space_urlpatterns),
    ("issuing", issuing_urls.space_urlpatterns),
    ("reporting", reporting_urls.space_urlpatterns),
    ("api_keys", api_urls.space_urlpatterns),
    ("rules", rules_urls.space_urlpatterns),
    ("claims", claims_urls.space_urlpatterns),
    ("applications", claims_urls.review_urlpatterns),
    ("webhooks", webhooks_urls.space_urlpatterns),
    ("sso", sso_urls.space_urlpatterns),
]

space_patterns = [
    # The space's front door: its landing page (white-label) or the way to its dashboard.
    path("", branding_views.space_root, name="space_root"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("settings/audit/", audit_views.audit_log, name="audit_log"),
]
space_patterns += [path("", include((patterns, app))) for app, patterns in TENANT_APPS]

# The admin's sign-in goes through the site's sign-in throttle (one budget per account).
admin.site.login = views.admin_login
# With ADMIN_REQUIRE_MFA (on when DEBUG=0) the admin also needs a second factor (docs/mfa.md).
admin.site.has_permission = views.admin_has_permission

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include((users_urls.account_urlpatterns, "accounts"))),
    # django-allauth's second-factor pages and the names it reverses (users/mfa_urls.py).
    path("accounts/", include(users_mfa_urls)),
    path("backpack/", include((backpack_urls.urlpatterns, "backpack"))),
    path("s/<slug:space_slug>/", include(space_patterns)),
    path("media/<path:path>", views.media, name="media"),
    path("branding/", include((branding_urls.asset_urlpatterns, "branding_assets"))),
    # Open Badges objects at the stable paths of badges.links (no space_slug: not tenant pages).
    path("public/", include(public_urls)),
    # Anyone verifies any Open Badge (ours or anyone's): paste or upload.
    path("verify/", verify_views.verify, name="verify"),
    # Claim links (short, printed on posters) and applications for badges: public pages.
    path("c/", include((claims_urls.claim_urlpatterns, "claim"))),
    path("apply/", include((claims_urls.apply_urlpatterns, "apply"))),
    # The public API (Events, Reporting, OpenAPI): authenticated by API keys, see api.http.
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # Single sign-on's protocol endpoints (allauth): /sso/oidc/<provider>/login/[callback/],
    # /sso/saml/<provider>/{login,acs,metadata}/ — each provider is one space's (sso.adapter).
    path("sso/", include("sso.protocol_urls")),
]
