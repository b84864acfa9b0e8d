from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Single-use, expiring links for "verify your email and create a password".

    The hash covers the password and the verification time, so setting the password (which
    also verifies the email) invalidates the link; the timestamp makes it expire after
    PASSWORD_RESET_TIMEOUT.
    """

    key_salt = "badgeplatform.users.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        verified = "" if user.email_verified_at is None else user.email_verified_at.isoformat()
        return f"{user.pk}{user.password}{verified}{user.email}{timestamp}"


verification_token = EmailVerificationTokenGenerator()
