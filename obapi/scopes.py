"""The Open Badges 3.0 API's scopes (the specification's URIs) and what each means, in plain
words for the consent page and the recipient's list of connected apps."""

from __future__ import annotations

PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READ = PREFIX + "credential.readonly"
CREDENTIAL_UPSERT = PREFIX + "credential.upsert"
PROFILE_READ = PREFIX + "profile.readonly"
PROFILE_UPDATE = PREFIX + "profile.update"
# Not an Open Badges scope: the spec's examples ask for it (OpenID Connect's name for "keep
# access while I am away"). Accepted and shown; refresh tokens are issued either way.
OFFLINE_ACCESS = "offline_access"

SPEC_SCOPES = (CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ, PROFILE_UPDATE)
KNOWN = (*SPEC_SCOPES, OFFLINE_ACCESS)

PLAIN_WORDS = {
    CREDENTIAL_READ: "See every Open Badges 3.0 badge in your backpack, from every space",
    CREDENTIAL_UPSERT: "Add badges from elsewhere to your backpack (each is checked first)",
    PROFILE_READ: "See your name and email address",
    PROFILE_UPDATE: "Change the name on your profile",
    OFFLINE_ACCESS: "Keep this access while you are away, until you disconnect it",
}

# The OpenAPI document's own descriptions (the discovery document lists them as the spec does).
SPEC_DESCRIPTIONS = {
    CREDENTIAL_READ: "Permission to read AchievementCredentials for the authenticated entity.",
    CREDENTIAL_UPSERT: "Permission to create or update AchievementCredentials for the "
    "authenticated entity.",
    PROFILE_READ: "Permission to read the profile for the authenticated entity.",
    PROFILE_UPDATE: "Permission to update the profile for the authenticated entity.",
}


def described(scopes: list[str]) -> list[tuple[str, str]]:
    """(scope, plain words) for each scope, in the order of KNOWN."""
    return [(s, PLAIN_WORDS[s]) for s in KNOWN if s in scopes]
