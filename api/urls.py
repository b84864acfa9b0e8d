from django.urls import path

from api import views

app_name = "api_keys"

# Tenant pages, mounted under /s/<space_slug>/ (the API itself is mounted at /api/).
space_urlpatterns = [
    path("settings/api-keys/", views.index, name="index"),
    path("settings/api-keys/<int:key_id>/revoke/", views.revoke, name="revoke"),
]
