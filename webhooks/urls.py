from django.urls import path

from webhooks import views

app_name = "webhooks"

# Tenant pages, mounted under /s/<space_slug>/ (the API operations live in webhooks.api).
space_urlpatterns = [
    path("settings/webhooks/", views.index, name="index"),
    path("settings/webhooks/<int:endpoint_id>/", views.detail, name="detail"),
    path("settings/webhooks/<int:endpoint_id>/rotate/", views.rotate, name="rotate"),
    path("settings/webhooks/<int:endpoint_id>/delete/", views.delete, name="delete"),
    path("settings/webhooks/<int:endpoint_id>/enable/", views.enable, name="enable"),
    path("settings/webhooks/<int:endpoint_id>/test/", views.test, name="test"),
    path("settings/webhooks/messages/<int:message_id>/replay/", views.replay, name="replay"),
]
