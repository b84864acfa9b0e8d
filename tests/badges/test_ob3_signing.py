"""Open Badges 3.0 eddsa-rdfc-2022 signing, checked against the spec's data.

The reference verifier below is deliberately independent of ``badges.openbadges``: plain pyld
(no caches), a document loader that serves only the conformance copies of the contexts,
``cryptography`` Ed25519 and its own base58. It is first proven on the spec's test vector and
1EdTech's validator examples, then used to judge what the app signs.

No Django needed; the data lives in ``shared/conformance`` next to the repository (or
``$BADGE_CONFORMANCE_DIR``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from badges.openbadges import jsonld as app_jsonld
from badges.openbadges import signing

CONFORMANCE = Path(
    os.environ.get("BADGE_CONFORMANCE_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
)
if not (CONFORMANCE / "ob3").is_dir():
    pytest.skip(
        f"Open Badges conformance data not found at {CONFORMANCE} (set BADGE_CONFORMANCE_DIR)",
        allow_module_level=True,
    )

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


def load_example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def vector() -> dict[str, Any]:
    return load_example("spec-eddsa-rdfc-2022-test-vector.json")


# --- a realistic credential, as the app issues them ----------------------------------------------


def make_credential(
    *,
    email: str = "ada.lovelace@example.org",
    salt: str = "8rWl3kQz",
    credential_id: uuid.UUID | None = None,
    with_status: bool = True,
) -> dict[str, Any]:
    credential_id = credential_id or uuid.uuid4()
    credential: dict[str, Any] = {
        # extensions.json defines 1EdTechRevocationList; without it that type is undefined.
        "@context": [VC_V2, OB_V3, OB_EXTENSIONS] if with_status else [VC_V2, OB_V3],
        "id": f"https://example.test/public/credentials/{credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": "https://example.test/public/issuers/acme-university",
            "type": ["Profile"],
            "name": "Acme University",
            "url": "https://acme.example.test/",
            "email": "badges@acme.example.test",
            "description": "Acme University recognises learning with Open Badges.",
        },
        "validFrom": "2026-01-15T10:00:00Z",
        "validUntil": "2028-01-15T10:00:00Z",
        "name": "Data Literacy Foundations",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": "sha256$"
                    + hashlib.sha256((email + salt).encode("utf-8")).hexdigest(),
                    "identityType": "emailAddress",
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": "https://example.test/public/achievements/5b1c1f0e",
                "type": ["Achievement"],
                "name": "Data Literacy Foundations",
                "description": "Reads, questions and explains everyday data — «ça va» ✓.",
                "criteria": {
                    "narrative": "Complete the six modules and pass the final *assessment*\n"
                    'with at least 80 %. "Quotes" and \\ backslashes are fine.'
                },
                "image": {
                    "id": "https://example.test/media/badges/5b1c1f0e.png",
                    "type": "Image",
                },
            },
        },
    }
    if with_status:
        credential["credentialStatus"] = {
            "id": "https://example.test/public/issuers/acme-university/revocations",
            "type": "1EdTechRevocationList",
        }
    return credential


VERIFICATION_METHOD = "https://example.test/public/issuers/acme-university#key-1"
CREATED = "2026-01-15T10:00:03Z"


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    return signing.generate_keypair()


@pytest.fixture(scope="module")
def signed(keypair: tuple[bytes, bytes]) -> dict[str, Any]:
    return signing.sign_credential(
        make_credential(),
        private_key=keypair[0],
        verification_method=VERIFICATION_METHOD,
        created=CREATED,
    )


# --- (a) the reference verifier reproduces the spec's test vector --------------------------------


def test_reference_reproduces_spec_vector_byte_for_byte(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    credential = vector["signedCredential"]
    document, config = ref_split(credential, credential["proof"])

    canonical_document = ref_canonicalize(document)
    canonical_config = ref_canonicalize(config)
    assert canonical_document == expected["documentCanonicalNQuads"]
    assert canonical_config == expected["proofCanonicalNQuads"]

    document_hash = hashlib.sha256(canonical_document.encode()).digest()
    config_hash = hashlib.sha256(canonical_config.encode()).digest()
    assert document_hash.hex() == expected["documentHashHex"]
    assert config_hash.hex() == expected["proofHashHex"]
    # The proof configuration's hash comes first.
    assert (config_hash + document_hash).hex() == expected["dataToSignHex"]

    signature = ref_b58decode(credential["proof"]["proofValue"].removeprefix("z"))
    assert signature.hex() == expected["signatureHex"]
    assert "z" + ref_b58encode(signature) == expected["proofValue"]

    public = bytes.fromhex(vector["keyPair"]["publicKeyHex"])
    Ed25519PublicKey.from_public_bytes(public).verify(signature, config_hash + document_hash)
    assert ref_verify(credential, public)
    assert ref_key_from_verification_method(vector["keyPair"]["verificationMethod"]) == public

    # Ed25519 is deterministic: the published private key gives the published proofValue.
    private = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex(vector["keyPair"]["privateKeyHex"])[:32]
    )
    resigned = private.sign(bytes.fromhex(expected["dataToSignHex"]))
    assert "z" + ref_b58encode(resigned) == expected["proofValue"]


def test_spec_vector_fails_schema_only_because_proof_is_an_object(vector: dict[str, Any]) -> None:
    credential = vector["signedCredential"]
    (error,) = ref_schema_errors(credential, ACHIEVEMENT_SCHEMA)
    assert error.startswith("['proof']: ") and "is not of type 'array'" in error
    as_array = {**credential, "proof": [credential["proof"]]}
    assert ref_schema_errors(as_array, ACHIEVEMENT_SCHEMA) == []


# --- (b) the reference verifier on 1EdTech's validator examples ----------------------------------

# (file, proof valid, valid against the achievement credential schema) from the README.
VALIDATOR_EXAMPLES = [
    ("1edtech-validator-simple.json", True, True),
    ("1edtech-validator-simple-did-key-method.json", True, True),
    ("1edtech-validator-complete.json", True, True),
    ("1edtech-validator-endorsement-valid.json", True, False),
    ("1edtech-validator-simple-err-proof-value.json", False, True),
    ("1edtech-validator-simple-err-type.json", False, False),
    ("1edtech-validator-simple-err-issuer.json", True, False),
    ("1edtech-validator-simple-err-context.json", False, False),
]


@pytest.mark.parametrize(("name", "proof_valid", "schema_valid"), VALIDATOR_EXAMPLES)
def test_reference_on_validator_examples(name: str, proof_valid: bool, schema_valid: bool) -> None:
    credential = load_example(name)
    (proof,) = ref_proofs(credential)
    public = ref_key_from_verification_method(proof["verificationMethod"])
    assert ref_verify(credential, public) is proof_valid
    assert (ref_schema_errors(credential, ACHIEVEMENT_SCHEMA) == []) is schema_valid


def test_endorsement_example_matches_endorsement_schema() -> None:
    credential = load_example("1edtech-validator-endorsement-valid.json")
    assert ref_schema_errors(credential, "ob_v3p0_endorsementcredential_schema.json") == []


@pytest.mark.parametrize(("name", "proof_valid", "schema_valid"), VALIDATOR_EXAMPLES)
def test_app_verifier_agrees_on_validator_examples(
    name: str, proof_valid: bool, schema_valid: bool
) -> None:
    credential = load_example(name)
    (proof,) = ref_proofs(credential)
    public = ref_key_from_verification_method(proof["verificationMethod"])
    assert signing.verify_credential(credential, public_key=public) is proof_valid


def test_app_verifier_accepts_spec_vector_with_proof_object(vector: dict[str, Any]) -> None:
    public = bytes.fromhex(vector["keyPair"]["publicKeyHex"])
    credential = vector["signedCredential"]
    assert isinstance(credential["proof"], dict)
    assert signing.verify_credential(credential, public_key=public)
    assert signing.verify_credential(
        {**credential, "proof": [credential["proof"]]}, public_key=public
    )
    assert not signing.verify_credential(credential, public_key=signing.generate_keypair()[1])


def test_app_signer_reproduces_spec_vector(vector: dict[str, Any]) -> None:
    credential = copy.deepcopy(vector["signedCredential"])
    proof = credential.pop("proof")
    private = bytes.fromhex(vector["keyPair"]["privateKeyHex"])
    for key in (private[:32], private):  # raw seed, or seed || public as the spec prints it
        resigned = signing.sign_credential(
            credential,
            private_key=key,
            verification_method=proof["verificationMethod"],
            created=proof["created"],
        )
        assert resigned["proof"] == [proof]
    assert "proof" not in credential  # the input is left alone


# --- (c) the app's canonicalize() equals plain pyld ----------------------------------------------


def canonicalisation_corpus(vector: dict[str, Any]) -> list[dict[str, Any]]:
    docs = []
    for credential in [vector["signedCredential"]] + [
        load_example(name) for name, _, _ in VALIDATOR_EXAMPLES
    ]:
        docs.append(credential)
        for proof in ref_proofs(credential):
            docs.extend(ref_split(credential, proof))
    for with_status in (True, False):
        sample = make_credential(with_status=with_status)
        docs.append(sample)
        docs.append(
            {
                "@context": sample["@context"],
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "created": CREATED,
                "verificationMethod": VERIFICATION_METHOD,
                "proofPurpose": "assertionMethod",
            }
        )
    return docs


def test_app_canonicalize_equals_plain_pyld(vector: dict[str, Any]) -> None:
    docs = canonicalisation_corpus(vector)
    expected = [ref_canonicalize(doc) for doc in docs]
    # Several shuffled passes, so the app's context caches are hit in different orders.
    order = list(range(len(docs)))
    rng = random.Random(1234)
    for _ in range(3):
        rng.shuffle(order)
        for i in order:
            assert app_jsonld.canonicalize(docs[i], safe=False) == expected[i], i


def _dict_nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [d for item in node for d in _dict_nodes(item)]
    if isinstance(node, dict):
        return [node] + [d for value in node.values() for d in _dict_nodes(value)]
    return []


def test_app_canonicalize_equals_plain_pyld_on_random_variants() -> None:
    """Drop random entries (types too, which switches type-scoped contexts on and off)."""
    rng = random.Random(20260115)
    bases = [
        {k: v for k, v in load_example("1edtech-validator-complete.json").items() if k != "proof"},
        make_credential(),
    ]
    for _ in range(40):
        variant = copy.deepcopy(rng.choice(bases))
        for _ in range(rng.randint(1, 6)):
            node = rng.choice(_dict_nodes(variant))
            keys = [k for k in node if node is not variant or k != "@context"]
            if keys:
                del node[rng.choice(keys)]
        try:
            expected = ref_canonicalize(variant)
        except jsonld.JsonLdError:
            with pytest.raises(jsonld.JsonLdError):
                app_jsonld.canonicalize(variant, safe=False)
            continue
        assert app_jsonld.canonicalize(variant, safe=False) == expected


def test_app_canonicalize_safe_mode_output_is_unchanged(vector: dict[str, Any]) -> None:
    rejected = {
        "1edtech-validator-simple-err-type.json",
        "1edtech-validator-simple-err-context.json",
    }
    for name, _, _ in VALIDATOR_EXAMPLES:
        credential = load_example(name)
        if name in rejected:
            with pytest.raises(app_jsonld.JsonLdProcessingError):
                app_jsonld.canonicalize(credential)
        else:
            assert app_jsonld.canonicalize(credential) == ref_canonicalize(credential), name
    document, _ = ref_split(vector["signedCredential"], vector["signedCredential"]["proof"])
    assert app_jsonld.canonicalize(document) == vector["expected"]["documentCanonicalNQuads"]


def test_safe_mode_rejects_what_json_ld_would_drop() -> None:
    undefined_property = {**make_credential(), "favouriteColour": "green"}
    with pytest.raises(app_jsonld.UndefinedTermError, match="favouriteColour"):
        app_jsonld.canonicalize(undefined_property)
    relative_id = {**make_credential(), "id": "credentials/1"}
    with pytest.raises(app_jsonld.RelativeIriError, match="credentials/1"):
        app_jsonld.canonicalize(relative_id)
    # 1EdTechRevocationList is defined only by extensions.json.
    status_without_extensions = make_credential()
    status_without_extensions["@context"] = [VC_V2, OB_V3]
    with pytest.raises(app_jsonld.RelativeIriError, match="1EdTechRevocationList"):
        app_jsonld.canonicalize(status_without_extensions)
    with pytest.raises(ValueError, match="favouriteColour"):
        signing.sign_credential(
            undefined_property,
            private_key=signing.generate_keypair()[0],
            verification_method=VERIFICATION_METHOD,
            created=CREATED,
        )


def test_loader_serves_only_bundled_contexts_and_never_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    unknown = "https://example.test/contexts/evil.jsonld"
    with pytest.raises(app_jsonld.ContextNotAllowedError, match="evil.jsonld"):
        app_jsonld.document_loader(unknown)
    with pytest.raises(app_jsonld.ContextNotAllowedError, match="evil.jsonld"):
        app_jsonld.canonicalize({**make_credential(), "@context": [VC_V2, OB_V3, unknown]})
    for url in app_jsonld.CONTEXT_URLS:
        assert app_jsonld.document_loader(url)["documentUrl"] == url


# --- (d) what the app signs verifies independently and matches the schema ------------------------


def test_app_signed_credential_verifies_independently(
    signed: dict[str, Any], keypair: tuple[bytes, bytes]
) -> None:
    assert isinstance(signed["proof"], list) and len(signed["proof"]) == 1
    proof = signed["proof"][0]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == VERIFICATION_METHOD
    assert proof["created"] == CREATED
    assert proof["proofValue"].startswith("z")
    assert len(ref_b58decode(proof["proofValue"][1:])) == 64
    assert "@context" not in proof

    assert ref_verify(signed, keypair[1])
    assert signing.verify_credential(signed, public_key=keypair[1])
    # The unsecured part is exactly what was passed in.
    assert {k: v for k, v in signed.items() if k != "proof"} == json.loads(
        json.dumps({k: v for k, v in signed.items() if k != "proof"})
    )


@pytest.mark.parametrize("with_status", [True, False])
def test_app_signed_credential_matches_ob3_schema(
    keypair: tuple[bytes, bytes], with_status: bool
) -> None:
    credential = signing.sign_credential(
        make_credential(with_status=with_status),
        private_key=keypair[0],
        verification_method=VERIFICATION_METHOD,
        created=CREATED,
    )
    assert ref_schema_errors(credential, ACHIEVEMENT_SCHEMA) == []
    # jsonschema checks "date-time" only if rfc3339-validator is installed; check it here.
    for value in (credential["validFrom"], credential["validUntil"], CREATED):
        assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    assert ref_verify(credential, keypair[1])


def test_public_key_multibase(vector: dict[str, Any], keypair: tuple[bytes, bytes]) -> None:
    public = bytes.fromhex(vector["keyPair"]["publicKeyHex"])
    multibase = vector["keyPair"]["publicKeyMultibase"]
    assert signing.public_key_multibase(public) == multibase
    assert signing.decode_public_key_multibase(multibase) == public

    private, public = keypair
    assert len(private) == len(public) == 32
    assert signing.public_key_from_private(private) == public
    encoded = signing.public_key_multibase(public)
    assert encoded.startswith("z6Mk")
    assert ref_key_from_verification_method(f"{VERIFICATION_METHOD[:-6]}#{encoded}") == public
    assert signing.decode_public_key_multibase(encoded) == public
    secret = signing.private_key_multibase(private)
    assert secret.startswith("z3u2")
    assert signing.decode_private_key_multibase(secret) == private
    with pytest.raises(ValueError):
        signing.decode_public_key_multibase(secret)
    with pytest.raises(ValueError):
        signing.decode_public_key_multibase(encoded[1:])
    for data in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert signing.b58decode(signing.b58encode(data)) == data
        assert signing.b58encode(data) == ref_b58encode(data)


def test_signing_from_several_threads_matches_sequential(keypair: tuple[bytes, bytes]) -> None:
    # The app's context and proof-config caches are shared; Ed25519 is deterministic.
    credentials = [make_credential(credential_id=uuid.UUID(int=i)) for i in range(40)]

    def sign(credential: dict[str, Any]) -> dict[str, Any]:
        return signing.sign_credential(
            credential,
            private_key=keypair[0],
            verification_method=VERIFICATION_METHOD,
            created=CREATED,
        )

    sequential = [sign(c) for c in credentials]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(sign, credentials)) == sequential


def test_sign_rejects_bad_input(keypair: tuple[bytes, bytes], signed: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "private_key": keypair[0],
        "verification_method": VERIFICATION_METHOD,
        "created": CREATED,
    }
    with pytest.raises(ValueError, match="already has a proof"):
        signing.sign_credential(signed, **kwargs)
    for created in ("2026-01-15", "2026-01-15T10:00:00", "yesterday"):
        with pytest.raises(ValueError, match="created"):
            signing.sign_credential(make_credential(), **{**kwargs, "created": created})
    with pytest.raises(ValueError):
        signing.sign_credential(make_credential(), **{**kwargs, "private_key": b"short"})
    with pytest.raises(ValueError, match="plain JSON"):
        signing.sign_credential({**make_credential(), "validFrom": datetime.now()}, **kwargs)


# --- (e) tampering is detected -------------------------------------------------------------------


def _tamper_name(c: dict) -> None:
    c["name"] = "Data Literacy Mastery"


def _tamper_recipient(c: dict) -> None:
    c["credentialSubject"]["identifier"][0]["identityHash"] = (
        "sha256$" + hashlib.sha256(b"mallory@example.org8rWl3kQz").hexdigest()
    )


def _tamper_achievement(c: dict) -> None:
    c["credentialSubject"]["achievement"]["criteria"]["narrative"] += " (or not)"


def _tamper_issuer(c: dict) -> None:
    c["issuer"]["id"] = "https://evil.example/issuers/acme-university"


def _tamper_expiry(c: dict) -> None:
    c["validUntil"] = "2099-01-15T10:00:00Z"


def _tamper_status(c: dict) -> None:
    del c["credentialStatus"]


def _tamper_proof_created(c: dict) -> None:
    c["proof"][0]["created"] = "2026-01-15T10:00:04Z"


def _tamper_proof_purpose(c: dict) -> None:
    c["proof"][0]["proofPurpose"] = "authentication"


@pytest.mark.parametrize(
    "tamper",
    [
        _tamper_name,
        _tamper_recipient,
        _tamper_achievement,
        _tamper_issuer,
        _tamper_expiry,
        _tamper_status,
        _tamper_proof_created,
        _tamper_proof_purpose,
    ],
)
def test_tampered_credential_fails(
    signed: dict[str, Any], keypair: tuple[bytes, bytes], tamper: Any
) -> None:
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    assert tampered != signed
    assert not ref_verify(tampered, keypair[1])
    assert not signing.verify_credential(tampered, public_key=keypair[1])


def test_verify_rejects_wrong_key_and_malformed_proofs(
    signed: dict[str, Any], keypair: tuple[bytes, bytes]
) -> None:
    public = keypair[1]
    assert not signing.verify_credential(signed, public_key=signing.generate_keypair()[1])
    assert not signing.verify_credential(signed, public_key=b"not a key")
    proof = signed["proof"][0]
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    for bad in (
        None,
        [],
        [{**proof, "cryptosuite": "eddsa-2022"}],
        [{**proof, "proofValue": "u" + proof["proofValue"][1:]}],
        [{**proof, "proofValue": "z0OIl"}],
        [proof, {**proof, "created": "2026-01-15T10:00:04Z"}],  # every proof must verify
    ):
        assert not signing.verify_credential({**unsigned, "proof": bad}, public_key=public)
    assert not signing.verify_credential(unsigned, public_key=public)
    assert signing.verify_credential({**unsigned, "proof": [proof, proof]}, public_key=public)


# --- (f) the contexts bundled with the app are the published ones --------------------------------


def test_bundled_contexts_equal_conformance_copies() -> None:
    assert set(app_jsonld.CONTEXT_URLS) == set(REFERENCE_CONTEXTS)
    for url, filename in app_jsonld.CONTEXT_URLS.items():
        bundled = json.loads((app_jsonld.CONTEXTS_DIR / filename).read_text(encoding="utf-8"))
        reference = json.loads(REFERENCE_CONTEXTS[url].read_text(encoding="utf-8"))
        assert bundled == reference, url
        assert app_jsonld.document_loader(url)["document"] == reference, url
