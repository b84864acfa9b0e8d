"""Verify any Open Badge — ours or anyone's, OB 2.0 or OB 3.0 — and say why in plain words.

``verify_credential(data, email=…)`` takes what a person pasted or uploaded (JSON, a compact
JWS, a URL of a hosted OB 2.0 assertion, a baked PNG or SVG) and returns a ``Verdict``: one
``Check`` per question a verifier asks, each pass / fail / warn with a sentence a non-specialist
can read. The public page at /verify/ shows it; importing credentials (issue 19) will use it too.

OB 3.0 checks, in the order 1EdTech's validator runs them where it has one:
* format — the official OB 3.0 JSON Schema (settings.OB3_SCHEMA_FILE);
* signature — an eddsa-rdfc-2022 DataIntegrityProof (``signing.py``), or an EdDSA compact JWS;
* key holder — the key's controller must be the credential's ``issuer.id`` (1EdTech's rule,
  "Key controller does not match issuer"); a ``did:key`` has no controller, so it only warns;
* status — W3C Bitstring Status List (revocation / suspension bit) and the legacy
  1EdTechRevocationList, plus, for our own awards, the platform's suspension;
* dates — validFrom / validUntil (and VC 1.1 issuanceDate / expirationDate);
* recipient — optional: the email a visitor typed against a hashed identity.
OB 2.0: hosted verification (the assertion re-read from its id), revocation, expiry, recipient.

Keys are found the ways 1EdTech's validator finds them: ``<controller>#<publicKeyMultibase>``
and ``did:key`` offline, ``did:web`` and https key documents fetched (``fetching.py``: our own
URLs locally, others over https to public addresses only).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings

from badges.openbadges import baking, signing, status
from badges.openbadges.fetching import Fetched, FetchError, fetch, is_ours
from badges.openbadges.jsonld import CONTEXT_URLS, JsonLdProcessingError, canonicalize

logger = logging.getLogger(__name__)

PASS, FAIL, WARN = "pass", "fail", "warn"

OB3_SVG_NS = "https://purl.imsglobal.org/ob/v3p0"
OB2_SVG_NS = "http://openbadges.org"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB2_CONTEXTS = {"https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json"}
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

Fetcher = Callable[[str], Fetched]


class UnreadableInput(ValueError):
    """Nothing we could verify was found in the input; the message says what was wrong."""


@dataclass(frozen=True)
class Check:
    key: str  # format | signature | key_holder | status | dates | hosted | recipient
    title: str  # what the row asks, in plain words
    status: str  # pass | fail | warn
    message: str  # the answer, in plain words
    detail: str = ""  # the technical fact behind it, for those who want it


@dataclass
class Verdict:
    kind: str  # "Open Badges 3.0" | "Open Badges 2.0"
    checks: list[Check] = field(default_factory=list)
    name: str = ""
    issuer_name: str = ""
    issuer_id: str = ""
    issued: str = ""
    credential_id: str = ""
    source: str = ""  # where the credential was found: "pasted JSON", "a baked PNG image"…

    @property
    def status(self) -> str:
        """valid | warning | invalid: any failed check makes the credential invalid."""
        statuses = {check.status for check in self.checks}
        if FAIL in statuses:
            return "invalid"
        return "warning" if WARN in statuses else "valid"

    @property
    def headline(self) -> str:
        return {
            "valid": "This badge is valid",
            "warning": "This badge checks out, with caveats",
            "invalid": "This badge is not valid",
        }[self.status]

    @property
    def summary(self) -> str:
        failed = [c for c in self.checks if c.status == FAIL]
        if failed:
            return failed[0].message
        warned = [c for c in self.checks if c.status == WARN]
        if warned:
            return "Every check passed except the ones marked with a warning below."
        return "Every check passed: it is genuine, issued by who it says, and in force."

    def check(self, key: str) -> Check | None:
        return next((c for c in self.checks if c.key == key), None)


# ---- Reading the input ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    payload: dict | str  # a JSON object, a compact JWS, or a URL
    source: str


def _from_text(text: str, source: str) -> _Found:
    text = text.strip().lstrip("\ufeff")
    if not text:
        raise UnreadableInput("Nothing was pasted or uploaded.")
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise UnreadableInput(
                f"This is not valid JSON ({exc.msg}, line {exc.lineno})."
            ) from exc
        if not isinstance(document, dict):
            raise UnreadableInput("The JSON is not a credential (expected an object).")
        return _Found(document, source)
    if _JWS.match(text):
        return _Found(text, source.replace("JSON", "JWT") if "JSON" in source else source)
    if text.startswith("https://") or text.startswith("http://"):
        if any(ch.isspace() for ch in text):
            raise UnreadableInput("That looks like several addresses; paste one.")
        return _Found(text, source)
    if text.startswith("<"):
        return _from_svg(text.encode("utf-8"))
    raise UnreadableInput(
        "This is not an Open Badge: paste the credential's JSON, a JWT, the address of a hosted "
        "assertion, or upload a baked PNG or SVG image."
    )


def _from_png(data: bytes) -> _Found:
    try:
        text = baking.unbake(data, baking.OB3_KEYWORD)
        if text is None:
            text = baking.unbake(data, baking.OB2_KEYWORD)
    except (baking.NotAPng, ValueError, IndexError) as exc:
        raise UnreadableInput(f"This PNG image could not be read ({exc}).") from exc
    if text is None:
        raise UnreadableInput(
            "This PNG image carries no badge: it has no baked Open Badges data (an "
            "'openbadgecredential' or 'openbadges' text chunk)."
        )
    return _from_text(text, "a baked PNG image")


def _from_svg(data: bytes) -> _Found:
    try:
        root = ElementTree.fromstring(data, forbid_dtd=False, forbid_entities=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise UnreadableInput(
            "This SVG image could not be read (it is not well-formed XML)."
        ) from exc
    for element in root.iter():
        if element.tag == f"{{{OB3_SVG_NS}}}credential":
            return _from_text(element.text or "", "a baked SVG image")
        if element.tag == f"{{{OB2_SVG_NS}}}assertion":
            if (element.text or "").strip():
                return _from_text(element.text, "a baked SVG image")
            if element.get("verify"):
                return _from_text(element.get("verify"), "a baked SVG image")
    raise UnreadableInput(
        "This SVG image carries no badge: it has no <openbadges:credential> or "
        "<openbadges:assertion> element."
    )


def read_input(data: bytes | str) -> _Found:
    """What the input holds (raises UnreadableInput with a sentence for the visitor)."""
    if isinstance(data, str):
        return _from_text(data, "pasted text")
    if data.startswith(baking.PNG_SIGNATURE):
        return _from_png(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableInput(
            "This file is neither a PNG or SVG image nor text; it cannot hold a badge."
        ) from exc
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return _from_svg(stripped.encode("utf-8"))
    return _from_text(text, "the uploaded file")


# ---- Small helpers --------------------------------------------------------------------------


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%-d %B %Y")


def _load_json(fetched: Fetched, what: str) -> dict:
    if fetched.status == 410:
        raise FetchError(f"The {what} is gone (HTTP 410).")
    if fetched.status != 200:
        raise FetchError(f"The {what} could not be found (HTTP {fetched.status}).")
    try:
        document = json.loads(fetched.body)
    except ValueError as exc:
        raise FetchError(f"The {what} is not JSON.") from exc
    if not isinstance(document, dict):
        raise FetchError(f"The {what} is not a JSON object.")
    return document


def _issuer_id(credential: dict) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        return str(issuer.get("id") or "")
    return str(issuer or "")


def _credential_name(credential: dict) -> str:
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if isinstance(achievement, dict) and achievement.get("name"):
        return str(achievement["name"])
    return str(credential.get("name") or "")


def _issuer_name(credential: dict) -> str:
    issuer = credential.get("issuer")
    return str(issuer.get("name") or "") if isinstance(issuer, dict) else ""


# ---- The OB 3.0 schema ----------------------------------------------------------------------


@lru_cache(maxsize=2)
def _schema_validator(path: str):
    import jsonschema

    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _where(error) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f" (at {path})" if path else ""


def schema_check(credential: dict) -> Check:
    title = "Follows the Open Badges 3.0 format"
    if "EndorsementCredential" in _as_list(credential.get("type")):
        return Check(
            "format",
            title,
            WARN,
            "This is an endorsement (a statement about a badge or an issuer), not a badge: its "
            "format is not checked here.",
        )
    path = settings.OB3_SCHEMA_FILE
    if not path or not Path(path).is_file():
        return Check(
            "format",
            title,
            WARN,
            "Not checked: the official Open Badges 3.0 JSON Schema is not installed on this "
            "server.",
        )
    errors = sorted(_schema_validator(path).iter_errors(credential), key=lambda e: list(e.path))
    if not errors:
        return Check(
            "format",
            title,
            PASS,
            "It has every field the Open Badges 3.0 standard requires, in the right shape.",
            "Validated against 1EdTech's official AchievementCredential JSON Schema.",
        )
    shown = "; ".join(f"{e.message[:160]}{_where(e)}" for e in errors[:3])
    more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
    return Check(
        "format",
        title,
        FAIL,
        "It does not follow the Open Badges 3.0 format, so other software may read it wrongly.",
        f"JSON Schema: {shown}{more}.",
    )


# ---- Keys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    public: bytes
    controller: str | None  # None: the key names no controller (did:key, an embedded jwk)
    how: str  # how it was found, in words


class KeyNotFound(Exception):
    pass


def _multikey(text: str) -> bytes | None:
    try:
        return signing.decode_public_key_multibase(text)
    except (ValueError, TypeError):
        return None


def _find_method(document: dict, method: str) -> dict | None:
    for candidate in _as_list(document.get("verificationMethod")):
        if not isinstance(candidate, dict):
            continue
        ident = str(candidate.get("id") or "")
        if ident == method or (ident.startswith("#") and method.endswith(ident)):
            return candidate
    return None


def _did_web_url(did: str) -> str:
    parts = [unquote(p) for p in did[len("did:web:") :].split(":")]
    host, path = parts[0], parts[1:]
    if not host or any(not p or "/" in p for p in path) or "/" in host:
        raise KeyNotFound(f"{did} is not a valid did:web identifier.")
    suffix = "/".join(quote(p) for p in path) if path else ".well-known"
    return f"https://{host}/{suffix}/did.json"


def resolve_key(method: str, fetcher: Fetcher) -> _Key:
    """The public key a proof's verificationMethod names, and who controls it."""
    if not isinstance(method, str) or not method:
        raise KeyNotFound("The signature does not say which key made it.")
    base, _, fragment = method.partition("#")
    if fragment and (raw := _multikey(fragment)) and not method.startswith("did:"):
        # <controller>#<publicKeyMultibase>: the key is in the id itself (1EdTech's form).
        return _Key(raw, base, "written into the key's address")
    scheme = urlsplit(method).scheme
    if not scheme:
        raise KeyNotFound("The key's address is not a valid URI (it has no scheme).")
    if method.startswith("did:key:"):
        ident = base[len("did:key:") :]
        raw = _multikey(ident)
        if raw is None or (fragment and fragment != ident):
            raise KeyNotFound("The did:key is not an Ed25519 key.")
        return _Key(raw, None, "a did:key (the key is the identifier itself)")
    if method.startswith("did:web:"):
        url = _did_web_url(base)
        document = _load_json(fetcher(url), "DID document")
        if method not in [str(m) for m in _as_list(document.get("assertionMethod"))] and not any(
            isinstance(m, str) and m.startswith("#") and method.endswith(m)
            for m in _as_list(document.get("assertionMethod"))
        ):
            raise KeyNotFound(f"The DID document does not list {method} as an assertion method.")
        found = _find_method(document, method)
        if found is None or not (raw := _multikey(str(found.get("publicKeyMultibase", "")))):
            raise KeyNotFound(f"The DID document has no Ed25519 key {method}.")
        return _Key(raw, str(found.get("controller") or base), f"the DID document at {url}")
    if method.startswith("did:"):
        raise KeyNotFound(f"Keys of the DID method '{method.split(':')[1]}' cannot be looked up.")
    if scheme not in ("https", "http"):
        raise KeyNotFound(f"Keys at '{scheme}:' addresses cannot be looked up.")
    if scheme == "http" and not is_ours(method):
        raise KeyNotFound("Keys are only fetched over https.")
    document = _load_json(fetcher(base), "key document")
    if document.get("id") == method or (
        document.get("publicKeyMultibase") and document.get("controller") and not fragment
    ):
        raw = _multikey(str(document.get("publicKeyMultibase", "")))
        controller = document.get("controller")
    else:
        found = _find_method(document, method)
        if found is None:
            raise KeyNotFound(f"The document at {base} does not contain the key {method}.")
        raw = _multikey(str(found.get("publicKeyMultibase", "")))
        controller = found.get("controller")
    if raw is None:
        raise KeyNotFound("The key document does not hold an Ed25519 public key.")
    if document.get("revoked") or (isinstance(controller, str) and not controller):
        raise KeyNotFound("The key has been revoked by its owner.")
    return _Key(raw, str(controller) if controller else None, f"the key document at {base}")


# ---- OB 3.0 ---------------------------------------------------------------------------------

SIGNATURE = "Signature"
HOLDER = "Who holds the key"


def _select_proof(credential: dict) -> dict | None:
    for proof in _as_list(credential.get("proof")):
        if (
            isinstance(proof, dict)
            and proof.get("type") == signing.PROOF_TYPE
            and proof.get("cryptosuite") == signing.CRYPTOSUITE
            and proof.get("proofPurpose") == "assertionMethod"
        ):
            return proof
    return None


def _unknown_contexts(credential: dict) -> list[str]:
    return [
        c
        for c in _as_list(credential.get("@context"))
        if isinstance(c, str) and c not in CONTEXT_URLS
    ]


def _holder_check(key: _Key, issuer_id: str, method: str) -> Check:
    if key.controller is None:
        if issuer_id and method.split("#")[0] == issuer_id:
            return Check("key_holder", HOLDER, PASS, "The issuer's own identifier is the key.")
        return Check(
            "key_holder",
            HOLDER,
            WARN,
            "The key is a self-made identifier (did:key) that anyone can create: the signature "
            "is genuine, but nothing ties the key to the issuer named in the badge.",
            f"Key {method}; issuer {issuer_id or '(none)'}.",
        )
    if key.controller == issuer_id:
        return Check(
            "key_holder",
            HOLDER,
            PASS,
            "The key that signed it belongs to the issuer named in the badge.",
            f"The key's controller is the issuer's id, {issuer_id}.",
        )
    return Check(
        "key_holder",
        HOLDER,
        FAIL,
        "The key that signed it belongs to someone other than the issuer named in the badge, "
        "so it could have been issued in their name by someone else.",
        f"Key controller {key.controller} does not match issuer {issuer_id or '(none)'}.",
    )


def _proof_checks(credential: dict, fetcher: Fetcher) -> list[Check]:
    proofs = _as_list(credential.get("proof"))
    if not proofs:
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "It carries no signature, so anyone could have written it.",
            )
        ]
    proof = _select_proof(credential)
    if proof is None:
        kinds = ", ".join(
            sorted(
                {
                    f"{p.get('type')}/{p.get('cryptosuite', '-')}"
                    for p in proofs
                    if isinstance(p, dict)
                }
            )
        )
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "It is signed in a way this verifier cannot check (only the current Open Badges "
                "3.0 signature, eddsa-rdfc-2022, is checked).",
                f"Proofs found: {kinds or 'none readable'}.",
            )
        ]
    method = str(proof.get("verificationMethod") or "")
    try:
        key = resolve_key(method, fetcher)
    except (KeyNotFound, FetchError) as exc:
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "The key that would check the signature could not be found, so the signature "
                "cannot be confirmed.",
                str(exc),
            )
        ]
    unknown = _unknown_contexts(credential)
    holder = _holder_check(key, _issuer_id(credential), method)
    if unknown:
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "The signature cannot be checked: the credential uses a vocabulary this verifier "
                "does not have.",
                "Unknown JSON-LD context: " + ", ".join(unknown),
            ),
            holder,
        ]
    single = {**credential, "proof": [proof]}
    try:
        canonicalize({k: v for k, v in credential.items() if k != "proof"})
    except (JsonLdProcessingError, ValueError, TypeError, KeyError) as exc:
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "The signature cannot be checked: the credential's data is not well-formed "
                "linked data.",
                str(exc)[:300],
            ),
            holder,
        ]
    if signing.verify_credential(single, public_key=key.public):
        signed = _parse_time(proof.get("created"))
        return [
            Check(
                "signature",
                SIGNATURE,
                PASS,
                "The digital signature matches: nothing in it has changed since it was signed"
                + (f" on {_day(signed)}." if signed else "."),
                f"eddsa-rdfc-2022 Data Integrity proof; key found {key.how}.",
            ),
            holder,
        ]
    return [
        Check(
            "signature",
            SIGNATURE,
            FAIL,
            "The digital signature does not match: the credential was altered after it was "
            "signed, or signed with another key.",
            f"eddsa-rdfc-2022 proof by {method} did not verify.",
        ),
        holder,
    ]


# -- JWT (VC-JOSE compact JWS, and VC 1.1 JWTs with a "vc" claim) --


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jws_parts(token: str) -> tuple[dict, dict, bytes, bytes]:
    head, body, sig = token.split(".")
    try:
        header = json.loads(_b64url(head))
        payload = json.loads(_b64url(body))
        signature = _b64url(sig)
    except (ValueError, binascii.Error) as exc:
        raise UnreadableInput("This JWT could not be decoded.") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise UnreadableInput("This JWT could not be decoded.")
    return header, payload, signature, f"{head}.{body}".encode("ascii")


def _jwt_credential(payload: dict) -> dict:
    credential = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
    credential = dict(credential)
    # VC 1.1 JWT claims stand for the credential's own fields (VC-JWT 1.1 §6.3.1).
    if "iss" in payload and not credential.get("issuer"):
        credential["issuer"] = payload["iss"]
    for claim, name in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if isinstance(payload.get(claim), (int, float)) and name not in credential:
            credential[name] = datetime.fromtimestamp(payload[claim], UTC).isoformat()
    return credential


def _jws_checks(
    header: dict, credential: dict, signature: bytes, signed: bytes, fetcher: Fetcher
) -> list[Check]:
    alg = header.get("alg")
    if alg not in ("EdDSA", "Ed25519"):
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "It is signed with an algorithm this verifier cannot check (only Ed25519).",
                f"JWS alg {alg!r}.",
            )
        ]
    jwk = header.get("jwk")
    try:
        if isinstance(header.get("kid"), str) and header["kid"]:
            method = header["kid"]
            key = resolve_key(method, fetcher)
        elif isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            method = "the key embedded in the JWT header"
            key = _Key(_b64url(str(jwk.get("x", ""))), None, "embedded in the JWT header")
        else:
            raise KeyNotFound("The JWT does not say which key signed it (no kid, no jwk).")
        public = Ed25519PublicKey.from_public_bytes(key.public)
    except (KeyNotFound, FetchError, ValueError, binascii.Error) as exc:
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "The key that would check the signature could not be found, so the signature "
                "cannot be confirmed.",
                str(exc),
            )
        ]
    holder = _holder_check(key, _issuer_id(credential), method)
    try:
        public.verify(signature, signed)
    except InvalidSignature:
        return [
            Check(
                "signature",
                SIGNATURE,
                FAIL,
                "The digital signature does not match: the credential was altered after it was "
                "signed, or signed with another key.",
                "JWS (EdDSA) did not verify.",
            ),
            holder,
        ]
    return [
        Check(
            "signature",
            SIGNATURE,
            PASS,
            "The digital signature matches: nothing in it has changed since it was signed.",
            f"JWS compact serialization, EdDSA; key found {key.how}.",
        ),
        holder,
    ]


# -- Status --


STATUS = "Revoked or suspended?"


def _our_award(credential_id: str):
    """Our own award behind a credential or assertion id, or None."""
    if not is_ours(credential_id):
        return None
    from badges.models import Award  # noqa: PLC0415 - only for our own ids

    match = re.search(r"/public/(?:credentials|assertions)/([0-9a-f-]{36})$", credential_id)
    if not match:
        return None
    return Award.objects.filter(public_id=match.group(1)).first()


def _is_suspended(award) -> bool:
    # Suspension is a platform state the credential does not carry (issue 14): only our own
    # records know it.
    return award.is_suspended


def _bitstring_entry(entry: dict, fetcher: Fetcher) -> Check | None:
    purpose = str(entry.get("statusPurpose") or "revocation")
    url = str(entry.get("statusListCredential") or "")
    try:
        index = int(entry.get("statusListIndex"))
    except (TypeError, ValueError):
        return Check("status", STATUS, FAIL, "Its status entry is malformed (no list index).")
    try:
        document = _load_json(fetcher(url), "status list")
        subject = document.get("credentialSubject") or {}
        bits = status.decode_list(subject.get("encodedList"))
        is_set = status.bit_is_set(bits, index)
    except (FetchError, status.MalformedStatusList, IndexError, AttributeError) as exc:
        return Check(
            "status",
            STATUS,
            WARN,
            "Its issuer's status list could not be read, so a revocation would not show here.",
            f"{url}: {exc}",
        )
    if not is_set:
        return None
    if purpose == "suspension":
        return Check(
            "status",
            STATUS,
            FAIL,
            "The issuer has suspended this badge for now.",
            f"Bit {index} set in {url}.",
        )
    return Check(
        "status",
        STATUS,
        FAIL,
        "The issuer has revoked this badge: do not rely on it.",
        f"Bit {index} set in {url}.",
    )


def _revocation_list_entry(entry: dict, credential_id: str, fetcher: Fetcher) -> Check | None:
    url = str(entry.get("id") or "")
    try:
        document = _load_json(fetcher(url), "revocation list")
    except FetchError as exc:
        return Check(
            "status",
            STATUS,
            WARN,
            "Its issuer's revocation list could not be read, so a revocation would not show here.",
            f"{url}: {exc}",
        )
    for revoked in _as_list(document.get("revokedCredentials")):
        if isinstance(revoked, dict) and revoked.get("id") == credential_id:
            reason = revoked.get("revocationReason")
            return Check(
                "status",
                STATUS,
                FAIL,
                "The issuer has revoked this badge"
                + (f": {reason}" if reason else ": do not rely on it."),
                f"Listed in the 1EdTech revocation list {url}.",
            )
    return None


def status_check(credential: dict, fetcher: Fetcher) -> Check:
    credential_id = str(credential.get("id") or "")
    award = _our_award(credential_id)
    if award is not None:
        if award.is_revoked:
            reason = (award.revocation_reason or "the issuer gave no reason").rstrip(". ")
            return Check(
                "status",
                STATUS,
                FAIL,
                f"The issuer revoked this badge on {_day(award.revoked_at)}: {reason}.",
                "Issued on this platform: its own records say so.",
            )
        if award.is_declined:
            # The recipient declined it: its bit is set too; say no more than that it is gone.
            return Check(
                "status",
                STATUS,
                FAIL,
                "This badge is not available any more: do not rely on it.",
                "Issued on this platform: its own records say so.",
            )
        if _is_suspended(award):
            return Check(
                "status",
                STATUS,
                FAIL,
                "The issuer has suspended this badge for now.",
                "Issued on this platform.",
            )
    entries = [e for e in _as_list(credential.get("credentialStatus")) if isinstance(e, dict)]
    if not entries:
        if award is not None:
            return Check(
                "status", STATUS, PASS, "Neither revoked nor suspended.", "Issued on this platform."
            )
        return Check(
            "status",
            STATUS,
            PASS,
            "The issuer publishes no revocation list for it, so it cannot have been revoked.",
        )
    checked = []
    for entry in entries:
        kind = entry.get("type")
        if kind == "BitstringStatusListEntry":
            found = _bitstring_entry(entry, fetcher)
        elif kind == "1EdTechRevocationList":
            found = _revocation_list_entry(entry, credential_id, fetcher)
        else:
            found = Check(
                "status",
                STATUS,
                WARN,
                "Its status is published in a form this verifier cannot read.",
                f"credentialStatus type {kind!r}.",
            )
        if found is not None:
            return found
        checked.append(str(kind))
    return Check(
        "status",
        STATUS,
        PASS,
        "Neither revoked nor suspended: the issuer's list says it is in force.",
        "Checked: " + ", ".join(checked) + ".",
    )


# -- Dates --


def dates_check(start: Any, end: Any, now: datetime, *, started_label: str = "Valid from") -> Check:
    title = "Dates"
    begins, ends = _parse_time(start), _parse_time(end)
    if start is not None and begins is None:
        return Check("dates", title, FAIL, "Its start date is not a valid date.", f"{start!r}")
    if end is not None and ends is None:
        return Check("dates", title, FAIL, "Its expiry date is not a valid date.", f"{end!r}")
    if begins and begins > now:
        return Check("dates", title, FAIL, f"It is not valid yet: it starts on {_day(begins)}.")
    if ends and ends <= now:
        return Check("dates", title, FAIL, f"It expired on {_day(ends)}.")
    issued = f"Issued on {_day(begins)}; " if begins else ""
    tail = f"valid until {_day(ends)}." if ends else "it does not expire."
    return Check("dates", title, PASS, (issued + tail)[0].upper() + (issued + tail)[1:])


# -- Recipient --


def recipient_check(identities: list[dict], email: str) -> Check | None:
    """Compare a typed email with the badge's recipient (hashed or plain); None if no email."""
    email = (email or "").strip()
    if not email:
        return None
    title = "Awarded to this person?"
    for identity in identities:
        kind = identity.get("identityType") or identity.get("type")
        if kind not in ("emailAddress", "email"):
            continue
        value = str(identity.get("identityHash") or identity.get("identity") or "")
        salt = str(identity.get("salt") or "")
        if identity.get("hashed"):
            algorithm, _, digest = value.partition("$")
            candidates = {email, email.lower()}
            hashes = {
                "sha256": hashlib.sha256,
                "md5": hashlib.md5,  # OB 2.0 allows md5 hashes; compared, never produced
            }
            fn = hashes.get(algorithm.lower())
            if fn is None:
                continue
            if any(fn((c + salt).encode()).hexdigest() == digest.lower() for c in candidates):
                return Check("recipient", title, PASS, f"It was awarded to {email}.")
        elif value.lower() == email.lower():
            return Check("recipient", title, PASS, f"It was awarded to {email}.")
    return Check(
        "recipient",
        title,
        FAIL,
        f"It was not awarded to {email}.",
        "The address does not match the badge's recipient identity.",
    )


# ---- Putting it together --------------------------------------------------------------------


def _ob3(
    credential: dict, *, fetcher: Fetcher, now: datetime, email: str, source: str, jws=None
) -> Verdict:
    verdict = Verdict(
        kind="Open Badges 3.0",
        name=_credential_name(credential),
        issuer_name=_issuer_name(credential),
        issuer_id=_issuer_id(credential),
        credential_id=str(credential.get("id") or ""),
        source=source,
    )
    if jws is None:
        verdict.checks.extend(_proof_checks(credential, fetcher))
    else:
        verdict.checks.extend(_jws_checks(*jws, fetcher=fetcher))
    verdict.checks.append(status_check(credential, fetcher))
    start = credential.get("validFrom", credential.get("issuanceDate"))
    end = credential.get("validUntil", credential.get("expirationDate"))
    verdict.checks.append(dates_check(start, end, now))
    begins = _parse_time(start)
    verdict.issued = _day(begins) if begins else ""
    if VC_V1 in _as_list(credential.get("@context")):
        verdict.checks.append(
            Check(
                "format",
                "Follows the Open Badges 3.0 format",
                WARN,
                "It uses an early draft of Open Badges 3.0 (Verifiable Credentials 1.1) that the "
                "final standard replaced; some software will not accept it.",
                "@context starts with https://www.w3.org/2018/credentials/v1.",
            )
        )
    else:
        verdict.checks.append(schema_check(credential))
    subject = credential.get("credentialSubject")
    identities = _as_list(subject.get("identifier")) if isinstance(subject, dict) else []
    found = recipient_check([i for i in identities if isinstance(i, dict)], email)
    if found:
        verdict.checks.append(found)
    return verdict


def _ob2(assertion: dict, *, fetcher: Fetcher, now: datetime, email: str, source: str) -> Verdict:
    verdict = Verdict(
        kind="Open Badges 2.0", source=source, credential_id=str(assertion.get("id") or "")
    )
    hosted_title = "Confirmed by the issuer's site"
    assertion_id = verdict.credential_id
    verification = assertion.get("verification") or {}
    kind = verification.get("type") if isinstance(verification, dict) else None
    hosted = assertion
    if kind and str(kind).lower() in ("signedbadge", "signed"):
        verdict.checks.append(
            Check(
                "hosted",
                hosted_title,
                FAIL,
                "It uses Open Badges 2.0 signed verification, which this verifier cannot check.",
            )
        )
    elif not assertion_id.startswith(("https://", "http://")):
        verdict.checks.append(
            Check(
                "hosted",
                hosted_title,
                FAIL,
                "It has no web address to confirm it at (its id is not a URL).",
            )
        )
    else:
        try:
            fetched = fetcher(assertion_id)
            if fetched.status == 410:
                hosted = json.loads(fetched.body or b"{}") or {"revoked": True}
                hosted.setdefault("revoked", True)
            else:
                hosted = _load_json(fetched, "hosted assertion")
        except (FetchError, ValueError) as exc:
            verdict.checks.append(
                Check(
                    "hosted",
                    hosted_title,
                    FAIL,
                    "The issuer's site does not confirm it: the badge could not be fetched "
                    "from its own address.",
                    f"{assertion_id}: {exc}",
                )
            )
            hosted = None
        if hosted is not None:
            if hosted.get("id") not in (assertion_id, None) and not hosted.get("revoked"):
                verdict.checks.append(
                    Check(
                        "hosted",
                        hosted_title,
                        FAIL,
                        "The issuer's site holds a different badge at that address.",
                        f"{assertion_id} answered id {hosted.get('id')!r}.",
                    )
                )
            elif not hosted.get("revoked") and _core(hosted) != _core(assertion):
                verdict.checks.append(
                    Check(
                        "hosted",
                        hosted_title,
                        FAIL,
                        "The copy you gave differs from the one on the issuer's site: it was "
                        "altered.",
                        f"Compared with {assertion_id}.",
                    )
                )
            else:
                verdict.checks.append(
                    Check(
                        "hosted",
                        hosted_title,
                        PASS,
                        "The issuer's site has this badge at its own address (hosted "
                        "verification).",
                        assertion_id,
                    )
                )
    document = hosted or assertion
    award = _our_award(assertion_id)
    if award is not None and _is_suspended(award):
        # Our hosted copy answers a suspension as revoked (410); say what it really is.
        verdict.checks.append(
            Check("status", STATUS, FAIL, "The issuer has suspended this badge for now.")
        )
    elif document.get("revoked"):
        reason = str(document.get("revocationReason") or "").rstrip(". ")
        verdict.checks.append(
            Check(
                "status",
                STATUS,
                FAIL,
                "The issuer has revoked this badge"
                + (f": {reason}." if reason else ": do not rely on it."),
            )
        )
    else:
        verdict.checks.append(
            Check("status", STATUS, PASS, "Not revoked: the issuer's site shows it in force.")
        )
    verdict.checks.append(dates_check(document.get("issuedOn"), document.get("expires"), now))
    issued = _parse_time(document.get("issuedOn"))
    verdict.issued = _day(issued) if issued else ""
    badge = document.get("badge")
    if isinstance(badge, str):
        try:
            badge = _load_json(fetcher(badge), "badge class")
        except FetchError:
            badge = None
    if isinstance(badge, dict):
        verdict.name = str(badge.get("name") or "")
        issuer = badge.get("issuer")
        if isinstance(issuer, str):
            verdict.issuer_id = issuer
            try:
                issuer = _load_json(fetcher(issuer), "issuer profile")
            except FetchError:
                issuer = None
        if isinstance(issuer, dict):
            verdict.issuer_name = str(issuer.get("name") or "")
            verdict.issuer_id = str(issuer.get("id") or verdict.issuer_id)
    recipient = document.get("recipient")
    found = recipient_check([recipient] if isinstance(recipient, dict) else [], email)
    if found:
        verdict.checks.append(found)
    return verdict


def _core(assertion: dict) -> tuple:
    """What must not differ between a given OB 2.0 assertion and its hosted copy."""
    return tuple(
        json.dumps(assertion.get(k), sort_keys=True)
        for k in ("id", "recipient", "badge", "issuedOn", "expires", "evidence")
    )


def _is_ob2(document: dict) -> bool:
    contexts = set(str(c) for c in _as_list(document.get("@context")) if isinstance(c, str))
    types = set(str(t) for t in _as_list(document.get("type")))
    return bool(contexts & OB2_CONTEXTS) or "Assertion" in types


def verify_credential(
    data: bytes | str | dict,
    *,
    email: str = "",
    fetcher: Fetcher | None = None,
    now: datetime | None = None,
) -> Verdict:
    """Verify whatever ``data`` holds (see the module docstring). Raises ``UnreadableInput``
    when it holds no credential; every other problem is a failed or warned check."""
    fetcher = fetcher or fetch
    now = now or datetime.now(UTC)
    found = _Found(data, "the credential given") if isinstance(data, dict) else read_input(data)
    payload = found.payload
    if isinstance(payload, str) and _JWS.match(payload):
        header, claims, signature, signed = _jws_parts(payload)
        credential = _jwt_credential(claims)
        return _ob3(
            credential,
            fetcher=fetcher,
            now=now,
            email=email,
            source=found.source,
            jws=(header, credential, signature, signed),
        )
    if isinstance(payload, str):
        try:
            payload = _load_json(fetcher(payload), "hosted assertion")
        except FetchError as exc:
            raise UnreadableInput(f"The badge at that address could not be fetched: {exc}") from exc
        found = _Found(payload, "the address given")
    if _is_ob2(payload):
        return _ob2(payload, fetcher=fetcher, now=now, email=email, source=found.source)
    types = {str(t) for t in _as_list(payload.get("type"))}
    contexts = {str(c) for c in _as_list(payload.get("@context"))}
    if not (
        types & {"VerifiableCredential", "OpenBadgeCredential", "AchievementCredential"}
    ) and not (contexts & {VC_V2, VC_V1}):
        raise UnreadableInput(
            "This JSON is not an Open Badge: it is neither an Open Badges 3.0 credential nor an "
            "Open Badges 2.0 assertion."
        )
    return _ob3(payload, fetcher=fetcher, now=now, email=email, source=found.source)
