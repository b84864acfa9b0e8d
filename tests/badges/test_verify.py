"""The public verifier's service (badges/openbadges/verify.py) and its fetcher.

1EdTech's validator's own OB 3.0 test credentials (read from shared/conformance, taken from
1EdTech/digital-credentials-public-validator, Apache-2.0; see that folder's README) give the
verdicts 1EdTech's tests expect; our own credentials are verified live, revoked, tampered,
signed by a key another issuer holds, expired, baked in PNG and SVG, as OB 2.0 and as JWTs.
No test touches the network: foreign fetching is off (or the fetcher is a stub)."""

from __future__ import annotations

import base64
import copy
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from badges.openbadges import baking, fetching, keys, publish, signing
from badges.openbadges.fetching import Fetched, FetchError
from badges.openbadges.verify import (
    FAIL,
    PASS,
    WARN,
    UnreadableInput,
    recipient_check,
    verify_credential,
)
from issuers.models import Issuer
from tests.factories import make_award, make_issuer, revoke_award
from tests.openbadges_reference import EXAMPLES, HAVE_CONFORMANCE, SKIP_REASON

conformance = pytest.mark.skipif(not HAVE_CONFORMANCE, reason=SKIP_REASON)


def offline(url: str) -> Fetched:
    raise FetchError(f"offline in tests: {url}")


def statuses(verdict) -> dict[str, str]:
    return {check.key: check.status for check in verdict.checks}


@pytest.fixture(autouse=True)
def _no_foreign_fetching(settings):
    settings.VERIFY_FETCH_FOREIGN = False


# ---- 1EdTech's validator's test credentials ---------------------------------------------------

# file → (overall verdict, {check: status}) as 1EdTech's OB30Tests expect: valid ones valid (the
# did:key one warns only that a did:key names no controller, which 1EdTech does not check),
# invalid ones failing on the probe 1EdTech's test names.
ONE_EDTECH = {
    # testSimpleJsonValid: the key is the verificationMethod's fragment (offline).
    "1edtech-validator-simple.json": (
        "valid",
        {"signature": PASS, "key_holder": PASS, "format": PASS, "dates": PASS},
    ),
    # testSimpleDidKeyMethodJsonValid: did:key resolves offline.
    "1edtech-validator-simple-did-key-method.json": (
        "warning",
        {"signature": PASS, "key_holder": WARN, "format": PASS},
    ),
    # testCompleteJsonValid: its 1EdTechRevocationList lives at 1edtech.edu (network) → a
    # warning that status could not be read; everything else passes.
    "1edtech-validator-complete.json": (
        "warning",
        {"signature": PASS, "key_holder": PASS, "format": PASS, "status": WARN},
    ),
    # testSimpleJsonInvalidProofValue (EmbeddedProofProbe).
    "1edtech-validator-simple-err-proof-value.json": ("invalid", {"signature": FAIL}),
    # testSimpleJsonSchemaError: no issuer (JsonSchemaProbe) — and so no one holds the key.
    "1edtech-validator-simple-err-issuer.json": ("invalid", {"format": FAIL, "key_holder": FAIL}),
    # testSimpleJsonInvalidUnknownType (TypePropertyProbe): the schema and the signature
    # (an undefined type cannot be canonicalised) both refuse it.
    "1edtech-validator-simple-err-type.json": ("invalid", {"format": FAIL, "signature": FAIL}),
    # testSimpleJsonContextError (ContextPropertyProbe): no VC context.
    "1edtech-validator-simple-err-context.json": ("invalid", {"format": FAIL, "signature": FAIL}),
    # testEndorsementValid: an endorsement's signature and key check out; its format is not a
    # badge's, so that row warns.
    "1edtech-validator-endorsement-valid.json": (
        "warning",
        {"signature": PASS, "key_holder": PASS, "format": WARN},
    ),
}


@conformance
@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ONE_EDTECH))
def test_1edtech_validator_credentials_get_1edtechs_verdicts(name):
    expected_status, expected_checks = ONE_EDTECH[name]
    verdict = verify_credential((EXAMPLES / name).read_bytes(), fetcher=offline)
    got = statuses(verdict)
    assert {k: got.get(k) for k in expected_checks} == expected_checks, verdict.checks
    assert verdict.status == expected_status, verdict.checks
    assert verdict.kind == "Open Badges 3.0"


@conformance
@pytest.mark.django_db
def test_1edtech_expired_and_tampered_variants():
    simple = json.loads((EXAMPLES / "1edtech-validator-simple.json").read_text())
    # The credential is valid until we move the clock past a validUntil it does not have: use
    # the dates row on its own instead (testSimpleJsonExpired's credential is signed with the
    # date inside; here the signature then fails too, which is right).
    expired = {**simple, "validUntil": "2011-01-01T00:00:00Z"}
    verdict = verify_credential(expired, fetcher=offline)
    assert statuses(verdict)["dates"] == FAIL
    assert statuses(verdict)["signature"] == FAIL  # validUntil was not in what was signed
    assert "expired on 1 January 2011" in verdict.check("dates").message


# ---- Our own credentials --------------------------------------------------------------------


@pytest.fixture
def award(space_a):
    return make_award(space_a)


def credential_of(award) -> dict:
    return publish.credential_for(award)


@pytest.mark.django_db
def test_our_live_credential_is_valid_without_any_network(award):
    credential = credential_of(award)
    assert credential["credentialStatus"]["type"] == "BitstringStatusListEntry"
    verdict = verify_credential(json.dumps(credential))
    assert verdict.status == "valid", verdict.checks
    assert statuses(verdict) == {
        "signature": PASS,
        "key_holder": PASS,
        "status": PASS,
        "dates": PASS,
        "format": PASS if HAVE_CONFORMANCE else WARN,
    }
    assert verdict.issuer_name == award.issuer_version.name
    assert verdict.name == award.badge_snapshot["name"]


@pytest.mark.django_db
def test_our_credential_after_revocation_is_revoked(award):
    credential = credential_of(award)
    revoke_award(award, reason="Awarded by mistake.")
    verdict = verify_credential(json.dumps(credential))
    assert verdict.status == "invalid"
    assert statuses(verdict)["status"] == FAIL
    assert statuses(verdict)["signature"] == PASS  # genuine, but withdrawn
    assert "revoked" in verdict.check("status").message
    assert "Awarded by mistake." in verdict.check("status").message


@pytest.mark.django_db
def test_the_status_list_bit_alone_reports_revocation(award, monkeypatch):
    """Not only our own records: the published Bitstring Status List is read and its bit
    honoured (as it is for anyone's credential)."""
    credential = credential_of(award)
    revoke_award(award)
    from badges.openbadges import verify as verify_module

    monkeypatch.setattr(verify_module, "_our_award", lambda _id: None)
    verdict = verify_credential(credential)
    assert statuses(verdict)["status"] == FAIL
    assert "Bit" in verdict.check("status").detail


@pytest.mark.django_db
def test_suspension_from_the_platform_state_and_reinstatement(award):
    """The credential does not carry a suspension; our records do (OB 3.0 and OB 2.0)."""
    from django.test import TestCase

    from badgeplatform.access import Access
    from badges.awards import award_reinstate, award_suspend

    credential = credential_of(award)
    assertion = publish.assertion_document(award)
    access = Access.system(award.space)
    with TestCase.captureOnCommitCallbacks(execute=True):
        award_suspend(access=access, award=award, actor=None, reason="Under review")
    award.refresh_from_db()
    verdict = verify_credential(credential)
    assert statuses(verdict)["status"] == FAIL
    assert "suspended" in verdict.check("status").message
    ob2 = verify_credential(assertion)
    assert statuses(ob2)["status"] == FAIL and "suspended" in ob2.check("status").message
    with TestCase.captureOnCommitCallbacks(execute=True):
        award_reinstate(access=access, award=award, actor=None)
    assert verify_credential(credential).status == "valid"


@pytest.mark.django_db
def test_a_tampered_credential_fails_its_signature(award):
    credential = credential_of(award)
    credential["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    verdict = verify_credential(credential)
    assert verdict.status == "invalid"
    assert statuses(verdict)["signature"] == FAIL
    assert "altered" in verdict.check("signature").message
    assert statuses(verdict)["key_holder"] == PASS


@pytest.mark.django_db
def test_a_key_another_issuer_holds_fails_the_key_holder_check(award, space_a):
    """Signed by a real, published key — but another issuer's: the signature verifies, and the
    key's controller is not the credential's issuer (1EdTech: "Key controller does not match
    issuer")."""
    other = Issuer.objects.get(pk=make_issuer(space_a, name="Someone Else").pk)
    unsigned = {k: v for k, v in credential_of(award).items() if k != "proof"}
    forged = keys.issuer_signer(other).sign(unsigned)
    verdict = verify_credential(forged)
    assert statuses(verdict)["signature"] == PASS
    assert statuses(verdict)["key_holder"] == FAIL
    assert verdict.status == "invalid"
    assert "someone other than the issuer" in verdict.check("key_holder").message


@pytest.mark.django_db
def test_an_expired_credential_fails_its_dates(award):
    unsigned = {k: v for k, v in credential_of(award).items() if k != "proof"}
    unsigned["validUntil"] = "2020-06-30T00:00:00Z"
    unsigned["validFrom"] = "2019-06-30T00:00:00Z"
    signed = keys.issuer_signer(award.issuer_version.issuer).sign(unsigned)
    verdict = verify_credential(signed)
    assert statuses(verdict)["signature"] == PASS
    assert statuses(verdict)["dates"] == FAIL
    assert verdict.check("dates").message == "It expired on 30 June 2020."
    not_yet = verify_credential(
        credential_of(award), now=datetime(2000, 1, 1, tzinfo=UTC), fetcher=fetching.fetch
    )
    assert "not valid yet" in not_yet.check("dates").message


@pytest.mark.django_db
def test_baked_png_of_ours_verifies(award):
    png = publish.baked_credential_png(award.public_id).body
    verdict = verify_credential(png)
    assert verdict.source == "a baked PNG image"
    assert verdict.status == "valid", verdict.checks


def svg_with(credential: dict) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" viewBox="0 0 10 10">'
        "<openbadges:credential><![CDATA["
        + json.dumps(credential)
        + "]]></openbadges:credential><circle cx='5' cy='5' r='4'/></svg>"
    ).encode()


@pytest.mark.django_db
def test_baked_svg_of_ours_verifies_and_a_tampered_one_does_not(award):
    credential = credential_of(award)
    verdict = verify_credential(svg_with(credential))
    assert verdict.source == "a baked SVG image"
    assert verdict.status == "valid", verdict.checks
    credential["validFrom"] = "2001-01-01T00:00:00Z"
    assert statuses(verify_credential(svg_with(credential)))["signature"] == FAIL


def tiny_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (4, 4), "#2f6fde").save(out, "PNG")
    return out.getvalue()


@conformance
@pytest.mark.django_db
def test_1edtech_credential_baked_in_png_and_svg():
    """1EdTech's simple credential baked the ways its simple-json.png / .svg are: anyone's
    badge image verifies, not only ours."""
    text = (EXAMPLES / "1edtech-validator-simple.json").read_text()
    png = baking.bake(tiny_png(), baking.OB3_KEYWORD, text)
    assert verify_credential(png, fetcher=offline).status == "valid"
    assert verify_credential(svg_with(json.loads(text)), fetcher=offline).status == "valid"


# ---- OB 2.0 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_our_ob2_assertion_hosted_verification_and_revocation(award):
    assertion = publish.assertion_document(award)
    verdict = verify_credential(json.dumps(assertion))
    assert verdict.kind == "Open Badges 2.0"
    assert statuses(verdict) == {"hosted": PASS, "status": PASS, "dates": PASS}
    assert verdict.name == award.badge_snapshot["name"]
    assert verdict.issuer_name == award.issuer_version.name

    # A copy that differs from the hosted one is refused.
    altered = {**assertion, "issuedOn": "2001-01-01T00:00:00Z"}
    assert statuses(verify_credential(altered))["hosted"] == FAIL

    revoke_award(award, reason="Cheated.")
    revoked = verify_credential(json.dumps(assertion))
    assert revoked.status == "invalid"
    assert statuses(revoked)["status"] == FAIL
    assert "Cheated." in revoked.check("status").message


@pytest.mark.django_db
def test_ob2_baked_png_and_the_hosted_url_alone(award):
    from badges import links

    png = publish.baked_assertion_png(award.public_id).body
    assert verify_credential(png).status == "valid"
    by_url = verify_credential(links.assertion_url(award))
    assert by_url.status == "valid" and by_url.kind == "Open Badges 2.0"


@pytest.mark.django_db
def test_recipient_email_check_on_hashed_identities(award):
    email = award.recipient_email
    ob2 = verify_credential(publish.assertion_document(award), email=email.upper())
    assert statuses(ob2)["recipient"] == PASS
    ob3 = verify_credential(credential_of(award), email="someone@else.example")
    assert statuses(ob3)["recipient"] == FAIL
    assert "not awarded to someone@else.example" in ob3.check("recipient").message
    assert recipient_check([], "") is None  # no email typed: no row


# ---- JWT (compact JWS, EdDSA) and did:key -----------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jws(credential: dict, seed: bytes, kid: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    head = _b64(json.dumps({"alg": "EdDSA", "kid": kid, "typ": "vc+jwt"}).encode())
    body = _b64(json.dumps(credential).encode())
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{_b64(signature)}"


@pytest.mark.django_db
def test_a_jwt_signed_with_a_did_key(award):
    seed, public = signing.generate_keypair()
    did = "did:key:" + signing.public_key_multibase(public)
    unsigned = {k: v for k, v in credential_of(award).items() if k != "proof"}
    unsigned["issuer"] = {**unsigned["issuer"], "id": did}
    token = jws(unsigned, seed, f"{did}#{did.removeprefix('did:key:')}")
    verdict = verify_credential(token)
    assert verdict.source == "pasted text"
    assert statuses(verdict)["signature"] == PASS
    assert statuses(verdict)["key_holder"] == PASS  # the issuer is the did:key itself
    head, _body, sig = token.split(".")
    other = _b64(json.dumps({**unsigned, "name": "Forged"}).encode())
    assert statuses(verify_credential(f"{head}.{other}.{sig}"))["signature"] == FAIL


# ---- Foreign keys through the fetcher ---------------------------------------------------------


def test_did_web_key_resolution_and_controller():
    from badges.openbadges.verify import KeyNotFound, resolve_key

    _seed, public = signing.generate_keypair()
    multibase = signing.public_key_multibase(public)
    did = "did:web:issuer.example:org:7"
    method = f"{did}#key-1"
    document = {
        "id": did,
        "verificationMethod": [
            {"id": method, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
        ],
        "assertionMethod": [method],
    }
    asked = []

    def fetcher(url):
        asked.append(url)
        return Fetched(url, 200, json.dumps(document).encode())

    key = resolve_key(method, fetcher)
    assert asked == ["https://issuer.example/org/7/did.json"]
    assert key.public == public and key.controller == did
    # Not an assertion method of the DID: refused.
    document["assertionMethod"] = []
    with pytest.raises(KeyNotFound):
        resolve_key(method, fetcher)
    # No path: /.well-known/did.json.
    document["assertionMethod"] = ["did:web:issuer.example#key-1"]
    document["verificationMethod"][0]["id"] = "did:web:issuer.example#key-1"
    resolve_key("did:web:issuer.example#key-1", fetcher)
    assert asked[-1] == "https://issuer.example/.well-known/did.json"


def test_https_key_document_resolution():
    from badges.openbadges.verify import resolve_key

    _seed, public = signing.generate_keypair()
    url = "https://issuer.example/keys/1"
    document = {
        "id": url,
        "type": "Multikey",
        "controller": "https://issuer.example/issuer",
        "publicKeyMultibase": signing.public_key_multibase(public),
    }
    key = resolve_key(url, lambda u: Fetched(u, 200, json.dumps(document).encode()))
    assert key.public == public and key.controller == "https://issuer.example/issuer"


@pytest.mark.parametrize(
    "method",
    ["z6MkrvfzkMnvCroEUP2DVc9SHPE48CRsvHiVSusHioxTYu1x", "xxx:z6Mk", "did:example:z6Mk", ""],
)
def test_unusable_verification_methods_fail_the_signature_with_a_reason(method):
    from badges.openbadges.verify import KeyNotFound, resolve_key

    with pytest.raises(KeyNotFound):
        resolve_key(method, offline)


# ---- Garbage in: a clear message, never a crash ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("hello there", "not an Open Badge"),
        ("", "Nothing was pasted"),
        ('{"oops": ', "not valid JSON"),
        ("[1, 2]", "not an Open Badge"),
        ('{"name": "x"}', "not an Open Badge"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "PNG image could not be read"),
        (b"\x00\xff\xfe binary", "neither a PNG or SVG"),
        (b"<svg><unclosed></svg>", "not well-formed"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "carries no badge"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]><svg>&a;</svg>", "could not be read"),
        ("aaa.bbb.ccc", "JWT could not be decoded"),
    ],
)
def test_garbage_gets_a_clear_message(data, words):
    with pytest.raises(UnreadableInput) as caught:
        verify_credential(data, fetcher=offline)
    assert words in str(caught.value)


@pytest.mark.django_db
def test_a_png_without_a_baked_badge(award):
    with pytest.raises(UnreadableInput, match="carries no badge"):
        verify_credential(tiny_png())


# ---- The fetcher --------------------------------------------------------------------------


@pytest.mark.django_db
def test_our_own_urls_are_answered_locally_without_http(award, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("our own URL went to the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    from badges import links

    fetched = fetching.fetch(links.credential_url(award))
    assert fetched.local and fetched.status == 200
    assert json.loads(fetched.body)["id"] == links.credential_url(award)
    # Only public views are reachable that way.
    assert fetching.fetch(links._url("/backpack/")).status == 404


@override_settings(VERIFY_FETCH_FOREIGN=True)
@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://issuer.example/key", "Only https"),
        ("https://issuer.example:8443/key", "port"),
        ("https://user:pw@issuer.example/key", "plain https"),
    ],
)
def test_the_fetcher_refuses_unsafe_urls(url, words):
    with pytest.raises(FetchError, match=words):
        fetching.fetch(url)


@override_settings(VERIFY_FETCH_FOREIGN=True)
@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1"])
def test_the_fetcher_refuses_private_addresses_after_dns(monkeypatch, address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(family, socket.SOCK_STREAM, 6, "", (address, 443))],
    )
    connected = []
    monkeypatch.setattr(
        fetching.urllib3, "HTTPSConnectionPool", lambda *a, **k: connected.append(a)
    )
    with pytest.raises(FetchError, match="private or reserved"):
        fetching.fetch("https://rebind.example/key")
    assert connected == []


def test_the_fetcher_connects_to_the_checked_address_and_caps_the_body(monkeypatch, settings):
    settings.VERIFY_FETCH_FOREIGN = True
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))],
    )
    seen = {}

    class Response:
        status = 200
        headers = {}

        def __init__(self, body):
            self.body = body

        def read(self, n):
            return self.body[:n]

        def release_conn(self):
            pass

    class Pool:
        def __init__(self, host, **kwargs):
            seen.update(host=host, **kwargs)

        def urlopen(self, method, path, **kwargs):
            seen.update(path=path, headers=kwargs["headers"], redirect=kwargs["redirect"])
            return Response(seen.get("body", b'{"ok": true}'))

        def close(self):
            pass

    monkeypatch.setattr(fetching.urllib3, "HTTPSConnectionPool", Pool)
    fetched = fetching.fetch("https://issuer.example/keys/1?v=2#frag")
    assert fetched.body == b'{"ok": true}' and not fetched.local
    assert seen["host"] == "93.184.215.14"  # the address that was checked
    assert seen["server_hostname"] == seen["assert_hostname"] == "issuer.example"
    assert seen["headers"]["Host"] == "issuer.example" and seen["path"] == "/keys/1?v=2"
    assert seen["redirect"] is False and seen["retries"] is False
    seen["body"] = b"x" * (fetching.MAX_BYTES + 1)
    with pytest.raises(FetchError, match="larger than"):
        fetching.fetch("https://issuer.example/big")


def test_foreign_fetching_can_be_switched_off():
    with pytest.raises(FetchError, match="does not fetch"):
        fetching.fetch("https://issuer.example/key")


def test_now_is_timezone_aware_for_dates():
    from badges.openbadges.verify import dates_check

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert dates_check("2025-01-01T00:00:00", None, now).status == PASS
    assert dates_check("not a date", None, now).status == FAIL
    assert dates_check(None, (now - timedelta(days=1)).isoformat(), now).status == FAIL
    assert copy.copy(dates_check(None, None, now)).message == "It does not expire."


@pytest.mark.django_db
def test_our_served_baked_svg_verifies(award):
    """The SVG the backpack offers (publish.baked_credential_svg, OB 3.0 baking)."""
    svg = publish.baked_credential_svg(award.public_id).body
    verdict = verify_credential(svg)
    assert verdict.source == "a baked SVG image"
    assert verdict.status == "valid", verdict.checks
