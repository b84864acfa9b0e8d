"""The dashboard, one per person: each default role sees what its permissions cover, and every
link on it opens (200) for that person."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.permissions import DEFAULT_ROLES, SPACE_ADMINISTRATOR
from badges.issuing import RecipientInput, awards_issue
from tests.factories import (
    GroupFactory,
    OrganisationFactory,
    UserFactory,
    add_member,
    make_award_at,
    make_badge,
)

pytestmark = pytest.mark.django_db


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links_on(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def test_dashboard_counts_and_checklist_follow_the_space(client_a, space_a, member_a):
    url = reverse("dashboard", args=[space_a.slug])
    response = client_a.get(url)
    assert response.context["stats"]["awards"] == 0
    badge = make_badge(space_a)
    awards_issue(
        access=Access.system(badge.space), badge=badge, recipients=[RecipientInput(user=member_a)]
    )
    response = client_a.get(url)
    stats = response.context["stats"]
    assert (stats["published_badges"], stats["awards"], stats["awards_this_month"]) == (1, 1, 1)
    assert stats["members"] == 2
    done = {item["title"]: item["done"] for item in response.context["checklist"]}
    assert done == {
        "Create your space": True,
        "Build your organisation tree": False,
        "Invite your colleagues": True,
        "Describe who issues your badges": True,  # make_badge made an issuer
        "Design and publish your first badge": True,
        "Issue it": True,
    }


def test_every_checklist_item_links_to_where_it_is_done(client_a, space_a):
    response = client_a.get(reverse("dashboard", args=[space_a.slug]))
    slug = space_a.slug
    assert [(i["title"], i["url"]) for i in response.context["checklist"]] == [
        ("Create your space", reverse("branding:branding", args=[slug])),
        ("Build your organisation tree", reverse("orgs:tree", args=[slug])),
        ("Invite your colleagues", reverse("users:create", args=[slug])),
        ("Describe who issues your badges", reverse("issuers:create", args=[slug])),
        ("Design and publish your first badge", reverse("badges:create", args=[slug])),
        ("Issue it", reverse("issuing:start", args=[slug])),
    ]
    html = response.content.decode()
    for item in response.context["checklist"]:
        assert f'href="{item["url"]}"' in html


@pytest.mark.parametrize("extra", [1, 12])
def test_dashboard_query_count_does_not_grow(client_a, space_a, extra, django_assert_num_queries):
    for _ in range(extra):
        badge = make_badge(space_a, name=f"Badge {_}")
        make_award_at(badge, add_member(space_a), timezone.now() - timedelta(days=1))
    # session, user, space, member, memberships, 5 counts (organisations, members, issuers,
    # published badges, awards with this month's), the person's recent and expiring awards,
    # the badges they can issue, recent batches, the awards they issue that expire soon, the
    # root organisation (checklist), the user's spaces (space switcher), what waits for the
    # person (claims and applications, one query) and the applications waiting for a reviewer
    # (one count)
    with django_assert_num_queries(19):
        client_a.get(reverse("dashboard", args=[space_a.slug]))


# ---- Every default role ----------------------------------------------------------------------


@pytest.fixture
def branch_world(space_a, admin_a):
    """A Branch with a published badge issued there (a batch), a group inside it; each person
    made by ``person`` holds one award that expires within the month."""
    branch = OrganisationFactory(space=space_a, name="Branch")
    branch.refresh_from_db()
    group = GroupFactory(space=space_a, organisation=branch, name="Cohort")
    badge = make_badge(space_a, organisation=branch, name="First Aid")
    awards_issue(
        access=Access.system(space_a), badge=badge, recipients=[RecipientInput(user=UserFactory())]
    )
    expiring = make_badge(space_a, organisation=branch, name="Safety Refresher")
    return {"branch": branch, "group": group, "badge": badge, "expiring": expiring}


def person_with(role_name, space, world):
    if role_name == SPACE_ADMINISTRATOR:
        person = add_member(space, role_name=role_name)
    elif role_name == "Group Administrator":
        person = add_member(space, role_name=role_name, group=world["group"])
    else:
        person = add_member(space, role_name=role_name, organisation=world["branch"])
    award = make_award_at(world["expiring"], person, timezone.now() - timedelta(days=300))
    award.expires_at = timezone.now() + timedelta(days=10)
    award.save(update_fields=["expires_at"])
    return person


@pytest.mark.parametrize("role_name", list(DEFAULT_ROLES))
def test_every_link_on_each_roles_dashboard_opens(client, space_a, branch_world, role_name):
    person = person_with(role_name, space_a, branch_world)
    client.force_login(person)
    response = client.get(reverse("dashboard", args=[space_a.slug]))
    assert response.status_code == 200
    links = {href for href in links_on(response.content.decode()) if href.startswith("/")}
    assert links, "a dashboard with no way anywhere"
    for link in sorted(links):
        assert client.get(link).status_code == 200, (role_name, link)


@pytest.mark.parametrize("role_name", list(DEFAULT_ROLES))
def test_each_role_sees_the_sections_its_permissions_cover(
    client, space_a, branch_world, role_name
):
    _, perms = DEFAULT_ROLES[role_name]
    person = person_with(role_name, space_a, branch_world)
    client.force_login(person)
    response = client.get(reverse("dashboard", args=[space_a.slug]))
    html = response.content.decode()
    ctx = response.context
    # Everyone: their badges and what expires soon (the Safety Refresher, in 10 days).
    assert "Your badges" in html and "Expiring soon" in html
    assert [a.badge.name for a in ctx["expiring"]] == ["Safety Refresher"]
    issue_url = reverse("issuing:issue", args=[space_a.slug, branch_world["badge"].pk])
    if "issue_badges" in perms:
        assert "Badges you can issue" in html and f'href="{issue_url}"' in html
        assert "Recent batches" in html and ctx["batches"]
    else:
        assert "Badges you can issue" not in html and issue_url not in html
        assert "Recent batches" not in html
    admin_perms = {"manage_settings", "manage_organisations", "manage_users"}
    assert ("Getting started" in html) == bool(admin_perms & {str(p) for p in perms})
    if role_name == SPACE_ADMINISTRATOR:
        assert len(ctx["checklist"]) == 6
    if not perms:  # a recipient: no figures, no checklist
        assert ctx["stats"] == {} and ctx["checklist"] == []


def test_badges_past_their_expiry_or_revoked_are_not_shown(client, space_a, member_a):
    badge = make_badge(space_a)
    gone = make_award_at(badge, member_a, timezone.now() - timedelta(days=400))
    gone.expires_at = timezone.now() - timedelta(days=1)
    gone.save(update_fields=["expires_at"])
    later = make_badge(space_a, name="Later")
    make_award_at(later, member_a, timezone.now(), revoked_at=timezone.now())
    client.force_login(member_a)
    ctx = client.get(reverse("dashboard", args=[space_a.slug])).context
    assert ctx["own_awards"] == [] and ctx["expiring"] == []


def test_pending_claims_and_applications_show_with_links_that_open(client, space_a, admin_a):
    from badges.claims import claim_start
    from tests.factories import make_application, make_claim_link

    person = add_member(space_a)
    link = make_claim_link(space_a, badge=make_badge(space_a, name="Open Day"))
    claim_start(link=link, email=person.email.upper(), first_name="A", last_name="B")
    make_application(space_a, badge=make_badge(space_a, name="Data Wrangler"), applicant=person)
    client.force_login(person)
    response = client.get(reverse("dashboard", args=[space_a.slug]))
    assert [(p["badge_name"], p["kind"]) for p in response.context["pending"]] == [
        ("Data Wrangler", "application"),
        ("Open Day", "claim"),
    ]
    assert response.context["waiting_applications"] is None  # a recipient reviews nothing
    html = response.content.decode()
    assert reverse("backpack:applications") in html
    for href in links_on(html):
        if href.startswith("/"):
            assert client.get(href).status_code == 200, href
    # The reviewer sees the queue waiting for them.
    client.force_login(admin_a)
    admin_view = client.get(reverse("dashboard", args=[space_a.slug]))
    assert admin_view.context["waiting_applications"] == 1
    assert reverse("applications:queue", args=[space_a.slug]) in admin_view.content.decode()
