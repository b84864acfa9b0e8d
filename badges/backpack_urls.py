"""The recipient's backpack, mounted at /backpack/ in the "backpack" namespace (no space)."""

from django.urls import path

from badges import applications_views
from badges import backpack_views as views

app_name = "backpack"

urlpatterns = [
    path("", views.my_badges, name="index"),
    path("applications/", applications_views.mine, name="applications"),
    path("download/", views.download_all, name="download_all"),
    path("<uuid:award_id>/", views.award_detail, name="award"),
    path("<uuid:award_id>/visibility/", views.visibility, name="visibility"),
    path("<uuid:award_id>/accept/", views.accept, name="accept"),
    path("<uuid:award_id>/decline/", views.decline, name="decline"),
]
