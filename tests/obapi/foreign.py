"""A credential from elsewhere: an issuer that is a did:key made in the test, signing an
Open Badges 3.0 AchievementCredential with eddsa-rdfc-2022 (or as an EdDSA compact JWS)."""

from __future__ import annotations

import base64
import json
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges.openbadges import signing

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


class ForeignIssuer:
    def __init__(self, name: str = "Elsewhere Academy"):
        self.seed, public = signing.generate_keypair()
        self.did = "did:key:" + signing.public_key_multibase(public)
        self.method = f"{self.did}#{self.did.removeprefix('did:key:')}"
        self.name = name

    def unsigned(self, *, credential_id: str | None = None, valid_from: str, **extra) -> dict:
        credential = {
            "@context": [VC_V2, OB3],
            "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": "Welding Basics",
            "issuer": {"id": self.did, "type": ["Profile"], "name": self.name},
            "validFrom": valid_from,
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": "https://elsewhere.example/achievements/welding",
                    "type": ["Achievement"],
                    "name": "Welding Basics",
                    "description": "Welds a straight bead.",
                    "criteria": {"narrative": "Pass the practical."},
                },
            },
        }
        credential.update(extra)
        return credential

    def sign(self, credential: dict) -> dict:
        return signing.sign_credential(
            credential,
            private_key=self.seed,
            verification_method=self.method,
            created=credential["validFrom"],
        )

    def credential(self, **kwargs) -> dict:
        return self.sign(self.unsigned(**kwargs))

    def jws(self, **kwargs) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        head = b64(json.dumps({"alg": "EdDSA", "kid": self.method, "typ": "vc+jwt"}).encode())
        body = b64(json.dumps(self.unsigned(**kwargs)).encode())
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        return f"{head}.{body}.{b64(key.sign(f'{head}.{body}'.encode()))}"
