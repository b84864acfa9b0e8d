"""The Issuing area, mounted under /s/<space_slug>/ in the "issuing" namespace."""

from django.urls import path

from badges import issuing_views as views

app_name = "issuing"

space_urlpatterns = [
    path("issuing/", views.index, name="start"),
    path("issuing/badges/<int:badge_id>/", views.issue, name="issue"),
    path("issuing/badges/<int:badge_id>/awards/", views.badge_awards, name="badge_awards"),
    path("issuing/example.csv", views.example, name="example_csv"),
    path("issuing/history/", views.history, name="history"),
    path("issuing/batches/<int:batch_id>/", views.batch, name="batch"),
    path("issuing/awards/", views.awards, name="awards"),
    path("issuing/awards/<int:award_id>/", views.award, name="award"),
    path("issuing/awards/<int:award_id>/revoke/", views.revoke, name="revoke"),
    path("issuing/awards/<int:award_id>/suspend/", views.suspend, name="suspend"),
    path("issuing/awards/<int:award_id>/reinstate/", views.reinstate, name="reinstate"),
    path("issuing/awards/<int:award_id>/renew/", views.renew, name="renew"),
    path("issuing/awards/bulk/", views.awards_bulk, name="awards_bulk"),
    path("issuing/awards/renew/", views.awards_renew_bulk, name="awards_renew"),
    path("issuing/people/<uuid:person_id>/awards/", views.person_awards, name="person_awards"),
]
