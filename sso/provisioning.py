"""Who a single sign-on is: the linked account, an existing account linked, or a new one.

The rules (docs/sso.md):
- a provider's account (its uid) already linked → that person;
- else an account with the same email is linked only when the address is verified on both
  sides — by us (``User.email_verified_at``) and by the provider (``mapping.Identity``);
  otherwise the sign-in is refused with a message that says what to do (never a duplicate:
  emails are unique);
- else, with just-in-time accounts on, a new account (verified if the provider said so);
- the person then holds a place in the provider's space: members keep theirs, newcomers land
  in the chosen organisation with the chosen role (the User role if those were removed);
- the external id the provider sends becomes the member's (the Events API matches on it),
  unless another member of the space already has it.
Every link, account and membership made here is in the space's audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.permissions import USER_ROLE
from users import memberships, services
from users.models import Member, Role, User
from users.places import Place

if TYPE_CHECKING:
    from sso.mapping import Identity
    from sso.models import IdentityProvider


class Refused(Exception):
    """This sign-in cannot go on; the message is for the person signing in."""


def _person(user: User) -> str:
    return f"{user.display_name} <{user.email}>"


def _audit(idp: IdentityProvider, action: str, user: User, **changes) -> None:
    audit_log(
        space=idp.space,
        actor=None,
        action=action,
        obj=user,
        label=_person(user),
        changes={"identity_provider": idp.name, **changes},
    )


def landing(idp: IdentityProvider) -> tuple[Place, Role]:
    """Where newcomers land: the chosen organisation and role, else the root as User."""
    space = idp.space
    organisation = idp.jit_organisation
    if organisation is None or organisation.space_id != space.pk:
        organisation = space.root_organisation
    role = idp.jit_role
    if role is None or role.space_id != space.pk:
        role = Role.objects.get(space=space, name=USER_ROLE, is_default=True)
    return Place(organisation=organisation), role


def existing_account(idp: IdentityProvider, identity: Identity) -> User | None:
    """The account this sign-in may be linked to by email, or Refused; None when there is none."""
    if not identity.email:
        raise Refused(
            f"{idp.name} did not send an email address, so no account can be found or made. "
            "Ask your administrator to release the email attribute to this service."
        )
    user = User.objects.get_by_email(identity.email)
    if user is None:
        return None
    if not identity.email_verified:
        raise Refused(
            f"An account with the address {identity.email} exists, but {idp.name} does not "
            "vouch that this address is verified, so it cannot be linked. Sign in with your "
            "password instead, or ask your administrator to have the provider verify addresses."
        )
    if not user.is_verified:
        raise Refused(
            f"An account with the address {identity.email} exists, but the address was never "
            "verified here, so it cannot be linked safely. Use the link in your verification "
            "email (or reset your password) first, then sign in through "
            f"{idp.name} again."
        )
    if not user.is_active:
        raise Refused("This account is disabled. Ask a space administrator.")
    return user


@transaction.atomic
def account_create(idp: IdentityProvider, identity: Identity) -> User:
    """A just-in-time account (no password: it signs in through the provider)."""
    if not idp.jit_enabled:
        raise Refused(
            f"There is no account for {identity.email} in {idp.space.name}, and new accounts "
            "are not created on sign-in. Ask a space administrator to add you."
        )
    user = User(
        email=services.normalise_email(identity.email),
        username=services.suggest_username(identity.email),
        first_name=identity.first_name,
        last_name=identity.last_name,
        email_verified_at=timezone.now() if identity.email_verified else None,
    )
    user.set_unusable_password()
    user.save()
    _audit(idp, "sso.account_create", user, email_verified=identity.email_verified)
    return user


@transaction.atomic
def member_ensure(idp: IdentityProvider, user: User, identity: Identity) -> Member:
    """``user`` holds a place in the provider's space, with the asserted external id."""
    space = idp.space
    system = Access.system(space)
    external_id = identity.external_id
    if external_id and (
        Member.objects.filter(space=space, external_id=external_id).exclude(user=user).exists()
    ):
        raise Refused(
            f"Another member of {space.name} already has the id {external_id}. "
            "Ask a space administrator to correct it."
        )
    member = Member.objects.filter(space=space, user=user).first()
    if member is None:
        if not idp.jit_enabled:
            raise Refused(
                f"You are not a member of {space.name}, and new members are not added on "
                "sign-in. Ask a space administrator to add you."
            )
        place, role = landing(idp)
        member = memberships.member_join_space(
            access=system, space=space, user=user, places=[(place, role)], external_id=external_id
        )
        _audit(idp, "sso.member_join", user, place=str(place), role=role.name)
    elif external_id and member.external_id != external_id:
        memberships.member_update(access=system, member=member, external_id=external_id)
    return member


@transaction.atomic
def link_recorded(idp: IdentityProvider, user: User, identity: Identity) -> None:
    _audit(idp, "sso.link", user, uid=identity.uid, email=identity.email)
