"""django-oauth-toolkit's validator, bounded by what a client registered.

A dynamically registered client may ask only for the scopes it registered (a subset of the
Open Badges 3.0 API's, plus ``offline_access``); clients made by hand in the admin (no
registration row) keep DOT's own rules.
"""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from obapi.models import ClientRegistration


class Validator(OAuth2Validator):
    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        registration = ClientRegistration.objects.filter(application=client).first()
        if registration is None:
            return True
        return set(scopes) <= set(registration.scopes)
