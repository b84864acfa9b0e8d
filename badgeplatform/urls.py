"""URLs. Tenant pages live under /s/<space_slug>/; each app exposes ``space_urlpatterns``."""

from django.contrib import admin
from django.urls import include, path

from api import urls as api_urls
from api.http import api
from badgeplatform import views
from badges import rules_urls
from orgs import urls as orgs_urls
from users import urls as users_urls

# (app_name, tenant patterns): mounted under /s/<space_slug>/ with the app's namespace.
TENANT_APPS = [
    ("orgs", orgs_urls.space_urlpatterns),
    ("users", users_urls.space_urlpatterns),
    ("api_keys", api_urls.space_urlpatterns),
    ("rules", rules_urls.space_urlpatterns),
]

space_patterns = [
    path("", views.space_root, name="space_root"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
space_patterns += [path("", include((patterns, app))) for app, patterns in TENANT_APPS]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include((users_urls.account_urlpatterns, "accounts"))),
    path("s/<slug:space_slug>/", include(space_patterns)),
    path("media/<path:path>", views.media, name="media"),
    # The public API (Events, Reporting, OpenAPI): authenticated by API keys, see api.http.
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
