from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badgeplatform.access import Access, public_view, space_view, user_view
from badgeplatform.htmx import INVALID_FORM_STATUS, render_form, render_invalid
from badgeplatform.images import MB, ImagePolicy, process_image
from badgeplatform.pagination import paginate
from badgeplatform.permissions import ADMINISTRATIVE, PERMISSION_LABELS, USER_ROLE, Perm
from orgs.access import group_for
from orgs.models import Group
from users import (
    holdings,
    memberships,
    mfa,
    secondary_emails,
    services,
    settings_panels,
    signin,
    throttles,
)
from users.access import (
    NOT_ALL_COVERED,
    can_edit_member,
    grantable_permissions,
    holds_role,
    member_for,
    members_visible,
    memberships_here,
    role_change_refusal,
    role_for,
)
from users.forms import (
    BulkActionForm,
    CreateUserForm,
    EmailForm,
    GroupMemberAddForm,
    LoginForm,
    MemberDetailsForm,
    MFAPolicyForm,
    PlaceFormSet,
    PlaceRoleForm,
    ProfileForm,
    RegistrationForm,
    RoleChoiceForm,
    RoleForm,
    SetPasswordForm,
    TransferForm,
    UserFilterForm,
)
from users.models import Member, Membership, Role, User
from users.places import (
    Place,
    PlaceOptions,
    can_assign_role,
    can_manage_place,
)
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
    """Every valid registration gets the same answer, whatever already exists (see
    services.space_register); throttled per address registered and per client."""
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if wait := throttles.registration_attempt(request, data["email"]):
            form.add_error(None, throttles.message("registrations", wait))
            return throttles.throttled(
                TemplateResponse(request, "users/register.html", {"form": form}), wait
            )
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
            # Three collisions in a row with concurrent registrations: says nothing about which.
            form.add_error(None, "We could not complete the registration. Please try again.")
        else:
            request.session["registered_email"] = data["email"]
            return redirect("accounts:register_done")
    return render_form(request, "users/register.html", {"form": form}, form)


@public_view("The 'check your inbox' page after registering.")
@require_GET
def register_done(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(
        request, "users/register_done.html", {"email": request.session.get("registered_email")}
    )


@public_view("The sign-in page.")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = safe_next(request)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        # Throttled per account and per client (users/throttles.py): no password is checked.
        if wait := throttles.sign_in_attempt(request, username):
            form.add_error(
                None,
                throttles.message("failed sign-in attempts", wait)
                + " You can also reset your password.",
            )
            context = {"form": form, "next": next_url}
            return throttles.throttled(TemplateResponse(request, "users/login.html", context), wait)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            form.add_error(
                None,
                "That email/username and password do not match. If you have not set a "
                "password yet, use the link in your verification email.",
            )
        else:
            throttles.sign_in_succeeded(request, username)
            # Signed in now, or (with a second factor set up) once it is given: users.signin.
            return signin.sign_in(request, user, redirect_url=next_url or reverse("home"))
    return render_form(request, "users/login.html", {"form": form, "next": next_url}, form)


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


def _token_link_view(request, uidb64, token, *, generator, kind, template, on_done, extra=None):
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
        done = on_done(request, user)
        # A second factor, when set up, is asked for here too: a reset link proves the email
        # address, not the second factor.
        return signin.sign_in(request, user, redirect_url=done.url, via="link")
    context = {"form": form, "link_user": user, **(extra(user) if extra else {})}
    return render_form(request, template, context, form)


def _registered_spaces(user: User) -> list[tuple[str, str]]:
    """(name, address) of the spaces ``user`` registered. A registrant whose address was taken
    got a free variant: the link's page and the welcome message are where they learn it,
    seen only by the holder of the emailed link."""
    return [
        (space.name, settings.SITE_URL + reverse("dashboard", kwargs={"space_slug": space.slug}))
        for space in services.spaces_registered(user)
    ]


def _after_verification(request: HttpRequest, user: User) -> HttpResponse:
    welcome = "Your email is verified and your password is set. Welcome!"
    for name, address in _registered_spaces(user)[:1]:
        welcome += f" Your space “{name}” is at {address}; your username is {user.username}."
    messages.success(request, welcome)
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
        extra=lambda user: {"registered_spaces": _registered_spaces(user)},
    )


@public_view("Ask for a new verification email; answers the same whatever the address.")
@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # Per address and per client (users/throttles.py); counted whatever the address.
        if wait := throttles.resend_verification_attempt(request, email):
            form.add_error(None, throttles.message("requests for verification emails", wait))
            return throttles.throttled(
                TemplateResponse(request, "users/resend_verification.html", {"form": form}), wait
            )
        user = User.objects.get_by_email(email)
        if user is not None and user.is_active and not user.is_verified:
            services.verification_send(user=user)
        return TemplateResponse(request, "users/email_sent.html", {"email": email})
    return render_form(request, "users/resend_verification.html", {"form": form}, form)


@public_view("Ask for a password reset link; answers the same whatever the address.")
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # Per address and per client (users/throttles.py); counted whatever the address.
        if wait := throttles.password_reset_attempt(request, email):
            form.add_error(None, throttles.message("password reset requests", wait))
            return throttles.throttled(
                TemplateResponse(request, "users/password_reset.html", {"form": form}), wait
            )
        user = User.objects.get_by_email(email)
        if user is not None and user.is_active:
            services.password_reset_send(user=user)
        return TemplateResponse(request, "users/email_sent.html", {"email": email})
    return render_form(request, "users/password_reset.html", {"form": form}, form)


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
    return render_form(request, "users/change_password.html", {"form": form}, form)


# ---- The Users area --------------------------------------------------------------------------
#
# An administrator sees and manages the people who hold a place (organisation or group) inside
# the organisations where they hold "manage users"; a Space Administrator sees everyone. Each
# action checks the place it touches, and nobody hands out a role with rights they lack there.

USERS_PER_PAGE = 25


def _memberships_here(space) -> Prefetch:
    return memberships_here(space)


def visible_members(request: HttpRequest) -> QuerySet[Member]:
    """The space's people whom the user manages (one EXISTS condition, or none at the root)."""
    return members_visible(request.access, need=Perm.MANAGE_USERS)


def _membership_in_reach(access: Access, m: Membership) -> bool:
    org = m.organisation if m.organisation_id else m.group.organisation
    return access.can(Perm.MANAGE_USERS, organisation=org)


def get_member_for(request: HttpRequest, member_id: int | str) -> Member:
    """A person of this space the user manages: 404 when missing or out of their reach alike."""
    return member_for(request.access, member_id, need=Perm.MANAGE_USERS)


ORDERINGS = {
    "name": [Lower("user__last_name"), Lower("user__first_name"), Lower("user__username")],
    "-name": [
        Lower("user__last_name").desc(),
        Lower("user__first_name").desc(),
        Lower("user__username").desc(),
    ],
    "created": ["created_at", "pk"],
    "-created": ["-created_at", "-pk"],
}


def _subtree_place_q(org, only: bool) -> Q:
    """Memberships on ``org`` (and, unless ``only``, everything beneath it: an MPTT range), or
    on the groups there."""
    if only:
        return Q(organisation=org) | Q(group__organisation=org)
    return Q(
        organisation__tree_id=org.tree_id,
        organisation__lft__gte=org.lft,
        organisation__rght__lte=org.rght,
    ) | Q(
        group__organisation__tree_id=org.tree_id,
        group__organisation__lft__gte=org.lft,
        group__organisation__rght__lte=org.rght,
    )


def _group_choices(options: PlaceOptions, access: Access) -> list[tuple[str, str]]:
    return options.group_choices(lambda g: can_manage_place(access, Place(group=g)))


@space_view(Perm.MANAGE_USERS)
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    """Ordered by name or creation date, filtered by role, organisation or group, searched by
    name/email/external id, paginated; the query count does not grow with the people shown."""
    space, access = request.space, request.access
    options = PlaceOptions(space)
    roles = list(Role.objects.for_space(space))
    form = UserFilterForm(
        request.GET or None,
        roles=roles,
        organisation_choices=options.organisation_choices(
            lambda o: access.can(Perm.MANAGE_USERS, organisation=o)
        ),
        group_choices=_group_choices(options, access),
    )
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    members = visible_members(request)
    place_filters = []
    for term in (data.get("q") or "").split()[:6]:
        members = members.filter(
            Q(user__first_name__icontains=term)
            | Q(user__last_name__icontains=term)
            | Q(user__email__icontains=term)
            | Q(user__username__icontains=term)
            | Q(external_id__icontains=term)
        )
    if data.get("role"):
        place_filters.append(Q(role_id=int(data["role"])))
    if org := options.organisation(data.get("organisation")):
        place_filters.append(_subtree_place_q(org, only=data.get("scope") == "only"))
    if group := options.group(data.get("group")):
        place_filters.append(Q(group=group))
    for place_q in place_filters:
        members = members.filter(
            Exists(Membership.objects.filter(space=space, user=OuterRef("user_id")).filter(place_q))
        )
    members = (
        members.select_related("user")
        .prefetch_related(_memberships_here(space))
        .order_by(*ORDERINGS[data.get("order") or "name"])
    )
    page = paginate(request, members, USERS_PER_PAGE)
    # Its own ids: the filter form above has a "group" and a "role" too.
    bulk_form = BulkActionForm(
        group_choices=_group_choices(options, access), roles=roles, auto_id="bulk_%s"
    )
    context = {
        "form": form,
        "page": page,
        "bulk_form": bulk_form,
        "select_all": request.GET.get("select") == "all",
        "filtered": any(data.get(k) for k in ("q", "role", "organisation", "group")),
        "can_create": any(
            access.can(Perm.MANAGE_USERS, organisation=o) for o in options.organisations
        ),
    }
    # htmx asks for the results only (badgeplatform.htmx: a history restore gets the page).
    template = "users/list.html#results" if request.htmx else "users/list.html"
    return render_form(request, template, context, form)


def _place_forms(request, options, roles, data=None):
    return PlaceFormSet(
        data,
        prefix="places",
        form_kwargs={"options": options, "roles": roles, "access": request.access},
    )


@space_view(Perm.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    """Create user, or — when the email already has an account — offer to add that person."""
    space = request.space
    options = PlaceOptions(space)
    roles = list(Role.objects.for_space(space))
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None and "add_row" in data:
        # "Add another organisation or group" (works without JavaScript): one more row.
        total = int(data.get("places-TOTAL_FORMS") or 1)
        data["places-TOTAL_FORMS"] = str(min(total + 1, 20))
    form = CreateUserForm(data, space=space)
    formset = _place_forms(request, options, roles, data)
    offer_existing = False
    status = 200
    if data is not None and "add_row" not in data:
        if form.is_valid() and formset.is_valid():
            d = form.cleaned_data
            if form.existing_user is not None and "add_existing" not in data:
                # Say so and offer to add them; nothing about their other spaces is shown.
                offer_existing = True
            else:
                try:
                    if form.existing_user is not None:
                        member = services.member_add_existing(
                            access=request.access,
                            space=space,
                            user=form.existing_user,
                            places=formset.places,
                            external_id=d["external_id"],
                        )
                        text = f"{member.user.email} was added to {space.name} and told by email."
                    else:
                        member = services.member_create(
                            space=space,
                            email=d["email"],
                            first_name=d["first_name"],
                            last_name=d["last_name"],
                            username=d["username"],
                            external_id=d["external_id"],
                            places=formset.places,
                            access=request.access,
                        )
                        text = (
                            f"{member.user.display_name} was created. A verification email "
                            f"invites them to verify {member.user.email} and create a password."
                        )
                except (IntegrityError, ValidationError) as exc:
                    form.add_error(
                        None,
                        " ".join(exc.messages)
                        if isinstance(exc, ValidationError)
                        else "That username, email or external identifier was just taken. "
                        "Please check and try again.",
                    )
                else:
                    messages.success(request, text)
                    return redirect("users:detail", space.slug, member.pk)
        if form.errors or formset.total_error_count():
            status = INVALID_FORM_STATUS
    return TemplateResponse(
        request,
        "users/create.html",
        {"form": form, "formset": formset, "offer_existing": offer_existing},
        status=status,
    )


def _membership_rows(request, member, options, roles):
    access = request.access
    rows = []
    for m in member.user.memberships_here:
        place = Place.of(m)
        manageable = can_assign_role(access, m.role, place)
        row = {"membership": m, "place": place, "manageable": manageable}
        if manageable:
            row["role_form"] = RoleChoiceForm(
                role_choices=[
                    (str(r.pk), r.name) for r in roles if can_assign_role(access, r, place)
                ],
                initial={"role": str(m.role_id)},
                prefix=f"m{m.pk}",
            )
            row["transfer_form"] = TransferForm(
                choices=options.place_choices(
                    lambda p, m=m, place=place: (
                        p.value != place.value and can_assign_role(access, m.role, p)
                    )
                ),
                prefix=f"t{m.pk}",
            )
        rows.append(row)
    return rows


@space_view(Perm.MANAGE_USERS)
@require_GET
def user_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    """The person's places and roles, and their recently awarded badges."""
    member = get_member_for(request, member_id)
    access = request.access
    held = member.user.memberships_here
    return TemplateResponse(
        request,
        "users/detail.html",
        {
            "member": member,
            "person": member.user,
            "memberships": held,
            "recent_awards": holdings.recent("awards", space=request.space, user=member.user),
            "can_remove": member.user_id != request.user.pk
            and all(_membership_in_reach(access, m) for m in held)
            and all(memberships.may_end(access, m) for m in held),
        },
    )


@space_view(Perm.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    """Add to, remove from or transfer between organisations and groups; change roles; the
    external identifier. Several actions, told apart by the submit button's ``action``."""
    member = get_member_for(request, member_id)
    space, access = request.space, request.access
    options = PlaceOptions(space)
    roles = list(Role.objects.for_space(space))
    action = request.POST.get("action") if request.method == "POST" else None
    details_form = MemberDetailsForm(
        request.POST if action == "details" else None,
        member=member,
        initial={"external_id": member.external_id or ""},
    )
    add_form = PlaceRoleForm(
        request.POST if action == "add_place" else None,
        options=options,
        roles=roles,
        access=access,
        place_required=True,
        prefix="add",
    )
    status = 200
    if action:
        status = _member_edit_action(
            request, member, action, options, roles, details_form, add_form
        )
        if status == 302 and not request.htmx:
            return redirect("users:edit", space.slug, member.pk)
        if status == 302:
            status = 200
            member = get_member_for(request, member_id)
            add_form = PlaceRoleForm(
                options=options, roles=roles, access=access, place_required=True, prefix="add"
            )
    editable = can_edit_member(access, member, member.user.memberships_here)
    context = {
        "member": member,
        "person": member.user,
        "details_locked": "" if editable else NOT_ALL_COVERED.format(name=member.user.display_name),
        "details_form": details_form,
        "add_form": add_form,
        "rows": _membership_rows(request, member, options, roles),
    }
    template = (
        "users/edit.html#places" if request.htmx and action != "details" else "users/edit.html"
    )
    return TemplateResponse(request, template, context, status=status)


def _member_edit_action(request, member, action, options, roles, details_form, add_form) -> int:
    """One edit action; 302 when done (with a message), 422 with errors shown otherwise."""
    access, space = request.access, request.space
    name = member.user.display_name
    if action == "details":
        if not details_form.is_valid():
            return INVALID_FORM_STATUS
        try:
            memberships.member_update(
                access=access,
                member=member,
                external_id=details_form.cleaned_data["external_id"],
            )
        except IntegrityError:
            details_form.add_error("external_id", "That external identifier was just taken.")
            return INVALID_FORM_STATUS
        messages.success(request, "The details were saved.")
        return 302
    if action == "add_place":
        if not add_form.is_valid():
            return INVALID_FORM_STATUS
        place, role = add_form.cleaned_data["place_obj"], add_form.cleaned_data["role_obj"]
        try:
            memberships.membership_add(
                access=access, space=space, user=member.user, place=place, role=role
            )
        except ValidationError as exc:
            add_form.add_error("place", exc)
            return INVALID_FORM_STATUS
        messages.success(request, f"{name} is now {role.name} in “{place}”.")
        return 302
    membership = next(
        (m for m in member.user.memberships_here if str(m.pk) == request.POST.get("membership")),
        None,
    )
    if membership is None:
        messages.error(request, "That place is no longer theirs; the page has been refreshed.")
        return INVALID_FORM_STATUS
    place = Place.of(membership)
    if not can_assign_role(access, membership.role, place):
        raise PermissionDenied(
            f"{name} holds “{membership.role.name}” in “{place}”; changing it needs rights you "
            "do not hold there."
        )
    try:
        if action == "set_role":
            role = next(
                (r for r in roles if str(r.pk) == request.POST.get(f"m{membership.pk}-role")), None
            )
            if role is None or not can_assign_role(access, role, place):
                messages.error(request, "Choose a role you may give there.")
                return INVALID_FORM_STATUS
            memberships.membership_set_role(access=access, membership=membership, role=role)
            messages.success(request, f"{name} is now {role.name} in “{place}”.")
        elif action == "transfer":
            target = options.get(request.POST.get(f"t{membership.pk}-place", ""))
            if target is None:
                messages.error(request, "Choose where to transfer them.")
                return INVALID_FORM_STATUS
            if not can_assign_role(access, membership.role, target):
                raise PermissionDenied(
                    f"You cannot place someone as “{membership.role.name}” in “{target}”."
                )
            memberships.membership_transfer(access=access, membership=membership, place=target)
            messages.success(request, f"{name} moved from “{place}” to “{target}”.")
        elif action == "remove_place":
            memberships.membership_end(access=access, membership=membership)
            messages.success(request, f"{name} is no longer in “{place}”.")
        else:
            messages.error(request, "Unknown action.")
            return 400
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return INVALID_FORM_STATUS
    return 302


# ---- Bulk actions ----------------------------------------------------------------------------


def _list_return_url(request: HttpRequest) -> str:
    base = reverse("users:list", args=[request.space.slug])
    target = request.POST.get("next") or ""
    return target if target.startswith(base) and "\n" not in target else base


@dataclass
class BulkPlan:
    affected: list[Member]
    summary: str
    skipped_note: str = ""
    error: str = ""
    confirm_label: str = ""


def _bulk_plan(request, form, members, options, roles) -> BulkPlan:
    """Who the action touches and what it will do; raises PermissionDenied where it must."""
    access = request.access
    d = form.cleaned_data
    action = d["action"]

    def group_of(name):
        group = options.group(d.get(name))
        if group is None or not can_manage_place(access, Place(group=group)):
            raise PermissionDenied("You do not manage the members of that group.")
        return group

    def in_group(member, group):
        return next((m for m in member.user.memberships_here if m.group_id == group.pk), None)

    def n_people(n):
        return f"{n} {'person' if n == 1 else 'people'}"

    def skipped_note(n, what):
        return f"{n_people(n)} of those selected {'is' if n == 1 else 'are'} {what}." if n else ""

    if action == "remove_from_space":
        if any(m.user_id == request.user.pk for m in members):
            return BulkPlan([], "", error="You cannot remove yourself from the space here.")
        outside = [
            m.user.display_name
            for m in members
            if not all(_membership_in_reach(access, x) for x in m.user.memberships_here)
        ]
        if outside:
            raise PermissionDenied(
                f"{', '.join(outside[:5])} also belong to organisations you do not manage, so "
                "you cannot remove them from the space."
            )
        # The same rule as ending each of their roles one by one (said at review, enforced
        # again by the service).
        refusal = memberships.end_refusal(
            access,
            Membership.objects.filter(
                space=request.space, user_id__in=[m.user_id for m in members]
            ),
            doing=f"Removing {n_people(len(members))} from the space",
        )
        if refusal:
            raise PermissionDenied(refusal)
        return BulkPlan(
            members,
            f"Remove {n_people(len(members))} from {request.space.name}? Their roles in every "
            "organisation and group of this space end. Their accounts, and every badge they "
            "were awarded, stay theirs.",
            confirm_label=f"Remove {n_people(len(members))} from the space",
        )
    if action == "add_to_group":
        group = group_of("group")
        role = next((r for r in roles if str(r.pk) == d["role"]), None)
        if role is None or not can_assign_role(access, role, Place(group=group)):
            raise PermissionDenied(f"You cannot give that role in “{group.name}”.")
        affected = [m for m in members if in_group(m, group) is None]
        return BulkPlan(
            affected,
            f"Add {n_people(len(affected))} into “{group.name}” as {role.name}?",
            skipped_note(len(members) - len(affected), "already in it and keep their role"),
            confirm_label=f"Add {n_people(len(affected))} into “{group.name}”",
        )
    if action == "remove_from_group":
        group = group_of("group")
        affected = [m for m in members if in_group(m, group) is not None]
        for m in affected:
            if not can_assign_role(access, in_group(m, group).role, Place(group=group)):
                raise PermissionDenied(
                    f"{m.user.display_name} holds a role in “{group.name}” with more rights "
                    "than yours."
                )
        return BulkPlan(
            affected,
            f"Take {n_people(len(affected))} out of “{group.name}”? They stay in the space; "
            f"anyone for whom it is their only place is put in “{group.organisation.name}” as "
            "User.",
            skipped_note(len(members) - len(affected), "not in it"),
            confirm_label=f"Take {n_people(len(affected))} out of “{group.name}”",
        )
    source, target = group_of("from_group"), group_of("to_group")
    affected = [m for m in members if in_group(m, source) is not None]
    for m in affected:
        role = in_group(m, source).role
        if not can_assign_role(access, role, Place(group=source)) or not can_assign_role(
            access, role, Place(group=target)
        ):
            raise PermissionDenied(
                f"{m.user.display_name} holds “{role.name}” in “{source.name}”, which you "
                f"cannot give in “{target.name}”."
            )
    return BulkPlan(
        affected,
        f"Transfer {n_people(len(affected))} from “{source.name}” into “{target.name}”, "
        "keeping the role each holds?",
        skipped_note(len(members) - len(affected), f"not in “{source.name}”"),
        confirm_label=f"Transfer {n_people(len(affected))} into “{target.name}”",
    )


def _bulk_run(request, form, plan, options) -> str:
    d = form.cleaned_data
    space = request.space
    user_ids = [m.user_id for m in plan.affected]
    n = len(user_ids)
    people = f"{n} {'person' if n == 1 else 'people'}"
    if d["action"] == "remove_from_space":
        memberships.members_remove_from_space(access=request.access, space=space, user_ids=user_ids)
        return f"{people} removed from {space.name}. Their awarded badges are untouched."
    if d["action"] == "add_to_group":
        group = options.group(d["group"])
        role = role_for(request.access, d["role"], need=Perm.MANAGE_USERS)
        memberships.group_members_add(
            access=request.access, group=group, user_ids=user_ids, role=role
        )
        return f"{people} added into “{group.name}” as {role.name}."
    if d["action"] == "remove_from_group":
        group = options.group(d["group"])
        memberships.group_members_remove(access=request.access, group=group, user_ids=user_ids)
        return f"{people} taken out of “{group.name}”."
    source, target = options.group(d["from_group"]), options.group(d["to_group"])
    memberships.group_members_transfer(
        access=request.access, source=source, target=target, user_ids=user_ids
    )
    return f"{people} transferred from “{source.name}” into “{target.name}”."


@space_view(Perm.MANAGE_USERS)
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One action on a cherry-picked set: a confirmation that says how many people it affects,
    then (with ``confirm``) the action and a result message."""
    space, access = request.space, request.access
    options = PlaceOptions(space)
    roles = list(Role.objects.for_space(space))
    form = BulkActionForm(request.POST, group_choices=_group_choices(options, access), roles=roles)
    context = {"form": form, "next": _list_return_url(request), "plan": None, "members": []}
    if not form.is_valid():
        return render_invalid(request, "users/bulk_confirm.html", context)
    ids = form.cleaned_data["member"]
    members = list(
        visible_members(request)
        .filter(pk__in=ids)
        .select_related("user")
        .prefetch_related(_memberships_here(space))
        .order_by(*ORDERINGS["name"])
    )
    if len(members) != len(ids):
        # Missing and out of reach answer alike (users.access.members_visible).
        raise Http404("Some of the selected people are not among those you manage.")
    plan = _bulk_plan(request, form, members, options, roles)
    context.update(plan=plan, members=members)
    if plan.error or not plan.affected:
        return render_invalid(request, "users/bulk_confirm.html", context)
    if request.POST.get("confirm") == "yes":
        try:
            text = _bulk_run(request, form, plan, options)
        except ValidationError as exc:
            plan.error = " ".join(exc.messages)
            return render_invalid(request, "users/bulk_confirm.html", context)
        messages.success(request, text)
        return redirect(context["next"])
    return TemplateResponse(request, "users/bulk_confirm.html", context)


# ---- A group's members -------------------------------------------------------------------------
# The one page where a group's people are listed, added, re-roled and taken out (the group
# itself — name, organisation, deletion — is the Organisations area's, orgs/views.py).


def get_group_for(request: HttpRequest, group_id: int | str) -> Group:
    """A group whose members the user manages; anything else is the same 404."""
    return group_for(request.access, group_id, need=Perm.MANAGE_GROUPS)


def _assignable_roles(request: HttpRequest, place: Place) -> list[tuple[str, str]]:
    return [
        (str(r.pk), r.name)
        for r in Role.objects.for_space(request.space)
        if can_assign_role(request.access, r, place)
    ]


@space_view(Perm.MANAGE_GROUPS)
@require_http_methods(["GET", "POST"])
def group_members(request: HttpRequest, group_id: int) -> HttpResponse:
    """A group and its members; its administrators add people, change roles, take people out.

    Several actions on one page, told apart by the submit button's ``action``.
    """
    group = get_group_for(request, group_id)
    access = request.access
    place = Place(group=group)
    role_choices = _assignable_roles(request, place)
    user_role = next((pk for pk, name in role_choices if name == USER_ROLE), None)
    add_form = GroupMemberAddForm(
        request.POST if request.POST.get("action") == "add" else None,
        role_choices=role_choices,
        initial={"role": user_role},
    )
    status = 200
    action = request.POST.get("action")
    if request.method == "POST":
        status = _group_member_action(request, group, place, action, add_form, role_choices)
        if status == 302:
            if request.htmx:
                status = 200
            else:
                return redirect("users:group_members", request.space.slug, group.pk)
            add_form = GroupMemberAddForm(role_choices=role_choices, initial={"role": user_role})
    members = group.memberships.select_related("user", "role").order_by(
        "user__last_name", "user__first_name", "user__username"
    )
    page = paginate(request, members, 50)
    rows = [
        {
            "membership": m,
            "role_form": RoleChoiceForm(
                role_choices=role_choices, initial={"role": str(m.role_id)}, prefix=f"m{m.pk}"
            ),
            "can_change": can_assign_role(access, m.role, place),
        }
        for m in page
    ]
    context = {
        "group": group,
        "page": page,
        "rows": rows,
        "add_form": add_form,
        "can_edit_group": access.can(Perm.MANAGE_GROUPS, organisation=group.organisation),
    }
    template = "users/group_members.html#members" if request.htmx else "users/group_members.html"
    return TemplateResponse(request, template, context, status=status)


def _group_member_action(request, group, place, action, add_form, role_choices) -> int:
    """Do one member action; 302 on success (a message is queued), 422 (errors shown) if not."""
    access = request.access
    space = request.space
    if action == "add":
        if not add_form.is_valid():
            return INVALID_FORM_STATUS
        person = add_form.cleaned_data["person"]
        member = (
            Member.objects.filter(space=space)
            .filter(Q(user__email__iexact=person) | Q(user__username__iexact=person))
            .select_related("user")
            .first()
        )
        if member is None:
            add_form.add_error(
                "person",
                "Nobody in this space has that email or username. To bring in someone new, "
                "use Users → Create user.",
            )
            return INVALID_FORM_STATUS
        role = role_for(access, add_form.cleaned_data["role"], need=Perm.MANAGE_GROUPS)
        try:
            memberships.membership_add(
                access=access, space=space, user=member.user, place=place, role=role
            )
        except ValidationError as exc:
            add_form.add_error("person", exc)
            return INVALID_FORM_STATUS
        messages.success(request, f"{member.user.display_name} was added to “{group.name}”.")
        return 302
    membership = (
        group.memberships.select_related("user", "role")
        .filter(pk=request.POST.get("membership") or 0)
        .first()
    )
    if membership is None:
        messages.error(request, "That person is no longer in this group.")
        return INVALID_FORM_STATUS
    if not can_assign_role(access, membership.role, place):
        raise PermissionDenied(
            f"{membership.user.display_name} holds “{membership.role.name}” here, a role with "
            "more rights than yours; only someone holding them may change it."
        )
    try:
        if action == "set_role":
            form = RoleChoiceForm(
                request.POST, role_choices=role_choices, prefix=f"m{membership.pk}"
            )
            if not form.is_valid():
                messages.error(request, "Choose a role you may give.")
                return INVALID_FORM_STATUS
            role = role_for(access, form.cleaned_data["role"], need=Perm.MANAGE_GROUPS)
            memberships.membership_set_role(access=access, membership=membership, role=role)
            messages.success(
                request, f"{membership.user.display_name} is now {role.name} in “{group.name}”."
            )
        elif action == "remove":
            memberships.group_members_remove(
                access=access, group=group, user_ids=[membership.user_id]
            )
            messages.success(
                request, f"{membership.user.display_name} was taken out of “{group.name}”."
            )
        else:
            messages.error(request, "Unknown action.")
            return 400
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return INVALID_FORM_STATUS
    return 302


# ---- Roles (System settings) -----------------------------------------------------------------


def get_role_for(request: HttpRequest, role_id: int | str) -> Role:
    return role_for(request.access, role_id, need=Perm.MANAGE_ROLES)


@space_view()
@require_GET
def roles(request: HttpRequest) -> HttpResponse:
    """The space's roles and what each may do. Administrators who hand out roles ("manage
    users") read it; those with "manage roles" also keep the custom ones."""
    from badgeplatform.permissions import PERMISSION_LABELS

    access = request.access
    if not (access.can(Perm.MANAGE_ROLES) or access.can_anywhere(Perm.MANAGE_USERS)):
        raise PermissionDenied(
            "You need the permission “Manage custom admin roles” or “Manage users” to see roles."
        )
    role_rows = [
        {
            "role": role,
            # In catalogue order; a code no longer in the catalogue is ignored.
            "permissions": [PERMISSION_LABELS[p] for p in Perm if p in role.permission_set],
        }
        for role in Role.objects.for_space(request.space).annotate(held=Count("memberships"))
    ]
    return TemplateResponse(
        request,
        "users/roles.html",
        {"roles": role_rows, "can_manage_roles": access.can(Perm.MANAGE_ROLES)},
    )


def _role_form_response(request, form, role=None):
    return render_form(request, "users/role_form.html", {"form": form, "role": role}, form)


@space_view(Perm.MANAGE_ROLES)
@require_http_methods(["GET", "POST"])
def role_create(request: HttpRequest) -> HttpResponse:
    access = request.access
    form = RoleForm(request.POST or None, grantable=grantable_permissions(access))
    if request.method == "POST" and form.is_valid():
        try:
            role = services.role_create(
                access=access, space=request.space, **form.cleaned_data, actor=request.user
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"The role “{role.name}” was created.")
            return redirect("users:roles", request.space.slug)
    return _role_form_response(request, form)


@space_view(Perm.MANAGE_ROLES)
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, role_id: int) -> HttpResponse:
    role = get_role_for(request, role_id)
    access = request.access
    # Default roles, roles with rights the actor lacks: read-only (the service refuses too).
    refusal = role_change_refusal(access, permissions=role.permission_set, role=role)
    if refusal:
        raise PermissionDenied(refusal)
    form = RoleForm(
        request.POST or None,
        grantable=grantable_permissions(access),
        held=role if holds_role(access, role) else None,
        initial={
            "name": role.name,
            "description": role.description,
            "permissions": role.permissions,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            role = services.role_update(
                access=access, role=role, **form.cleaned_data, actor=request.user
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"The role “{role.name}” was saved.")
            return redirect("users:roles", request.space.slug)
    return _role_form_response(request, form, role)


@space_view(Perm.MANAGE_ROLES)
@require_http_methods(["GET", "POST"])
def role_delete(request: HttpRequest, role_id: int) -> HttpResponse:
    """Delete a custom role; refused while anyone holds it."""
    role = get_role_for(request, role_id)
    if role.is_default:
        raise PermissionDenied("Default roles cannot be deleted.")
    refusal = role_change_refusal(request.access, permissions=role.permission_set, role=role)
    if refusal:
        raise PermissionDenied(refusal)
    held = role.memberships.count()
    status = 200
    if request.method == "POST":
        try:
            services.role_delete(access=request.access, role=role, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = INVALID_FORM_STATUS
        else:
            messages.success(request, f"The role “{role.name}” was deleted.")
            return redirect("users:roles", request.space.slug)
    return TemplateResponse(
        request, "users/role_delete.html", {"role": role, "held": held}, status=status
    )


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# ---- Personal settings -----------------------------------------------------------------------


def _profile_initial(user: User) -> dict:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "expiry_reminders": user.expiry_reminders,
    }


@user_view
@require_http_methods(["GET", "POST"])
def personal_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own name, username and profile picture."""
    user = request.user
    form = ProfileForm(
        request.POST or None, request.FILES or None, user=user, initial=_profile_initial(user)
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        avatar = None
        if d.get("avatar"):
            try:
                avatar = process_avatar(d["avatar"])
            except ValidationError as exc:
                form.add_error("avatar", exc)
        if not form.errors:
            try:
                services.profile_update(
                    user=user,
                    first_name=d["first_name"],
                    last_name=d["last_name"],
                    username=d["username"],
                    avatar=avatar,
                    remove_avatar=d.get("remove_avatar", False),
                    expiry_reminders=d.get("expiry_reminders", False),
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            except IntegrityError:
                form.add_error("username", "That username was just taken. Please choose another.")
            else:
                messages.success(request, "Your settings were saved.")
                return redirect("accounts:settings")
    return render_form(request, SETTINGS_TEMPLATE, _settings_context(request, form), form)


SETTINGS_TEMPLATE = "users/personal_settings.html"


def _settings_context(request: HttpRequest, form: ProfileForm, **extra) -> dict:
    user = request.user
    return {
        "form": form,
        # Secondary email addresses (users.secondary_emails).
        "addresses": secondary_emails.addresses_of(user),
        "max_addresses": secondary_emails.MAX_ADDRESSES,
        # Sections other apps add (the Open Badges 3.0 API's connected apps).
        "panels": settings_panels.render(request),
        **mfa.settings_context(user),
        # Sent here by a space's second-factor policy: once a factor is set up, back there.
        "mfa_continue": mfa.pop_enrol_next(request) if request.method == "GET" else "",
        **extra,
    }


@user_view
@require_POST
def email_addresses(request: HttpRequest) -> HttpResponse:
    """Add (``email``) or remove (``remove`` = the address's id) a secondary address."""
    user = request.user
    if request.POST.get("remove"):
        try:
            address_id = int(request.POST["remove"])
        except ValueError:
            address_id = 0
        if secondary_emails.address_remove(user=user, address_id=address_id):
            messages.success(request, "The address was removed from your account.")
        else:
            messages.error(request, "That address is not on your account.")
        return redirect(reverse("accounts:settings") + "#emails")
    typed = request.POST.get("email", "")
    try:
        address = secondary_emails.address_add(user=user, email=typed)
    except secondary_emails.AddressRefused as exc:
        # The settings page again, the problem beside the field and what was typed kept in it.
        form = ProfileForm(user=user, initial=_profile_initial(user))
        extra = {"email_error": str(exc), "email_value": typed.strip()[:254]}
        return render_invalid(request, SETTINGS_TEMPLATE, _settings_context(request, form, **extra))
    else:
        # The same words whoever holds the address: nothing about other accounts leaks.
        messages.success(
            request,
            f"We sent a confirmation link to {address.email}. Open it to add the address.",
        )
    return redirect(reverse("accounts:settings") + "#emails")


@user_view
@require_GET
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """The link emailed to a secondary address: confirms it for the signed-in person."""
    try:
        address = secondary_emails.address_verify(user=request.user, token=token)
    except secondary_emails.AddressRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"{address.email} is confirmed: badges awarded to it now land in your backpack.",
        )
    return redirect(reverse("accounts:settings") + "#emails")


# Profile pictures are shown small: 2 MB in, at most 4 Mpx, stored at 512 px at most.
AVATAR_POLICY = ImagePolicy(
    max_bytes=2 * MB, max_pixels=4_000_000, max_side=4096, max_frames=50, output_max_side=512
)


def process_avatar(upload) -> ContentFile:
    """A profile picture: verified, re-encoded as PNG without metadata, under a random name.
    Raises ImageRejected (a ValidationError with a message) for anything else."""
    return process_image(upload, policy=AVATAR_POLICY)


# ---- System settings → Security --------------------------------------------------------------


@space_view(Perm.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def security_settings(request: HttpRequest) -> HttpResponse:
    """The space's sign-in policy: a second factor for administrative roles (docs/mfa.md)."""
    space = request.space
    request.access.require(Perm.MANAGE_SETTINGS)
    form = MFAPolicyForm(
        request.POST if request.method == "POST" else None,  # unticked sends nothing
        initial={"mfa_required_for_admins": space.mfa_required_for_admins},
    )
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["mfa_required_for_admins"]
        try:
            changed = mfa.mfa_policy_set(access=request.access, space=space, required=required)
        except mfa.PolicyRefused as exc:
            form.add_error("mfa_required_for_admins", exc)
        else:
            if changed:
                messages.success(
                    request,
                    "Administrators now need a second factor."
                    if required
                    else "Administrators no longer need a second factor.",
                )
            return redirect("users:security", space_slug=space.slug)
    context = {
        "form": form,
        "admin_permissions": [PERMISSION_LABELS[p] for p in Perm if p in ADMINISTRATIVE],
        "without_factor": mfa.admins_without_factor(space),  # (count, the first 20)
    }
    return render_form(request, "users/security.html", context, form)
