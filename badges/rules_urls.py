from django.urls import path

from badges import rules_views as views

app_name = "rules"

# Tenant pages, mounted under /s/<space_slug>/ in the "rules" namespace.
space_urlpatterns = [
    path("issuing/rules/", views.index, name="index"),
    path("issuing/rules/new/", views.create, name="create"),
    path("issuing/rules/<int:rule_id>/", views.detail, name="detail"),
    path("issuing/rules/<int:rule_id>/edit/", views.edit, name="edit"),
    path("issuing/rules/<int:rule_id>/active/", views.set_active, name="set_active"),
]
