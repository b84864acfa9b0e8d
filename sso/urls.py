from django.urls import path

from sso import views

app_name = "sso"

# Tenant pages, mounted under /s/<space_slug>/ (allauth's protocol endpoints are under /sso/).
space_urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("settings/sso/", views.index, name="index"),
    path("settings/sso/new/oidc/", views.provider_create, {"kind": "oidc"}, name="create_oidc"),
    path("settings/sso/new/saml/", views.provider_create, {"kind": "saml"}, name="create_saml"),
    path("settings/sso/<int:idp_id>/", views.provider_edit, name="edit"),
    path("settings/sso/<int:idp_id>/delete/", views.provider_delete, name="delete"),
    path("settings/sso/<int:idp_id>/metadata.xml", views.sp_metadata, name="sp_metadata"),
]
