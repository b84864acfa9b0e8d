"""1EdTech's own Open Badges 2.0 validator (the ``openbadges`` package) on what we host.

The validator runs in its own virtualenv (tests/badges/ob2validator) and fetches the
assertion, BadgeClass, Issuer Profile and images over HTTP from the live test server, the way
any verifier on the web would; only the OB 2.0 JSON-LD context is served from the local
conformance copy (there is no network here).
"""

import pytest
from PIL import Image

from badges import links
from badges.models import BadgeAttribute
from tests.badges.ob2validator import validate
from tests.factories import make_award, make_badge, revoke_award

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


def errors(result: dict) -> list[str]:
    return [m["result"] for m in result["report"]["messages"] if m["messageLevel"] == "ERROR"]


def test_hosted_assertion_passes_the_1edtech_validator(site, space_a):
    badge = make_badge(
        space_a, expiry_amount=2, expiry_unit="years", criteria_url="https://acme.example/c"
    )
    BadgeAttribute.objects.create(space=space_a, badge=badge, key="Level", value="2")
    award = make_award(space_a, badge=badge)
    result = validate(links.assertion_url(award), origin=site)
    assert result["refused"] == [], "the validator tried to leave the test server"
    assert result["report"]["valid"] is True, errors(result)
    assert result["report"]["errorCount"] == 0, errors(result)
    assert result["report"]["openBadgesVersion"] == "2.0"
    # It really walked the chain over HTTP: assertion → BadgeClass → Issuer (and the image).
    fetched = {f["url"] for f in result["fetched"]}
    assert links.assertion_url(award) in fetched
    assert any("/public/badges/" in url for url in fetched)
    assert links.issuer_url(award.issuer_version) in fetched
    types = {node.get("type") for node in result["graph"]}
    assert {"Assertion", "BadgeClass", "Issuer"} <= types


def test_baked_png_passes_the_1edtech_validator(site, space_a, client, tmp_path):
    award = make_award(space_a)
    response = client.get(links.baked_image_url(award))
    assert response.status_code == 200
    path = tmp_path / "baked.png"
    path.write_bytes(response.content)
    assert Image.open(path).format == "PNG"
    result = validate(str(path), origin=site)
    assert result["refused"] == []
    assert result["report"]["valid"] is True, errors(result)
    assert result["report"]["validationSubject"] == links.assertion_url(award)


def test_revoked_assertion_fails_the_1edtech_validator(site, space_a):
    award = make_award(space_a)
    revoke_award(award)
    result = validate(links.assertion_url(award), origin=site)
    assert result["report"]["valid"] is False
    # It was told so the OB 2.0 way: 410 Gone for the hosted assertion.
    assert result["fetched"][0]["status"] == 410


def test_evidence_alignment_and_tags_pass_the_1edtech_validator(site, space_a):
    """The OB 2.0 equivalents of the OB 3.0 fields: evidence[] on the assertion, alignment[]
    and tags on the BadgeClass."""
    from badgeplatform.access import Access
    from badges.evidence import evidence_clean
    from badges.issuing import RecipientInput, awards_issue
    from tests.factories import add_member

    badge = make_badge(
        space_a,
        alignments=[
            {"name": "Manage data", "url": f"{site}/esco/1", "framework": "ESCO", "code": "S1"},
            {"name": "Python", "url": f"{site}/case/2"},
        ],
        tags=["python", "data"],
    )
    evidence = evidence_clean(
        [{"Narrative": "Built a pipeline.", "Url": f"{site}/work/1", "Name": "Repo"}]
        + [{"Narrative": "Presented it."}]
    )
    _, [outcome] = awards_issue(
        access=Access.system(space_a),
        badge=badge,
        recipients=[RecipientInput(user=add_member(space_a), evidence=evidence)],
        notify=False,
    )
    result = validate(links.assertion_url(outcome.award), origin=site)
    assert result["report"]["valid"] is True, errors(result)
    assert result["report"]["errorCount"] == 0, errors(result)
    nodes = {node.get("type"): node for node in result["graph"]}
    assert nodes["Assertion"]["evidence"]
    assert nodes["BadgeClass"]["tags"] == ["python", "data"]
