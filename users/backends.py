from django.contrib.auth.backends import ModelBackend


class EmailOrUsernameBackend(ModelBackend):
    """Sign in with either the username or the email address (both unique, case-insensitive)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from users.models import User

        if not username or not password:
            return None
        field = "email__iexact" if "@" in username else "username__iexact"
        user = User.objects.filter(**{field: username.strip()}).first()
        if user is None:
            User().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
