from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badgeplatform import ratelimit
from badgeplatform.access import public_view, space_view, user_view
from users import services
from users.forms import EmailForm, LoginForm, RegistrationForm, SetPasswordForm
from users.models import Role, User
from users.tokens import verification_token


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The ``next`` parameter, only if it points back into this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@public_view("Visitors register their organisation here.")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.space_register(
                organisation_name=data["organisation_name"],
                slug=data["slug"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                username=data["username"],
            )
        except IntegrityError:
            # Someone took the address or username between validation and commit.
            form.add_error(None, "That space address or username was just taken. Please try again.")
        else:
            request.session["registered_email"] = data["email"]
            return redirect("accounts:register_done")
    return TemplateResponse(request, "users/register.html", {"form": form})


@public_view("The 'check your inbox' page after registering.")
@require_GET
def register_done(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(
        request, "users/register_done.html", {"email": request.session.get("registered_email")}
    )


def _login_throttle_keys(request: HttpRequest, username: str) -> list[str]:
    return [f"login-user:{username.strip().lower()}", f"login-ip:{ratelimit.client_ip(request)}"]


@public_view("The sign-in page.")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = safe_next(request)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        window, limit = settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_FAILURE_LIMIT
        keys = _login_throttle_keys(request, username)
        if any(ratelimit.count(k, window) >= limit for k in keys):
            minutes = max(1, ratelimit.retry_after(window) // 60)
            form.add_error(
                None,
                f"Too many failed sign-in attempts. Please wait {minutes} minute(s), "
                "or reset your password.",
            )
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                for k in keys:
                    ratelimit.hit(k, window)
                form.add_error(
                    None,
                    "That email/username and password do not match. If you have not set a "
                    "password yet, use the link in your verification email.",
                )
            else:
                ratelimit.reset(keys[0], window)
                login(request, user)  # rotates the session key
                return HttpResponseRedirect(next_url or reverse("home"))
    return TemplateResponse(request, "users/login.html", {"form": form, "next": next_url})


@public_view("Signing out needs no permission; POST only so a link cannot sign you out.")
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You have been signed out.")
    return redirect("accounts:login")


def _user_from_uid(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


# The token is moved from the URL into the session at once, so it never leaks via Referer
# from the password page (the same dance as Django's PasswordResetConfirmView).
_SESSION_TOKEN = "_link_token"  # noqa: S105 - a session key name, not a secret
_LINK_PLACEHOLDER = "set-password"


def _token_link_view(request, uidb64, token, *, generator, kind, template, on_done):
    if token != _LINK_PLACEHOLDER:
        request.session[_SESSION_TOKEN] = token
        return redirect(request.path.replace(token, _LINK_PLACEHOLDER))
    user = _user_from_uid(uidb64)
    session_token = request.session.get(_SESSION_TOKEN, "")
    if user is None or not generator.check_token(user, session_token):
        return TemplateResponse(request, "users/link_invalid.html", {"kind": kind}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_set_password_and_verify(
            user=user, password=form.cleaned_data["new_password1"]
        )
        request.session.pop(_SESSION_TOKEN, None)
        login(request, user, backend="users.backends.EmailOrUsernameBackend")
        return on_done(request, user)
    return TemplateResponse(request, template, {"form": form, "link_user": user})


def _after_verification(request: HttpRequest, user: User) -> HttpResponse:
    messages.success(request, "Your email is verified and your password is set. Welcome!")
    return redirect("home")


@public_view("Emailed verification links: the token in the URL is the credential.")
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return _token_link_view(
        request,
        uidb64,
        token,
        generator=verification_token,
        kind="verification",
        template="users/set_password.html",
        on_done=_after_verification,
    )


@public_view("Ask for a new verification email; answers the same whatever the address.")
@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        window, limit = settings.RESEND_VERIFICATION_WINDOW, settings.RESEND_VERIFICATION_LIMIT
        # Per address, and (more loosely, since offices share addresses) per client.
        over = [
            ratelimit.hit(f"resend:{email.lower()}", window) > limit,
            ratelimit.hit(f"resend-ip:{ratelimit.client_ip(request)}", window) > limit * 5,
        ]
        if any(over):
            form.add_error(
                None,
                "Too many requests for verification emails. Please wait "
                f"{max(1, ratelimit.retry_after(window) // 60)} minute(s) and try again.",
            )
        else:
            user = User.objects.get_by_email(email)
            if user is not None and user.is_active and not user.is_verified:
                services.verification_send(user=user)
            return TemplateResponse(request, "users/email_sent.html", {"email": email})
    return TemplateResponse(request, "users/resend_verification.html", {"form": form})


@public_view("Ask for a password reset link; answers the same whatever the address.")
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        window, limit = settings.RESEND_VERIFICATION_WINDOW, settings.RESEND_VERIFICATION_LIMIT
        if ratelimit.hit(f"reset:{email.lower()}", window) <= limit:
            user = User.objects.get_by_email(email)
            if user is not None and user.is_active:
                services.password_reset_send(user=user)
        return TemplateResponse(request, "users/email_sent.html", {"email": email})
    return TemplateResponse(request, "users/password_reset.html", {"form": form})


def _after_reset(request: HttpRequest, user: User) -> HttpResponse:
    messages.success(request, "Your new password is set.")
    return redirect("home")


@public_view("Emailed password reset links: the token in the URL is the credential.")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return _token_link_view(
        request,
        uidb64,
        token,
        generator=default_token_generator,
        kind="password reset",
        template="users/set_password.html",
        on_done=_after_reset,
    )


@user_view
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import update_session_auth_hash
    from django.contrib.auth.forms import PasswordChangeForm

    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, "Your password has been changed.")
        return redirect("accounts:change_password")
    return TemplateResponse(request, "users/change_password.html", {"form": form})


@space_view()
@require_GET
def roles(request: HttpRequest) -> HttpResponse:
    """The space's roles and what each may do (default roles are read-only)."""
    from badgeplatform.permissions import PERMISSION_LABELS, Perm

    role_rows = [
        {
            "role": role,
            "permissions": [PERMISSION_LABELS[Perm(p)] for p in role.permissions if p in Perm],
        }
        for role in Role.objects.for_space(request.space)
    ]
    return TemplateResponse(request, "users/roles.html", {"roles": role_rows})
