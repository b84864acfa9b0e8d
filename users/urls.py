from django.urls import path

from users import views

app_name = "users"  # tenant pages; account pages are the "accounts" namespace

# Account pages live outside any space: a person is platform-wide.
account_urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register_done"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("verify/<str:uidb64>/<str:token>/", views.verify, name="verify"),
    path("verify/resend/", views.resend_verification, name="resend_verification"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/change/", views.change_password, name="change_password"),
    path("settings/", views.personal_settings, name="settings"),
    path("settings/emails/", views.email_addresses, name="email_addresses"),
    path("settings/emails/verify/<str:token>/", views.email_verify, name="email_verify"),
]

# Tenant pages, mounted under /s/<space_slug>/.
space_urlpatterns = [
    path("users/", views.user_list, name="list"),
    path("users/new/", views.user_create, name="create"),
    path("users/bulk/", views.bulk, name="bulk"),
    path("users/<int:member_id>/", views.user_detail, name="detail"),
    path("users/<int:member_id>/edit/", views.user_edit, name="edit"),
    path("groups/<int:group_id>/", views.group_members, name="group_members"),
    path("settings/roles/", views.roles, name="roles"),
    path("settings/security/", views.security_settings, name="security"),
    path("settings/roles/new/", views.role_create, name="role_create"),
    path("settings/roles/<int:role_id>/edit/", views.role_edit, name="role_edit"),
    path("settings/roles/<int:role_id>/delete/", views.role_delete, name="role_delete"),
]
