"""getProfile / putProfile: the recipient as an Open Badges 3.0 ``Profile``.

The profile carries the person's name and email address. A client may change the name
(``givenName``/``familyName``, or ``name`` split at its last space); the email address changes
only in Settings, where it is verified, so a different one is refused, as is another id.
Other Profile fields are accepted and not kept (we keep nothing else about a person).
"""

from __future__ import annotations

from users import services
from users.models import User

NAME_MAX = 150


class ProfileRefused(ValueError):
    pass


def profile_id(user: User) -> str:
    return f"urn:uuid:{user.public_id}"


def profile_of(user: User) -> dict:
    profile = {
        "id": profile_id(user),
        "type": ["Profile"],
        "name": user.display_name,
        "email": user.email,
    }
    if user.first_name:
        profile["givenName"] = user.first_name
    if user.last_name:
        profile["familyName"] = user.last_name
    return profile


def _name(value, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > NAME_MAX:
        raise ProfileRefused(f"{field} must be text of 1 to {NAME_MAX} characters.")
    return value.strip()


def profile_update(*, user: User, data) -> User:
    if not isinstance(data, dict):
        raise ProfileRefused("The body must be a JSON Profile object.")
    if data.get("id") not in (None, profile_id(user)):
        raise ProfileRefused(f"This profile's id is {profile_id(user)}; it cannot change.")
    email = data.get("email")
    if email is not None and (not isinstance(email, str) or email.lower() != user.email.lower()):
        raise ProfileRefused(
            "The email address changes only in the person's own Settings, where it is verified."
        )
    first, last = user.first_name, user.last_name
    if "givenName" in data or "familyName" in data:
        first = _name(data.get("givenName", first), "givenName")
        last = _name(data.get("familyName", last), "familyName")
    elif "name" in data:
        full = _name(data["name"], "name")
        first, _, last = full.rpartition(" ") if " " in full else (full, "", "")
    else:
        raise ProfileRefused("Send givenName and familyName (or name) to change.")
    return services.profile_update(
        user=user, first_name=first, last_name=last, username=user.username
    )
