"""Claim links and applications: the issuer's and reviewers' pages (tenant, under
/s/<space_slug>/), the public claim pages at /c/ (short, for posters) and the application pages
at /apply/."""

from django.urls import path

from badges import applications_views, claims_views

# Mounted under /s/<space_slug>/ in the "claims" namespace.
space_urlpatterns = [
    path("issuing/badges/<int:badge_id>/claim-links/", claims_views.badge_links, name="badge"),
    path("claim-links/<int:link_id>/", claims_views.link_detail, name="link"),
    path("claim-links/<int:link_id>/poster/", claims_views.poster, name="poster"),
    path("claim-links/<int:link_id>/qr.png", claims_views.qr_png, name="qr"),
    path("claim-links/<int:link_id>/close/", claims_views.close, name="close"),
]

# Mounted under /s/<space_slug>/ in the "applications" namespace.
review_urlpatterns = [
    path("applications/", applications_views.queue, name="queue"),
    path("applications/<int:application_id>/", applications_views.detail, name="detail"),
    path("applications/<int:application_id>/file", applications_views.evidence_file, name="file"),
]

# Mounted at /c/ in the "claim" namespace.
claim_urlpatterns = [
    path("confirm/<str:token>/", claims_views.confirm, name="confirm"),
    path("<slug:token>", claims_views.claim_page, name="page"),
]

# Mounted at /apply/ in the "apply" namespace.
apply_urlpatterns = [
    path("confirm/<str:token>/", applications_views.confirm, name="confirm"),
    path("<uuid:badge_id>/", applications_views.apply, name="badge"),
]
