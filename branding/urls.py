from django.urls import path

from branding import views
from branding.models import EmailKind

app_name = "branding"

# Tenant pages, mounted under /s/<space_slug>/.
space_urlpatterns = [
    path("settings/branding/", views.branding, name="branding"),
    path("settings/emails/", views.emails, name="emails"),
    path("settings/landing-page/", views.landing, name="landing"),
    path("settings/plan/", views.plan, name="plan"),
]
# One fixed path per kind of email rather than a <kind> converter: the kind is not an object of
# the space, so it has no place among the URL kwargs the tenancy walk builds objects for.
# reverse("branding:email_edit", args=[slug, kind]) picks the path whose default matches.
for _kind in EmailKind:
    _slug = _kind.value.replace("_", "-")
    space_urlpatterns += [
        path(
            f"settings/emails/{_slug}/", views.email_edit, {"kind": _kind.value}, name="email_edit"
        ),
        path(
            f"settings/emails/{_slug}/preview/",
            views.email_preview,
            {"kind": _kind.value},
            name="email_preview",
        ),
    ]

# Public assets of a space, addressed by its public id (see views.brand_css).
asset_urlpatterns = [
    path("<uuid:space_id>/brand.css", views.brand_css, name="css"),
    path("<uuid:space_id>/icon", views.brand_icon, name="icon"),
]
