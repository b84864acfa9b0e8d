from django.contrib.auth.backends import ModelBackend


class EmailOrUsernameBackend(ModelBackend):
    """Sign in with the username or an email address: the main one or a confirmed secondary
    one (each belongs to one person; case-insensitive)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from users.models import User

        if not username or not password:
            return None
        if "@" in username:
            # The main address or a confirmed secondary one (users.secondary_emails).
            user = User.objects.get_by_email(username)
        else:
            user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            User().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
