"""The role × action matrix (tests/core/role_matrix.py) checked against real answers.

One world is built per test module (and xdist worker) inside a transaction that is rolled back
at the end; every request runs in its own savepoint, rolled back after it, so a POST that
publishes, deletes or revokes leaves the next case the same world.
"""

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

from api.services import apikey_create
from badgeplatform.access import space_view
from badgeplatform.permissions import SPACE_ADMINISTRATOR, USER_ROLE, Perm
from tests.core import role_matrix as m
from tests.factories import (
    GroupFactory,
    OrganisationFactory,
    UserFactory,
    add_member,
    make_application,
    make_award,
    make_badge,
    make_claim_link,
    make_graphic,
    make_idp,
    make_role,
    make_rule,
    make_space,
    make_webhook,
    make_webhook_message,
    member_of,
    png_bytes,
    put_on_plan,
    space_admin,
)

MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _person(space, organisation, name: str):
    return add_member(
        space,
        UserFactory(username=name.lower().replace(" ", "-"), first_name=name, last_name="Person"),
        organisation=organisation,
    )


def build_world(out: str) -> m.World:
    from badges.models import StatusListEntry
    from badges.openbadges.keys import signing_key_for
    from badges.openbadges.publish import badgeclass_version_for

    # On the plan with every feature: plan limits are not what the matrix is about.
    space = put_on_plan(make_space("Matrix University", "matrix"), "white-label")
    other = make_space("Other Space", "matrix-other")
    root = space.root_organisation
    branch = OrganisationFactory(space=space, name="Branch")
    team = OrganisationFactory(space=space, parent=branch, name="Branch team")
    elsewhere = OrganisationFactory(space=space, name=f"Elsewhere {out}")
    for node in (branch, team, elsewhere):
        node.refresh_from_db()
    branch_group = GroupFactory(space=space, organisation=branch, name="Branch cohort")
    else_group = GroupFactory(space=space, organisation=elsewhere, name=f"Choir {out}")

    users = {"Space Administrator": space_admin(space)}
    for name in ("Organisation Administrator", "Badge Creator", "Badge Issuer", "Reporter"):
        users[name] = add_member(space, role_name=name, organisation=branch)
    users["Group Administrator"] = add_member(
        space, role_name="Group Administrator", group=branch_group
    )
    users["User"] = add_member(space, role_name=USER_ROLE, organisation=branch)
    roles_manager = make_role(space, "Roles manager", [Perm.MANAGE_ROLES])
    branch_ir = make_role(space, "Branch issuer+reports", [Perm.ISSUE_BADGES, Perm.VIEW_REPORTS])
    users["Roles manager"] = add_member(space, role_name=roles_manager.name, organisation=root)
    users["Branch issuer+reports"] = add_member(
        space, role_name=branch_ir.name, organisation=branch
    )
    users["Recipient"] = add_member(space, role_name=USER_ROLE, organisation=elsewhere)

    person_in = _person(space, team, "Insider")
    person_out = _person(space, elsewhere, f"Outsider {out}")
    badge_in = make_badge(space, organisation=branch, name="Inside badge")
    badge_out = make_badge(space, organisation=elsewhere, name=f"Badge {out}")
    award_in = make_award(space, badge=badge_in, recipient=person_in)
    award_out = make_award(space, badge=badge_out, recipient=person_out)
    own_award = make_award(space, badge=badge_out, recipient=users["Recipient"])
    rule_in = make_rule(space, organisation=branch, badge=badge_in, name="Inside rule")
    rule_out = make_rule(space, organisation=elsewhere, badge=badge_out, name=f"Rule {out}")
    # A rule in Branch awarding Elsewhere's badge, as could be saved before hole 2 was closed.
    rule_escape = make_rule(space, organisation=branch, badge=badge_out, name="Escape rule")
    role_in = make_role(space, "Role keepers", [Perm.MANAGE_ROLES])
    role_out = make_role(space, "Readers", [Perm.VIEW_REPORTS])
    key_in = apikey_create(space=space, name="Branch LMS", organisation=branch)
    key_out = apikey_create(space=space, name=f"LMS {out}", organisation=elsewhere)
    space_key = apikey_create(space=space, name="Whole space")
    other_key = apikey_create(space=other, name="Other")
    # Graphics belong to the whole space: anyone keeping the library sees both.
    graphic_in, graphic_out = make_graphic(space, "Inside graphic"), make_graphic(space, "Other")
    version = badgeclass_version_for(award_in)
    # Webhook endpoints belong to the whole space (like API keys); the other space's, unseen.
    hook_in, hook_out = make_webhook(space), make_webhook(space, url="https://b.example.com/")
    hook_other = make_webhook(other)
    message_in = make_webhook_message(space, endpoint=hook_in)
    message_out = make_webhook_message(space, endpoint=hook_out)
    idp_in = make_idp(space, kind="saml")
    idp_out = make_idp(space, kind="saml", name="Other IdP")
    # Claim links and applications (issue 17), inside Branch and in Elsewhere.
    from django.core.files.base import ContentFile

    from badgeplatform.access import Access
    from badges.applications import application_approve
    from badges.claims import claim_start, confirm_token

    link_in = make_claim_link(space, badge=badge_in, name="Inside link")
    link_out = make_claim_link(space, badge=badge_out, name=f"Link {out}")
    claim = claim_start(link=link_in, email="visitor@example.test", first_name="Vi", last_name="S")
    application_in, application_out = (
        make_application(
            space, badge=b, applicant=p, upload=ContentFile(png_bytes(), name="evidence.png")
        )
        for b, p in ((badge_in, person_in), (badge_out, person_out))
    )
    approved = application_approve(
        access=Access.system(space),
        application=make_application(
            space,
            badge=badge_in,
            applicant=users["User"],
            upload=ContentFile(png_bytes(), name="evidence.png"),
        ),
        actor=None,
    )
    application_token = "not-a-token"

    def both(inside, outside, inside_place="branch"):
        return {m.INSIDE: (inside, inside_place), m.OUTSIDE: (outside, "elsewhere")}

    objects = {
        "org_id": both(team.pk, elsewhere.pk),
        "group_id": both(branch_group.pk, else_group.pk, "branch_group"),
        "badge_id": both(badge_in.pk, badge_out.pk),
        "batch_id": both(award_in.batch_id, award_out.batch_id),
        "award_id": both(award_in.pk, award_out.pk),
        "user_id": both(person_in.pk, person_out.pk),
        "person_id": both(person_in.public_id, person_out.public_id),  # (an opaque id)
        "member_id": both(member_of(space, person_in).pk, member_of(space, person_out).pk),
        # Space-level objects: roles, graphics and API keys belong to no organisation.
        "role_id": {m.INSIDE: (role_in.pk, None), m.OUTSIDE: (role_out.pk, None)},
        "graphic_id": {m.INSIDE: (graphic_in.pk, None), m.OUTSIDE: (graphic_out.pk, None)},
        "key_id": {m.INSIDE: (key_in.key.pk, None), m.OUTSIDE: (key_out.key.pk, None)},
        "endpoint_id": {m.INSIDE: (hook_in.pk, None), m.OUTSIDE: (hook_out.pk, None)},
        "message_id": {m.INSIDE: (message_in.pk, None), m.OUTSIDE: (message_out.pk, None)},
        "idp_id": {m.INSIDE: (idp_in.pk, None), m.OUTSIDE: (idp_out.pk, None)},
        "link_id": both(link_in.pk, link_out.pk),
        "application_id": both(application_in.pk, application_out.pk),
        # The rule_id pages also get the Branch rule that awards Elsewhere's badge: reachable
        # (it is Branch's), but its pages must not show what lies in Elsewhere.
        "rule_id": {**both(rule_in.pk, rule_out.pk), "escape": (rule_escape.pk, "branch")},
        "issuer_id": both(badge_in.issuer_id, badge_out.issuer_id),
        # The backpack: the recipient's own award, and somebody else's.
        "backpack:award_id": {
            m.INSIDE: (own_award.public_id, None),
            m.OUTSIDE: (award_in.public_id, None),
        },
    }
    public_objects = {
        "award_id": award_in.public_id,
        "badge_id": badge_in.public_id,
        "digest": version.digest,
        "version_id": award_in.issuer_version.public_id,
        "profile_id": badge_in.issuer.public_id,  # the issuer's stable id
        "key_id": signing_key_for(badge_in.issuer).public_id,
        "space_id": space.public_id,
        "list_id": StatusListEntry.objects.get(award=award_in).status_list.public_id,
        "target": "linkedin",
        "path": graphic_in.image.name,
        "provider_id": make_idp(space, issuer_url="http://127.0.0.1:9").provider_id,
        "organization_slug": make_idp(space, kind="saml", name="SAML").provider_id,
        "uidb64": "MQ",
        "token": "not-a-token",
        "claim:page.token": link_in.token,
        "claim:confirm.token": confirm_token(claim),
        "apply:confirm.token": application_token,
        "public:evidence_file.application_id": approved.public_id,
    }
    world = m.World(
        space=space,
        other_space=other,
        users=users,
        objects=objects,
        public_objects=public_objects,
        query_objects={"badge": both(str(badge_in.pk), str(badge_out.pk))},
    )
    world.outside_marker = out
    world.api_tokens = {
        "branch key": (key_in.key.developer_key, key_in.token),
        "space key": (space_key.key.developer_key, space_key.token),
        "other space key": (other_key.key.developer_key, other_key.token),
    }
    world.api_ids = {
        "badge": {m.INSIDE: str(badge_in.public_id), m.OUTSIDE: str(badge_out.public_id)},
        "rule": {
            m.INSIDE: str(rule_in.public_id),
            m.OUTSIDE: str(rule_out.public_id),
            "escape": str(rule_escape.public_id),
        },
        "award": {m.INSIDE: str(award_in.public_id), m.OUTSIDE: str(award_out.public_id)},
        "webhook": {m.INSIDE: str(hook_in.public_id), "other": str(hook_other.public_id)},
        "activity": {
            m.INSIDE: str(badge_in.public_id),
            m.OUTSIDE: str(badge_out.public_id),
            "escape": rule_escape.activity_id,
        },
    }
    assert SPACE_ADMINISTRATOR in m.ACTOR_NAMES
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=MD5),
        transaction.atomic(),
    ):
        built = build_world("ZZOUTSIDE")
        built.media_root = media
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def matrix_world(world, db, settings):
    settings.MEDIA_ROOT = world.media_root
    return world


ROUTES = {r.name: r for r in m.app_routes() if r.name}


def test_every_url_of_the_app_has_an_entry_in_the_matrix():
    missing = m.missing_entries(m.app_routes())
    assert not missing, "URLs missing from the role matrix:\n" + "\n".join(missing)


def test_the_matrix_names_no_url_that_does_not_exist():
    assert not set(m.TABLE) - set(ROUTES), set(m.TABLE) - set(ROUTES)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_matrix(matrix_world, name):
    routes = [r for r in m.app_routes() if r.name == name]
    wrong = [line for route in routes for line in m.check_route(route, matrix_world)]
    assert not wrong, f"{len(wrong)} answers differ from the matrix:\n" + "\n".join(wrong)


# ---- The test of the test: an unprotected URL is caught ----------------------------------


@space_view(None)
def leaky_badge(request, badge_id: int):
    """Declared as a tenant view but checks nothing: any member reads any badge's name."""
    from badges.models import Badge

    return HttpResponse(Badge.objects.get(space=request.space, pk=badge_id).name)


@space_view(Perm.ISSUE_BADGES)
def leaky_list(request):
    """Checks the permission but lists every badge of the space, whatever the reach."""
    from badges.models import Badge

    return HttpResponse(", ".join(b.name for b in Badge.objects.filter(space=request.space)))


def _leaky_urlconf():
    from badgeplatform import urls as root

    return [
        *root.urlpatterns,
        path("s/<slug:space_slug>/leak/<int:badge_id>/", leaky_badge, name="matrix_leak"),
        path("s/<slug:space_slug>/leak-list/", leaky_list, name="matrix_leak_list"),
    ]


urlpatterns = _leaky_urlconf()


@pytest.fixture
def leaky_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_a_new_url_without_an_entry_is_reported(leaky_urls):
    missing = m.missing_entries(m.app_routes())
    assert len(missing) == 2, missing
    assert "'matrix_leak'" in missing[0] and "'matrix_leak_list'" in missing[1], missing
    assert "add it to TABLE" in missing[0]


def test_an_unprotected_url_fails_the_matrix(leaky_urls, matrix_world):
    route = next(r for r in m.app_routes() if r.name == "matrix_leak")
    # Without an entry, the check says so.
    assert m.check_route(route, matrix_world) == m.missing_entries([route])
    # With the entry its author meant (a badge page for those who see badges), the check
    # reports every actor the view let through.
    table = {**m.TABLE, "matrix_leak": m.space(*m.SEE_BADGES)}
    wrong = m.check_route(route, matrix_world, table)
    assert any("[Reporter, inside]" in w and "→ ok (expected 403)" in w for w in wrong), wrong
    assert any("[Badge Issuer, outside]" in w and "→ ok (expected 404)" in w for w in wrong), wrong
    assert any("[Recipient, outside]" in w for w in wrong), wrong
    # And the actors it should serve are not reported.
    assert not any("[Space Administrator" in w or "[Anonymous" in w for w in wrong), wrong


def test_a_list_showing_what_lies_outside_ones_reach_fails_the_matrix(leaky_urls, matrix_world):
    route = next(r for r in m.app_routes() if r.name == "matrix_leak_list")
    table = {**m.TABLE, "matrix_leak_list": m.space(Perm.ISSUE_BADGES)}
    wrong = m.check_route(route, matrix_world, table)
    # The statuses are right (the permission is checked); what the page shows is not.
    assert not any("→" in w for w in wrong), wrong
    shown = sorted(w.split(" GET ")[0] for w in wrong)
    assert shown == [
        "matrix_leak_list [Badge Issuer]",
        "matrix_leak_list [Branch issuer+reports]",
        "matrix_leak_list [Organisation Administrator]",
    ], wrong
