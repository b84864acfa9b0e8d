"""Who may enter a space, by how they signed in (registered with the access layer).

- A session that signed in through a space's identity provider opens that space only (and any
  other whose provider it then also signed in through): another space's provider vouches for
  nobody here — its administrator could assert any address.
- A space that requires single sign-on admits password sessions only for its break-glass
  administrators.
Either way the answer is the space's own sign-in page, which offers its providers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from badgeplatform.access import Access
from sso.models import SignInPolicy

# A session that signed in through a space's identity provider (and not with a password) opens
# only the spaces listed here.
SESSION_SSO_ONLY = "_signin_sso_only"
SESSION_SSO_SPACES = "_signin_sso_spaces"
SESSION_SSO_PENDING = "_signin_sso_pending"  # between the IdP's answer and the signed-in session


def sign_in_url(space, next_url: str = "") -> str:
    url = reverse("sso:sign_in", args=[space.slug])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def is_break_glass(space, user) -> bool:
    through = SignInPolicy.break_glass.through
    return through.objects.filter(signinpolicy__space=space, user=user).exists()


def check(request: HttpRequest, access: Access) -> HttpResponse | None:
    """Registered with ``badgeplatform.access.register_entry_check``: asked on every tenant
    page, it answers at once (no query) unless the session signed in through single sign-on or
    the space requires it."""
    space = access.space
    session = request.session
    if not session.get(SESSION_SSO_ONLY) and not space.sso_required:
        return None
    if space.pk in (session.get(SESSION_SSO_SPACES) or []):
        return None
    if session.get(SESSION_SSO_ONLY):
        messages.info(
            request,
            f"You signed in through another organisation's identity provider. "
            f"Sign in to {space.name} to continue.",
        )
        return HttpResponseRedirect(sign_in_url(space, request.get_full_path()))
    if space.sso_required and not is_break_glass(space, access.user):
        messages.info(request, f"{space.name} requires single sign-on. Sign in through it below.")
        return HttpResponseRedirect(sign_in_url(space, request.get_full_path()))
    return None


def on_logged_in(sender, request, user, **kwargs) -> None:
    """Record how this session signed in: a password clears any single sign-on restriction; a
    single sign-on adds its space (keeping the spaces this person already opened this way)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    pending = session.pop(SESSION_SSO_PENDING, None)
    sso = getattr(request, "_sso_signin", None) or pending
    if sso is None:
        session.pop(SESSION_SSO_ONLY, None)
        session.pop(SESSION_SSO_SPACES, None)
        return
    if sso["prior_user_id"] == user.pk:
        spaces = {*sso["prior_spaces"], sso["space_id"]}
        only = sso["prior_only"]
    else:
        spaces, only = {sso["space_id"]}, True
    session[SESSION_SSO_SPACES] = sorted(spaces)
    if only:
        session[SESSION_SSO_ONLY] = True
    else:
        session.pop(SESSION_SSO_ONLY, None)
