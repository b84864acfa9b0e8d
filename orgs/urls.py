from django.urls import path

from orgs import views

app_name = "orgs"

space_urlpatterns = [
    path("organisations/", views.tree, name="tree"),
]
