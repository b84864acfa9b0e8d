from django.urls import path

from orgs import views

app_name = "orgs"

space_urlpatterns = [
    path("organisations/", views.tree, name="tree"),
    path("organisations/<int:org_id>/", views.detail, name="detail"),
    path("organisations/<int:org_id>/add/", views.add_child, name="add_child"),
    path("organisations/<int:org_id>/edit/", views.edit, name="edit"),
    path("organisations/<int:org_id>/move/", views.move, name="move"),
    path("organisations/<int:org_id>/remove/", views.remove, name="remove"),
    path("organisations/<int:org_id>/groups/new/", views.group_create, name="group_create"),
    path("groups/", views.groups, name="groups"),
    path("groups/<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:group_id>/delete/", views.group_delete, name="group_delete"),
]
