"""Ed25519 Data Integrity proofs for Open Badges 3.0 (cryptosuite ``eddsa-rdfc-2022``).

Implements W3C vc-di-eddsa section 3.3 (eddsa-rdfc-2022), as used by the OB 3.0
Implementation Guide:

* transformation: RDFC-1.0 canonical N-Quads of the credential without ``proof``;
* proof configuration: the proof options without ``proofValue``, with the credential's
  ``@context``, also canonicalised;
* hashing: ``sha256(canonical proof config) || sha256(canonical credential)``;
* proof value: the Ed25519 signature of those 64 bytes, multibase base58btc (``z...``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from typing import Any

from cachetools import LRUCache
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld.jsonld import JsonLdError

from .jsonld import JsonLdProcessingError, canonicalize

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "b58decode",
    "b58encode",
    "decode_private_key_multibase",
    "decode_public_key_multibase",
    "generate_keypair",
    "private_key_multibase",
    "public_key_from_private",
    "public_key_multibase",
    "sign_credential",
    "verify_credential",
]

logger = logging.getLogger(__name__)

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"

# Multicodec prefixes (unsigned varints) for raw Ed25519 keys, as in did:key / Multikey.
_ED25519_PUB = b"\xed\x01"
_ED25519_PRIV = b"\x80\x26"

# XML Schema dateTime (vc-di-eddsa: "created" MUST be one); the time zone is required here
# because VC 2.0 dateTimeStamp requires it.
_XSD_DATETIME_STAMP = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$"
)

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}


# --- base58btc / multibase ------------------------------------------------------------------


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (no checksum)."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_B58_ALPHABET[remainder])
    # Each leading zero byte is a leading '1'.
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Inverse of ``b58encode``; raises ValueError on characters outside the alphabet."""
    number = 0
    for char in text:
        try:
            number = number * 58 + _B58_INDEX[char]
        except KeyError:
            raise ValueError(f"invalid base58 character {char!r}") from None
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_zeros + body


def _multibase_decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("expected a multibase base58btc string (starting with 'z')")
    return b58decode(text[1:])


def _decode_multikey(text: str, prefix: bytes, kind: str) -> bytes:
    raw = _multibase_decode(text)
    if not raw.startswith(prefix) or len(raw) != len(prefix) + 32:
        raise ValueError(f"not a multibase Ed25519 {kind} key")
    return raw[len(prefix) :]


# --- keys -----------------------------------------------------------------------------------


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair: (raw 32-byte private key (seed), raw 32-byte public key)."""
    private = Ed25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        ),
        private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ),
    )


def _private_key(private_key: bytes) -> Ed25519PrivateKey:
    if not isinstance(private_key, bytes):
        raise TypeError("private_key must be bytes")
    if len(private_key) == 64:
        # seed || public key, as many libraries (and the spec's test vector) print it.
        key = Ed25519PrivateKey.from_private_bytes(private_key[:32])
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        if public != private_key[32:]:
            raise ValueError("64-byte private key: its second half is not its public key")
        return key
    if len(private_key) != 32:
        raise ValueError("an Ed25519 private key is 32 raw bytes (or 64: seed || public key)")
    return Ed25519PrivateKey.from_private_bytes(private_key)


def public_key_from_private(private_key: bytes) -> bytes:
    """The raw 32-byte public key of a raw private key."""
    return (
        _private_key(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def public_key_multibase(public_raw: bytes) -> str:
    """Multikey ``publicKeyMultibase`` ("z6Mk..."): base58btc(0xed01 || key)."""
    if len(public_raw) != 32:
        raise ValueError("an Ed25519 public key is 32 raw bytes")
    return "z" + b58encode(_ED25519_PUB + public_raw)


def decode_public_key_multibase(text: str) -> bytes:
    """Raw 32-byte public key from a "z6Mk..." string."""
    return _decode_multikey(text, _ED25519_PUB, "public")


def private_key_multibase(private_raw: bytes) -> str:
    """Multikey ``secretKeyMultibase`` ("z3u2..."): base58btc(0x8026 || 32-byte seed)."""
    if len(private_raw) != 32:
        raise ValueError("an Ed25519 private key is 32 raw bytes")
    return "z" + b58encode(_ED25519_PRIV + private_raw)


def decode_private_key_multibase(text: str) -> bytes:
    """Raw 32-byte private key (seed) from a "z3u2..." string."""
    return _decode_multikey(text, _ED25519_PRIV, "private")


# --- proofs ---------------------------------------------------------------------------------


# A batch of awards shares the context, key, purpose and (to the second) "created", so the
# proof configuration repeats. Keyed by its exact JSON, this cache cannot change the output.
_proof_config_hashes: LRUCache = LRUCache(maxsize=256)
_proof_config_lock = threading.Lock()


def _proof_config_hash(proof_config: dict[str, Any]) -> bytes:
    key = json.dumps(proof_config, sort_keys=True)
    with _proof_config_lock:
        digest = _proof_config_hashes.get(key)
    if digest is None:
        digest = hashlib.sha256(canonicalize(proof_config).encode("utf-8")).digest()
        with _proof_config_lock:
            _proof_config_hashes[key] = digest
    return digest


def _hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """vc-di-eddsa 3.3.3-3.3.5: transform, configure, hash (proof config hash first)."""
    proof_config_hash = _proof_config_hash(proof_config)
    document_hash = hashlib.sha256(canonicalize(document).encode("utf-8")).digest()
    return proof_config_hash + document_hash


def sign_credential(
    credential: dict[str, Any],
    *,
    private_key: bytes,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``credential`` with ``proof: [DataIntegrityProof]`` (eddsa-rdfc-2022).

    ``created`` is an XML Schema dateTime with a time zone, e.g. "2026-01-15T10:00:00Z".
    ``private_key`` is the raw 32-byte Ed25519 seed (64-byte seed || public also accepted).
    Raises ValueError (including ``JsonLdProcessingError``) if the credential cannot be
    signed safely, e.g. it uses a context that is not bundled or a term no context defines.
    """
    if "proof" in credential:
        raise ValueError("credential already has a proof; sign the unsecured credential")
    if "@context" not in credential:
        raise ValueError("credential has no @context")
    if not isinstance(created, str) or not _XSD_DATETIME_STAMP.match(created):
        raise ValueError(f"created must be an XML Schema dateTime with time zone: {created!r}")
    if not verification_method:
        raise ValueError("verification_method is required")
    key = _private_key(private_key)

    # Sign exactly what will be serialised: a JSON round trip also copies the input and
    # rejects values JSON cannot carry (datetimes, NaN, ...).
    try:
        document = json.loads(json.dumps(credential, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"credential is not plain JSON: {exc}") from exc
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": proof_purpose,
    }
    proof_config = {"@context": document["@context"], **proof}
    signature = key.sign(_hash_data(document, proof_config))
    proof["proofValue"] = "z" + b58encode(signature)
    document["proof"] = [proof]
    return document


def verify_credential(
    credential: dict[str, Any],
    *,
    public_key: bytes,
    expected_proof_purpose: str | None = "assertionMethod",
) -> bool:
    """True if the credential has at least one proof and every proof is a valid
    eddsa-rdfc-2022 DataIntegrityProof by ``public_key`` (raw 32 bytes).

    ``proof`` may be an object or an array. Anything malformed, any other proof type or
    cryptosuite, and any document that cannot be canonicalised safely gives False.
    """
    try:
        public = Ed25519PublicKey.from_public_bytes(public_key)
    except (TypeError, ValueError):
        logger.debug("not a raw Ed25519 public key")
        return False
    if not isinstance(credential, dict):
        return False
    proofs = credential.get("proof")
    if isinstance(proofs, dict):
        proofs = [proofs]
    if not isinstance(proofs, list) or not proofs:
        return False
    unsecured = {key: value for key, value in credential.items() if key != "proof"}
    return all(_verify_proof(unsecured, proof, public, expected_proof_purpose) for proof in proofs)


def _verify_proof(
    unsecured: dict[str, Any],
    proof: Any,
    public: Ed25519PublicKey,
    expected_proof_purpose: str | None,
) -> bool:
    """vc-di-eddsa 3.3.2 Verify Proof (eddsa-rdfc-2022) for one proof."""
    if not isinstance(proof, dict):
        return False
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        logger.debug("unsupported proof %r/%r", proof.get("type"), proof.get("cryptosuite"))
        return False
    if expected_proof_purpose is not None and proof.get("proofPurpose") != expected_proof_purpose:
        return False
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    try:
        signature = _multibase_decode(proof.get("proofValue"))
    except ValueError:
        return False
    if len(signature) != 64:
        return False

    document_context = unsecured.get("@context")
    if "@context" in options:
        # Spec step 4: the document's @context must start with the proof's, in order.
        proof_context = options["@context"]
        proof_context = proof_context if isinstance(proof_context, list) else [proof_context]
        doc_context = document_context if isinstance(document_context, list) else [document_context]
        if doc_context[: len(proof_context)] != proof_context:
            return False
        unsecured = {**unsecured, "@context": options["@context"]}
    proof_config = {**options, "@context": unsecured.get("@context")}
    try:
        public.verify(signature, _hash_data(unsecured, proof_config))
    except InvalidSignature:
        return False
    except (JsonLdError, JsonLdProcessingError, ValueError, TypeError, KeyError) as exc:
        logger.debug("cannot canonicalise credential: %s", exc)
        return False
    return True
