"""The Open Badges 3.0 API's paths (the specification's, mounted at /ims/ob/v3p0/ in the
"obapi" namespace) and our OAuth 2.0 endpoints (/oauth/…, the "oauth" namespace); the RFC 8414
metadata is mounted by badgeplatform.urls at /.well-known/oauth-authorization-server."""

from django.urls import path

from obapi import views

api_urlpatterns = [
    path("discovery", views.service_description, name="discovery"),
    path("credentials", views.credentials_endpoint, name="credentials"),
    path("profile", views.profile_endpoint, name="profile"),
]

oauth_urlpatterns = [
    path("register", views.register, name="register"),
    path("authorize", views.authorize, name="authorize"),
    path("token", views.token, name="token"),
    path("revoke", views.revoke, name="revoke"),
    path("disconnect", views.disconnect, name="disconnect"),
]

# "Add to wallet": the recipient's offer of one award ("wallet" namespace, at /wallet/), and
# the exchange a wallet posts to ("vcapi", at /wallet/exchanges/).
wallet_urlpatterns = [
    path("awards/<uuid:award_id>/offer", views.wallet_offer, name="offer"),
]
exchange_urlpatterns = [
    path("<str:exchange_id>", views.wallet_exchange, name="exchange"),
]
