from django.urls import path

from issuers import views

app_name = "issuers"

space_urlpatterns = [
    path("issuers/", views.index, name="index"),
    path("issuers/new/", views.create, name="create"),
    path("issuers/<int:issuer_id>/", views.detail, name="detail"),
    path("issuers/<int:issuer_id>/edit/", views.edit, name="edit"),
]
