"""Benchmark: Open Badges 3.0 credentials signed per second (eddsa-rdfc-2022), single thread.

    python -m bench.signing [-n 500] [--warmup 50] [--no-plain]

Signs N realistic OpenBadgeCredentials with ``badges.openbadges.signing`` and, for comparison,
with plain pyld (contexts parsed and processed afresh on every call, pyld's default when the
loader does not tag documents as static). Both paths must produce identical proofs. The last
line is ``credentials_per_s=<x>`` for the app's signer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pyld
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from badges.openbadges.jsonld import CONTEXT_URLS, CONTEXTS_DIR
from badges.openbadges.signing import (
    b58encode,
    generate_keypair,
    public_key_multibase,
    sign_credential,
    verify_credential,
)

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
SITE = "https://badges.example.test"
ISSUERS = [
    ("acme", "Acme University", "Acme University recognises learning with Open Badges."),
    ("nwcc", "North West Community College", "Short courses for working adults."),
    ("guild", "The Makers' Guild", "Peer-assessed craft skills."),
]
ACHIEVEMENTS = [
    ("Data Literacy Foundations", "Reads, questions and explains everyday data."),
    ("Workshop Safety", "Operates the workshop's machines safely and unsupervised."),
    ("Public Speaking", "Gives a structured ten-minute talk and takes questions."),
    ("First Aid at Work", "Holds a current first-aid qualification (renewed every 3 years)."),
    ("Team Leadership — Level 2", "Led a team of four or more through a full project cycle."),
]


def make_credentials(count: int, seed: int = 42) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    credentials = []
    for i in range(count):
        slug, issuer_name, issuer_description = rng.choice(ISSUERS)
        badge = rng.randrange(len(ACHIEVEMENTS))
        name, description = ACHIEVEMENTS[badge]
        email = f"learner{i}@mail{rng.randrange(50)}.example.org"
        salt = f"{rng.getrandbits(64):016x}"
        credentials.append(
            {
                "@context": CONTEXT,
                "id": f"{SITE}/public/credentials/{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": {
                    "id": f"{SITE}/public/issuers/{slug}",
                    "type": ["Profile"],
                    "name": issuer_name,
                    "url": f"https://{slug}.example.test/",
                    "email": f"badges@{slug}.example.test",
                    "description": issuer_description,
                },
                "validFrom": "2026-01-15T10:00:00Z",
                "validUntil": "2029-01-15T10:00:00Z",
                "name": name,
                "credentialSubject": {
                    "type": ["AchievementSubject"],
                    "identifier": [
                        {
                            "type": "IdentityObject",
                            "hashed": True,
                            "identityHash": "sha256$"
                            + hashlib.sha256((email + salt).encode()).hexdigest(),
                            "identityType": "emailAddress",
                            "salt": salt,
                        }
                    ],
                    "achievement": {
                        "id": f"{SITE}/public/achievements/{slug}-{badge}",
                        "type": ["Achievement"],
                        "name": name,
                        "description": description,
                        "criteria": {"narrative": f"Meet the published criteria for *{name}*."},
                        "image": {"id": f"{SITE}/media/badges/{slug}-{badge}.png", "type": "Image"},
                    },
                },
                "credentialStatus": {
                    "id": f"{SITE}/public/issuers/{slug}/revocations",
                    "type": "1EdTechRevocationList",
                },
            }
        )
    return credentials


def now_xsd() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- plain pyld, for comparison -----------------------------------------------------------------


def plain_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    text = (CONTEXTS_DIR / CONTEXT_URLS[url]).read_text(encoding="utf-8")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(text),
    }


def plain_canonicalize(doc: dict[str, Any]) -> str:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    return jsonld.normalize(doc, {**options, "documentLoader": plain_loader})


def plain_sign(
    credential: dict[str, Any], private_key: bytes, verification_method: str, created: str
) -> str:
    """The same eddsa-rdfc-2022 steps as the app, on plain pyld; returns the proofValue."""
    proof_config = {
        "@context": credential["@context"],
        "type": "DataIntegrityProof",
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
    }
    data = (
        hashlib.sha256(plain_canonicalize(proof_config).encode()).digest()
        + hashlib.sha256(plain_canonicalize(credential).encode()).digest()
    )
    return "z" + b58encode(Ed25519PrivateKey.from_private_bytes(private_key).sign(data))


# --- run ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=500, help="credentials to sign")
    parser.add_argument("--warmup", type=int, default=50, help="untimed signatures first")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain pyld run")
    args = parser.parse_args()

    private, public = generate_keypair()
    verification_method = f"{SITE}/public/issuers/acme#{public_key_multibase(public)}"
    warmup = make_credentials(args.warmup, seed=1)
    credentials = make_credentials(args.count)
    print(
        f"python {platform.python_version()}, pyld {pyld.__about__.__version__}, "
        f"{args.count} credentials after {args.warmup} warm-up signatures"
    )

    for credential in warmup:
        sign_credential(
            credential,
            private_key=private,
            verification_method=verification_method,
            created=now_xsd(),
        )
    start = time.perf_counter()
    signed = [
        sign_credential(
            credential,
            private_key=private,
            verification_method=verification_method,
            created=now_xsd(),
        )
        for credential in credentials
    ]
    fast_s = time.perf_counter() - start
    fast_rate = args.count / fast_s
    per_ms = 1000 * fast_s / args.count
    print(f"badges.openbadges: {fast_rate:8.1f} credentials/s ({per_ms:.2f} ms each)")

    start = time.perf_counter()
    verified = sum(verify_credential(c, public_key=public) for c in signed)
    verify_s = time.perf_counter() - start
    if verified != args.count:
        raise SystemExit(f"only {verified}/{args.count} signed credentials verify")
    print(f"badges.openbadges: {args.count / verify_s:8.1f} verifications/s")

    if not args.no_plain:
        for credential in warmup[:5]:
            plain_sign(credential, private, verification_method, now_xsd())
        # Same `created` as the app's proofs, so the outputs can be compared afterwards.
        created = [c["proof"][0]["created"] for c in signed]
        start = time.perf_counter()
        plain = [
            plain_sign(credential, private, verification_method, when)
            for credential, when in zip(credentials, created, strict=True)
        ]
        plain_s = time.perf_counter() - start
        print(
            f"plain pyld:        {args.count / plain_s:8.1f} credentials/s "
            f"({1000 * plain_s / args.count:.2f} ms each); speed-up x{plain_s / fast_s:.1f}"
        )
        mismatches = sum(
            p != s["proof"][0]["proofValue"] for p, s in zip(plain, signed, strict=True)
        )
        if mismatches:
            raise SystemExit(f"{mismatches} proofs differ between plain pyld and the app")
        print(f"identical proofValues: {args.count}/{args.count}")

    print(f"credentials_per_s={fast_rate:.1f}")


if __name__ == "__main__":
    main()
