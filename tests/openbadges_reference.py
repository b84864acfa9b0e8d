"""The independent Open Badges 3.0 verifier the tests judge the app with.

Deliberately independent of ``badges.openbadges``: plain pyld (no caches), a document loader
that serves only the conformance copies of the contexts (``shared/conformance`` beside the
repository, or ``$BADGE_CONFORMANCE_DIR``), ``cryptography`` Ed25519 and its own base58.
tests/badges/test_ob3_signing.py proves it on the spec's test vector and 1EdTech's validator
examples first; the award tests then use it on what the app publishes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld


def _conformance_dir() -> Path:
    """$BADGE_CONFORMANCE_DIR, else shared/conformance beside the checkout (or beside the
    folder of worktrees that holds it)."""
    if os.environ.get("BADGE_CONFORMANCE_DIR"):
        return Path(os.environ["BADGE_CONFORMANCE_DIR"])
    repo = Path(__file__).resolve().parents[1]
    for base in (repo.parent, repo.parent.parent):
        if (base / "shared" / "conformance" / "ob3").is_dir():
            return base / "shared" / "conformance"
    return repo.parent / "shared" / "conformance"


CONFORMANCE = _conformance_dir()
HAVE_CONFORMANCE = (CONFORMANCE / "ob3").is_dir()
SKIP_REASON = f"Open Badges conformance data not found at {CONFORMANCE} (set BADGE_CONFORMANCE_DIR)"
# A clone without ../shared skips these tests with that reason; CI, which always has it, sets
# REQUIRE_CONFORMANCE=1 so a missing copy fails the run instead of skipping silently.
if os.environ.get("REQUIRE_CONFORMANCE") == "1" and not HAVE_CONFORMANCE:
    raise RuntimeError(SKIP_REASON + " and REQUIRE_CONFORMANCE=1")
EXAMPLES = CONFORMANCE / "ob3" / "examples"
SCHEMAS = CONFORMANCE / "ob3" / "schemas"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"

# The README's URL -> file map (plus the URL that w3id.org/openbadges/v2 redirects to).
REFERENCE_CONTEXTS = {
    VC_V2: CONFORMANCE / "ob3" / "contexts" / "credentials-v2.jsonld",
    OB_V3: CONFORMANCE / "ob3" / "contexts" / "ob-v3p0-context-3.0.3.json",
    OB_EXTENSIONS: CONFORMANCE / "ob3" / "contexts" / "ob-v3p0-extensions.json",
    "https://w3id.org/openbadges/v2": CONFORMANCE / "ob2" / "openbadges-v2-context.json",
    "https://openbadgespec.org/v2/context.json": CONFORMANCE / "ob2" / "openbadges-v2-context.json",
}


# --- the independent reference implementation -------------------------------------------------

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def ref_b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def ref_b58decode(text: str) -> bytes:
    n = 0
    for char in text:
        n = n * 58 + B58.index(char)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def ref_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url not in REFERENCE_CONTEXTS:
        raise LookupError(f"reference loader: no local copy of {url}")
    # Parsed afresh and untagged, so pyld caches nothing between calls.
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(REFERENCE_CONTEXTS[url].read_text(encoding="utf-8")),
    }


def ref_canonicalize(doc: dict[str, Any]) -> str:
    return jsonld.normalize(
        doc,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": ref_loader},
    )


def ref_split(credential: dict[str, Any], proof: dict[str, Any]) -> tuple[dict, dict]:
    """(unsecured document, proof configuration) as in vc-di-eddsa 3.3.2."""
    document = {k: v for k, v in credential.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return document, config


def ref_hash_data(document: dict[str, Any], config: dict[str, Any]) -> bytes:
    return (
        hashlib.sha256(ref_canonicalize(config).encode()).digest()
        + hashlib.sha256(ref_canonicalize(document).encode()).digest()
    )


def ref_proofs(credential: dict[str, Any]) -> list[dict[str, Any]]:
    proof = credential["proof"]
    return proof if isinstance(proof, list) else [proof]


def ref_key_from_verification_method(verification_method: str) -> bytes:
    """The examples carry the Multikey in the URL: ...#z6Mk... or did:key:z6Mk..."""
    if "#" in verification_method:
        multikey = verification_method.rsplit("#", 1)[1]
    else:
        multikey = verification_method.removeprefix("did:key:")
    raw = ref_b58decode(multikey.removeprefix("z"))
    assert raw[:2] == b"\xed\x01" and len(raw) == 34
    return raw[2:]


def ref_verify(credential: dict[str, Any], public_key: bytes) -> bool:
    proofs = ref_proofs(credential)
    for proof in proofs:
        if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != (
            "eddsa-rdfc-2022"
        ):
            return False
        signature = ref_b58decode(proof["proofValue"].removeprefix("z"))
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                signature, ref_hash_data(*ref_split(credential, proof))
            )
        except InvalidSignature:
            return False
    return bool(proofs)


def ref_schema_errors(credential: dict[str, Any], schema_name: str) -> list[str]:
    schema = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(
        schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(credential)]


ACHIEVEMENT_SCHEMA = "ob_v3p0_achievementcredential_schema.json"
