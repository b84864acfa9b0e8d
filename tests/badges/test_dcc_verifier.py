"""The Digital Credentials Consortium's verifier (the Learner Credential Wallet's), run with
node on live awards of ours, offline: it fetches the key, the issuer's profile and the status
list from the test's live server, nothing from the internet.

An award issued through the issuing service verifies (proof valid, the key's controller is
the issuer, the OB 3.0 schema passes); revoked through the revoke service it reads as revoked
from the Bitstring Status List; after a key rotation both the new and the old credential
verify; a tampered credential, or one claiming an issuer that does not control the key, is
invalid. The verifier's answers before and after revocation are written to
test-artifacts/dcc-verifier-*.json.

``registered_issuer`` is false throughout: no trusted-issuer registry is given (the issue's
"issuer not in a known registry" notice), which is not a failure.
"""

import copy
import json
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from badgeplatform.access import Access
from badges import links
from badges.models import SigningKey
from badges.openbadges import keys
from badges.openbadges.signing import sign_credential
from tests.badges.dcc import steps, verify
from tests.factories import make_award, make_badge, make_issuer, revoke_award
from tests.openbadges_reference import HAVE_CONFORMANCE, SKIP_REASON, ref_verify

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAVE_CONFORMANCE, reason=SKIP_REASON),
]


@pytest.fixture
def server(live_server, settings):
    # Ids inside credentials are built from SITE_URL: make them the live server's.
    settings.SITE_URL = live_server.url
    return live_server.url


def download(url: str) -> bytes:
    """What a wallet does with a shared link: GET the public URL."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (the live server)
        assert response.status == 200
        return response.read()


def save(name: str, answer: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"dcc-verifier-{name}.json").write_text(json.dumps(answer, indent=2) + "\n")


def assert_verifies(answer: dict, *, server: str, revoked: bool = False) -> None:
    result = answer["result"]
    assert "errors" not in result, result
    log = steps(answer)
    assert log["valid_signature"]["valid"] is True
    assert log["expiration"]["valid"] is True
    assert log["revocation_status"]["valid"] is (not revoked)
    # Not in any registry (none given): the expected notice, not a failure.
    assert log["registered_issuer"] == {
        "id": "registered_issuer",
        "valid": False,
        "matchingIssuers": [],
        "uncheckedRegistries": [],
    }
    (schema,) = result["additionalInformation"][0]["results"]
    assert schema["result"] == {"valid": True}, schema
    # Offline: our documents came from the live server, nothing else was asked for.
    assert answer["refused"] == []
    fetched = {entry["url"] for entry in answer["served"] if entry["from"] == "server"}
    assert fetched and all(url.startswith(server) for url in fetched)


def test_a_live_award_verifies_and_reads_revoked_after_revocation(server, space_a):
    award = make_award(space_a)
    body = download(links.credential_url(award))
    credential = json.loads(body)
    issuer_id = credential["issuer"]["id"]
    method = credential["proof"][0]["verificationMethod"]
    status_list = credential["credentialStatus"]["statusListCredential"]

    before = verify(body, server=server)
    save("before-revocation", before)
    assert_verifies(before, server=server)
    fetched = {entry["url"] for entry in before["served"]}
    # It dereferenced the key, its controller (the issuer id) and the status list.
    assert {method, issuer_id, status_list} <= fetched

    revoke_award(award, reason="Awarded by mistake.")
    # The same bytes as before: a signed credential never changes, its status list does.
    assert download(links.credential_url(award)) == body
    after = verify(body, server=server)
    save("after-revocation", after)
    assert_verifies(after, server=server, revoked=True)


def test_after_a_key_rotation_old_and_new_credentials_verify(server, space_a, admin_a):
    badge = make_badge(space_a)
    old = json.loads(download(links.credential_url(make_award(space_a, badge=badge))))
    keys.issuer_key_rotate(access=Access.system(space_a), issuer=badge.issuer, actor=admin_a)
    new = json.loads(download(links.credential_url(make_award(space_a, badge=badge))))

    old_method = old["proof"][0]["verificationMethod"]
    new_method = new["proof"][0]["verificationMethod"]
    assert old_method != new_method
    assert SigningKey.objects.get(issuer=badge.issuer, retired_at__isnull=False).public_id
    assert new["issuer"]["id"] == old["issuer"]["id"]  # one issuer, two keys

    for credential, method in ((new, new_method), (old, old_method)):
        answer = verify(credential, server=server)
        assert_verifies(answer, server=server)
        assert method in {entry["url"] for entry in answer["served"]}


def test_a_tampered_credential_is_invalid(server, space_a):
    credential = json.loads(download(links.credential_url(make_award(space_a))))
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    answer = verify(tampered, server=server)
    assert answer["result"]["errors"] == [
        {"name": "invalid_signature", "message": "The signature is not valid."}
    ]
    assert "log" not in answer["result"]
    # The untouched credential, for contrast, verifies.
    assert_verifies(verify(credential, server=server), server=server)


def test_a_key_that_the_named_issuer_does_not_control_is_refused(server, space_a):
    """Signed correctly with issuer A's key, but claiming issuer B: the verifier's key-controller
    rule (the reason it rejected our credentials before keys were bound to issuers)."""
    award = make_award(space_a)
    credential = json.loads(download(links.credential_url(award)))
    other = make_issuer(space_a, name="Someone Else")
    claimed = {k: v for k, v in credential.items() if k != "proof"}
    claimed["issuer"] = {**claimed["issuer"], "id": links.issuer_id_url(other)}
    key = keys.signing_key_for(award.issuer_version.issuer)
    forged = sign_credential(
        claimed,
        private_key=keys.private_key(key),
        verification_method=links.signing_key_url(key),
        created=timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    # The signature itself is sound (the independent check passes): only the controller rule
    # can refuse it.
    assert ref_verify(forged, keys.public_key(key))
    answer = verify(forged, server=server)
    assert answer["result"]["errors"] == [
        {"name": "invalid_signature", "message": "The signature is not valid."}
    ]
