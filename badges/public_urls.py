"""Public Open Badges URLs, mounted at /public/ (the paths of badges.links; never change)."""

from django.urls import path

from badges import applications_views
from badges import public_views as views

app_name = "public"

urlpatterns = [
    path("assertions/<uuid:award_id>", views.assertion, name="assertion"),
    path("assertions/<uuid:award_id>/image.png", views.assertion_image, name="assertion_image"),
    path("assertions/<uuid:award_id>/certificate.pdf", views.certificate, name="certificate"),
    path("assertions/<uuid:award_id>/card.png", views.assertion_card, name="assertion_card"),
    path("assertions/<uuid:award_id>/share/<slug:target>", views.share, name="share"),
    path("credentials/<uuid:award_id>", views.credential, name="credential"),
    path("credentials/<uuid:award_id>/image.png", views.credential_image, name="credential_image"),
    path("credentials/<uuid:award_id>/image.svg", views.credential_svg, name="credential_svg"),
    path("badges/<uuid:badge_id>", views.badge, name="badge"),
    path("badges/<uuid:badge_id>/card.png", views.badge_card, name="badge_card"),
    path("badges/<uuid:badge_id>/v/<slug:digest>", views.badge_version, name="badge_version"),
    path("achievements/<uuid:badge_id>", views.achievement, name="achievement"),
    path("issuers/<uuid:profile_id>", views.issuer, name="issuer"),
    path("issuers/<uuid:version_id>/revocations", views.revocation_list, name="revocation_list"),
    path("status-lists/<uuid:list_id>", views.status_list, name="status_list"),
    path("keys/<uuid:key_id>", views.signing_key, name="signing_key"),
    # An approved application's file: its award's evidence (badges.applications).
    path(
        "evidence/<uuid:application_id>",
        applications_views.public_evidence_file,
        name="evidence_file",
    ),
    path("signers/<uuid:space_id>", views.key_controller, name="key_controller"),
]
