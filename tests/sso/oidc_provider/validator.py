from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """The claims a campus IdP would send: email (verified or not), names, an employee number."""

    oidc_claim_scope = None  # every claim below, whatever the scopes

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": not user.last_name.endswith("(unverified)"),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "employee_number": f"EMP-{user.username}",
        }
