from django.urls import path

from badges import graphics_views, keys_views, views

app_name = "badges"

# Tenant pages, mounted under /s/<space_slug>/ in the "badges" namespace (badge creators'
# pages; issuing and the public Open Badges pages have their own modules).
space_urlpatterns = [
    path("badges/", views.index, name="index"),
    path("badges/new/", views.create, name="create"),
    path("badges/<int:badge_id>/", views.detail, name="detail"),
    path("badges/<int:badge_id>/edit/", views.edit, name="edit"),
    path(
        "badges/<int:badge_id>/certificate-preview.png",
        views.certificate_preview,
        name="certificate_preview",
    ),
    path("badges/<int:badge_id>/publish/", views.publish, name="publish"),
    path("badges/<int:badge_id>/withdraw/", views.withdraw, name="withdraw"),
    # On the issuer's page (issuers.panels): its Open Badges signing key.
    path(
        "issuers/<int:issuer_id>/signing-key/rotate/",
        keys_views.issuer_key_rotate,
        name="issuer_key_rotate",
    ),
]

# The Graphics Library, in its own "graphics" namespace so the side menu highlights it (and
# not 'Managing Badges') on its pages.
graphics_urlpatterns = [
    path("graphics/", graphics_views.library, name="index"),
    path("graphics/new/", graphics_views.create, name="create"),
    path("graphics/new/upload/", graphics_views.upload, name="upload"),
    path("graphics/new/design/", graphics_views.design, name="design"),
    path("graphics/<int:graphic_id>/archive/", graphics_views.archive, name="archive"),
]
