"""The URLs django-allauth reverses by name (unnamespaced, as allauth names them), mounted at
/accounts/. Only what the platform uses is mounted: allauth's own sign-up, email, password and
login-by-code pages are not (users.views has the site's). ``account_login``, ``account_logout``
and ``account_reset_password`` are the site's own views under allauth's names, so allauth's
redirects land on them. Every view declares its access (badgeplatform.access)."""

from django.urls import path

from users import mfa_views, views

urlpatterns = [
    # allauth's names for the site's own pages.
    path("login/", views.login_view, name="account_login"),
    path("logout/", views.logout_view, name="account_logout"),
    path("password/reset/", views.password_reset, name="account_reset_password"),
    # Re-authentication before a factor is changed (password, or a factor).
    path("reauthenticate/", mfa_views.reauthenticate_password, name="account_reauthenticate"),
    # Second factors (allauth.mfa), managed from the Settings page.
    path("2fa/", mfa_views.index, name="mfa_index"),
    path("2fa/authenticate/", mfa_views.authenticate, name="mfa_authenticate"),
    path("2fa/reauthenticate/", mfa_views.reauthenticate_mfa, name="mfa_reauthenticate"),
    path("2fa/totp/activate/", mfa_views.activate_totp, name="mfa_activate_totp"),
    path("2fa/totp/deactivate/", mfa_views.deactivate_totp, name="mfa_deactivate_totp"),
    path("2fa/recovery-codes/", mfa_views.recovery_codes, name="mfa_view_recovery_codes"),
    path(
        "2fa/recovery-codes/generate/",
        mfa_views.generate_recovery_codes,
        name="mfa_generate_recovery_codes",
    ),
    path(
        "2fa/recovery-codes/download/",
        mfa_views.download_recovery_codes,
        name="mfa_download_recovery_codes",
    ),
    path("2fa/webauthn/", mfa_views.passkeys, name="mfa_list_webauthn"),
    path("2fa/webauthn/add/", mfa_views.add_passkey, name="mfa_add_webauthn"),
    path("2fa/webauthn/remove/", mfa_views.remove_passkey, name="mfa_remove_passkey"),
    path(
        "2fa/webauthn/reauthenticate/",
        mfa_views.reauthenticate_webauthn,
        name="mfa_reauthenticate_webauthn",
    ),
]
