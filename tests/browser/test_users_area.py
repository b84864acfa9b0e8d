"""Organisations, groups, users, roles and bulk actions, clicked through as an administrator
would (issue 3's "Done means"). Screenshots go to test-artifacts/."""

import re

import pytest
from django.core import mail

from badgeplatform.permissions import Perm
from orgs.models import Group, Organisation
from tests.factories import (
    PASSWORD,
    GroupFactory,
    OrganisationFactory,
    UserFactory,
    add_member,
    make_space,
    member_of,
)
from tests.security import hostile_images as hi
from users.models import Member, Membership, Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def screenshot(screenshot, page):
    """Full-page screenshots taken from the top, so the sticky bars sit where they belong."""

    def take(name):
        page.evaluate("window.scrollTo(0, 0)")
        return screenshot(name)

    return take


@pytest.fixture
def acme(db):
    admin = UserFactory(username="alice", first_name="Alice", last_name="Admin")
    return make_space("Acme University", "acme", admin=admin), admin


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()


def flash(page) -> str:
    return page.locator(".messages").inner_text()


def test_build_an_organisation_tree_three_levels_deep(page, acme, screenshot):
    space, admin = acme
    sign_in(page, admin)
    page.get_by_role("complementary", name="Main menu").get_by_role(
        "link", name="Organisation tree"
    ).click()
    page.get_by_role("heading", name="Organisation tree").wait_for()
    page.get_by_role("link", name="Add a sub-organisation under Acme University").click()
    page.get_by_label("Name").fill("Faculty of Engineering")
    page.get_by_label("Description").fill("Engineering and computing.")
    page.get_by_role("button", name="Add organisation").click()
    assert "“Faculty of Engineering” was added under “Acme University”" in flash(page)

    for name in ("Computer Science", "Robotics Lab"):
        page.get_by_role("link", name="Add sub-organisation", exact=True).click()
        page.get_by_label("Name").fill(name)
        page.get_by_role("button", name="Add organisation").click()
        page.get_by_role("heading", name=name).wait_for()
    # The breadcrumbs show the path down from the root.
    crumbs = page.get_by_role("navigation", name="Breadcrumbs").inner_text()
    assert "Acme University › Faculty of Engineering › Computer Science" in crumbs
    screenshot("1-third-level")

    # A sibling with a name already taken at that level is refused beside the field.
    page.get_by_role("link", name="Computer Science").click()
    page.get_by_role("link", name="Add sub-organisation", exact=True).click()
    page.get_by_label("Name").fill("robotics lab")
    page.get_by_role("button", name="Add organisation").click()
    assert page.get_by_text("already has a sub-organisation called").is_visible()
    screenshot("2-duplicate-name")

    page.goto(f"/s/{space.slug}/organisations/")
    tree = page.locator(".org-tree")
    for name in ("Faculty of Engineering", "Computer Science", "Robotics Lab"):
        assert tree.get_by_role("link", name=name, exact=True).is_visible()
    screenshot("3-tree")
    # Collapsing a branch hides what is beneath it.
    fold = tree.get_by_role("button", name="Organisations under Computer Science")
    assert fold.get_attribute("aria-expanded") == "true"
    fold.click()
    assert not tree.get_by_role("link", name="Robotics Lab", exact=True).is_visible()
    assert fold.get_attribute("aria-expanded") == "false"
    lab = Organisation.objects.get(name="Robotics Lab")
    assert lab.level == 3 and lab.parent.name == "Computer Science"


def test_removing_the_root_is_refused_and_removing_a_branch_says_what_happens(
    page, acme, screenshot
):
    space, admin = acme
    dept = OrganisationFactory(space=space, name="History")
    OrganisationFactory(space=space, parent=dept, name="Archives")
    GroupFactory(space=space, organisation=dept, name="Seminar A")
    add_member(space, UserFactory(first_name="Hal"), organisation=dept)
    sign_in(page, admin)

    page.goto(f"/s/{space.slug}/organisations/{space.root_organisation.pk}/remove/")
    assert page.get_by_role("alert").inner_text().startswith("“Acme University” is the root")
    assert page.get_by_role("button", name=re.compile("^Remove")).count() == 0
    screenshot("1-root-refused")

    page.goto(f"/s/{space.slug}/organisations/")
    page.get_by_role("link", name="Remove History").click()
    table = page.locator("table.holdings").inner_text()
    assert "Archives" in table and "Seminar A" in table and "nobody is removed" in table
    screenshot("2-removal-plan")
    page.get_by_role("button", name="Remove History and its 1 sub-organisation").click()
    assert "“History” was removed with 1 sub-organisation(s) and 1 group(s)." in flash(page)
    hal = User.objects.get(first_name="Hal")
    assert Membership.objects.get(user=hal).organisation == space.root_organisation


@pytest.fixture
def campus(acme):
    space, admin = acme
    cs = OrganisationFactory(space=space, name="Computer Science")
    arts = OrganisationFactory(space=space, name="Arts")
    cohort = GroupFactory(space=space, organisation=cs, name="Cohort 2026")
    choir = GroupFactory(space=space, organisation=arts, name="Choir")
    return space, admin, cs, arts, cohort, choir


def test_create_a_user_into_a_group_then_add_an_existing_person(page, campus, screenshot):
    space, admin, cs, arts, cohort, choir = campus
    UserFactory(username="taken")
    elsewhere = make_space("Secret Society", "secret")
    known = add_member(elsewhere, UserFactory(email="kim@known.test", first_name="Kim"))
    sign_in(page, admin)
    page.get_by_role("complementary", name="Main menu").get_by_role(
        "link", name="Create user"
    ).click()

    page.get_by_label("Email").fill("nina@new.test")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Novak")
    page.get_by_label("Username").fill("taken")
    page.get_by_label("External identifier").fill("STU-1")
    page.get_by_label("Organisation or group").select_option(f"g:{cohort.pk}")
    page.get_by_role("button", name="Create user").click()
    assert page.get_by_text("That username is taken").is_visible()
    screenshot("1-duplicate-username")

    page.get_by_label("Username").fill("nina")
    page.get_by_role("button", name="+ Add another organisation or group").click()
    page.locator("select[name=places-1-place]").select_option(f"o:{arts.pk}")
    page.locator("select[name=places-1-role]").select_option(label="Reporter")
    screenshot("2-two-places")
    page.get_by_role("button", name="Create user").click()
    page.get_by_role("heading", name="Nina Novak").wait_for()
    assert "A verification email invites them" in flash(page)
    places = page.locator("section", has_text="Organisations and groups").inner_text()
    assert "Cohort 2026" in places and "Reporter" in places
    screenshot("3-summary")
    assert mail.outbox[-1].to == ["nina@new.test"]
    assert "/accounts/verify/" in mail.outbox[-1].body

    # The same external id again is refused; an existing email is offered instead of created.
    page.goto(f"/s/{space.slug}/users/new/")
    page.get_by_label("Email").fill("KIM@known.test")
    page.get_by_label("External identifier").fill("STU-1")
    page.get_by_label("Organisation or group").select_option(f"g:{choir.pk}")
    page.get_by_role("button", name="Create user").click()
    assert page.get_by_text("already has this external identifier").is_visible()
    page.get_by_label("External identifier").fill("STU-2")
    page.get_by_role("button", name="Create user").click()
    offer = page.locator(".alert.offer")
    assert "Someone on Badge Platform already uses KIM@known.test" in offer.inner_text()
    assert "Secret Society" not in page.content() and "Kim" not in offer.inner_text()
    screenshot("4-offer-existing")
    offer.get_by_role("button", name="Add this person to Acme University").click()
    assert "kim@known.test was added to Acme University and told by email" in flash(page)
    assert Membership.objects.get(space=space, user=known).group == choir
    assert member_of(space, known).external_id == "STU-2"
    assert "You have been added to Acme University" in mail.outbox[-1].subject


@pytest.fixture
def roster(campus):
    space, admin, cs, arts, cohort, choir = campus
    people = {}
    for first, last, place in [
        ("Ada", "Lovelace", {"group": cohort}),
        ("Grace", "Hopper", {"group": cohort}),
        ("Alan", "Turing", {"organisation": cs}),
        ("Frida", "Kahlo", {"organisation": arts}),
        ("Claude", "Monet", {"group": choir}),
    ]:
        people[first] = add_member(space, UserFactory(first_name=first, last_name=last), **place)
    Member.objects.filter(user=people["Alan"]).update(external_id="EMP-007")
    return campus, people


def visible_names(page) -> list[str]:
    return page.locator(".users-table tbody tr td:nth-child(2) strong").all_inner_texts()


def test_filter_and_order_the_user_list(page, roster, screenshot):
    (space, admin, cs, arts, cohort, choir), people = roster
    sign_in(page, admin)
    page.goto(f"/s/{space.slug}/users/")
    assert visible_names(page)[:3] == ["Alice Admin", "Grace Hopper", "Frida Kahlo"]
    screenshot("1-all")

    page.get_by_label("Order by").select_option("-name")
    page.wait_for_url(re.compile(r"order=-name"))
    page.wait_for_function(
        "() => document.querySelector('.users-table strong').innerText === 'Alan Turing'"
    )
    assert visible_names(page)[0] == "Alan Turing"

    page.get_by_label("Organisation", exact=True).select_option(str(cs.pk))
    page.wait_for_url(re.compile(rf"organisation={cs.pk}"))
    page.wait_for_function("() => document.querySelectorAll('.users-table tbody tr').length === 3")
    assert visible_names(page) == ["Alan Turing", "Ada Lovelace", "Grace Hopper"]
    screenshot("2-organisation-filter")

    page.get_by_label("Search").fill("EMP-007")
    page.wait_for_function("() => document.querySelectorAll('.users-table tbody tr').length === 1")
    assert visible_names(page) == ["Alan Turing"]
    screenshot("3-search")

    # The same filters work as a plain link (no JavaScript needed), e.g. by role.
    reporter = Role.objects.get(space=space, name="Space Administrator")
    page.goto(f"/s/{space.slug}/users/?role={reporter.pk}")
    assert visible_names(page) == ["Alice Admin"]


def bar(page):
    """The bulk action bar (its "Group" is not the filter's "Group")."""
    return page.locator(".bulk-bar")


def tick(page, *names):
    for name in names:
        page.get_by_label(f"Select {name}").check()


def review_and_confirm(page, screenshot, shot, expected_count):
    page.get_by_role("button", name="Review…").click()
    page.get_by_role("heading", name="Please confirm").wait_for()
    assert page.locator(".big-number").inner_text() == str(expected_count)
    screenshot(shot)
    page.locator("button[name=confirm]").click()


def test_each_bulk_action(page, roster, screenshot):
    (space, admin, cs, arts, cohort, choir), people = roster
    sign_in(page, admin)
    page.goto(f"/s/{space.slug}/users/")

    # Add into a group: Alan and Frida join Choir.
    tick(page, "Alan Turing", "Frida Kahlo")
    assert page.locator("[data-selected-count]").inner_text() == "2"
    bar(page).get_by_label("Action").select_option("add_to_group")
    assert page.get_by_label("Role in the group").is_visible()
    assert not page.get_by_label("From group").is_visible()  # only what the action needs
    bar(page).get_by_label("Group", exact=True).select_option(str(choir.pk))
    screenshot("1-bulk-bar")
    review_and_confirm(page, screenshot, "2-confirm-add", 2)
    assert "2 people added into “Choir” as User." in flash(page)
    assert set(choir.memberships.values_list("user__first_name", flat=True)) == {
        "Alan",
        "Frida",
        "Claude",
    }

    # Transfer from one group to another: Cohort 2026 → Choir (Ada and Grace).
    page.get_by_label("Select all on this page").check()
    bar(page).get_by_label("Action").select_option("transfer")
    bar(page).get_by_label("From group").select_option(str(cohort.pk))
    bar(page).get_by_label("Into group").select_option(str(choir.pk))
    review_and_confirm(page, screenshot, "3-confirm-transfer", 2)
    assert "2 people transferred from “Cohort 2026” into “Choir”." in flash(page)
    assert not cohort.memberships.exists()

    # Remove from a group: Frida leaves Choir (she keeps Arts).
    tick(page, "Frida Kahlo")
    bar(page).get_by_label("Action").select_option("remove_from_group")
    bar(page).get_by_label("Group", exact=True).select_option(str(choir.pk))
    review_and_confirm(page, screenshot, "4-confirm-remove-from-group", 1)
    assert "1 person taken out of “Choir”." in flash(page)
    assert not choir.memberships.filter(user=people["Frida"]).exists()

    # Remove from the space: Claude goes; his account stays on the platform.
    tick(page, "Claude Monet")
    bar(page).get_by_label("Action").select_option("remove_from_space")
    page.get_by_role("button", name="Review…").click()
    assert "every badge they were awarded, stay theirs" in page.content()
    screenshot("5-confirm-remove-from-space")
    page.get_by_role("button", name="Remove 1 person from the space").click()
    assert "1 person removed from Acme University" in flash(page)
    assert not Member.objects.filter(space=space, user=people["Claude"]).exists()
    assert User.objects.filter(pk=people["Claude"].pk).exists()
    assert "Claude Monet" not in visible_names(page)
    screenshot("6-after")


def test_a_custom_role_is_assigned_and_its_limits_are_enforced(page, roster, screenshot):
    (space, admin, cs, arts, cohort, choir), people = roster
    sign_in(page, admin)
    page.goto(f"/s/{space.slug}/settings/roles/")
    page.get_by_role("link", name="New custom role").click()
    page.get_by_label("Name", exact=True).fill("Department Coordinator")
    page.get_by_role("button", name="Create role").click()
    assert page.get_by_text("Choose at least one permission").is_visible()
    screenshot("1-no-permissions")
    page.get_by_label("Manage users (create, edit, remove, assign roles)").check()
    page.get_by_label("Manage groups and their members").check()
    page.get_by_role("button", name="Create role").click()
    assert "The role “Department Coordinator” was created." in flash(page)
    screenshot("2-roles")

    # Give Alan that role on Computer Science, from his edit page.
    page.goto(f"/s/{space.slug}/users/{member_of(space, people['Alan']).pk}/edit/")
    row = page.locator("tr", has_text="Computer Science")
    row.locator("select[name$='-role']").select_option(label="Department Coordinator")
    row.get_by_role("button", name="Change role").click()
    page.wait_for_selector("text=is now Department Coordinator in “Computer Science”")
    screenshot("3-assigned")
    custom = Role.objects.get(space=space, name="Department Coordinator")
    assert set(custom.permissions) == {Perm.MANAGE_USERS, Perm.MANAGE_GROUPS}
    assert Membership.objects.get(user=people["Alan"], organisation=cs).role == custom

    # Alan signs in: he manages Computer Science's people, not Arts', nor the tree or roles.
    page.get_by_label("Personal menu").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, people["Alan"])
    menu = page.get_by_role("complementary", name="Main menu")
    assert menu.get_by_role("link", name="All users").is_visible()
    assert menu.get_by_role("link", name="Organisation tree").count() == 0
    page.goto(f"/s/{space.slug}/users/")
    assert sorted(visible_names(page)) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    screenshot("4-coordinator-list")
    # Someone out of his reach answers exactly as a missing person would.
    response = page.goto(f"/s/{space.slug}/users/{member_of(space, people['Frida']).pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    screenshot("5-refused")
    assert page.goto(f"/s/{space.slug}/organisations/").status == 403
    assert page.goto(f"/s/{space.slug}/settings/roles/new/").status == 403
    assert page.goto(f"/s/{space.slug}/groups/{choir.pk}/").status == 404
    assert page.goto(f"/s/{space.slug}/groups/{cohort.pk}/").status == 200


def test_group_page_add_and_take_out_members_with_htmx(page, roster, screenshot):
    (space, admin, cs, arts, cohort, choir), people = roster
    sign_in(page, admin)
    page.goto(f"/s/{space.slug}/groups/{cohort.pk}/")
    page.get_by_label("Email or username").fill(people["Alan"].email)
    page.get_by_role("button", name="Add to group").click()
    page.wait_for_selector("text=Alan Turing was added to “Cohort 2026”.")
    page.get_by_label("Email or username").fill("nobody@nowhere.test")
    page.get_by_role("button", name="Add to group").click()
    page.wait_for_selector("text=Nobody in this space has that email")
    screenshot("1-group")
    page.get_by_role("button", name="Take Ada Lovelace out of Cohort 2026").click()
    page.wait_for_selector("text=Ada Lovelace was taken out of “Cohort 2026”.")
    assert set(cohort.memberships.values_list("user__first_name", flat=True)) == {"Grace", "Alan"}


def test_personal_settings_username_and_a_hostile_upload(page, acme, screenshot, tmp_path):
    space, admin = acme
    UserFactory(username="bob")
    sign_in(page, admin)
    page.get_by_label("Personal menu").click()
    page.get_by_role("link", name="Personal settings").click()
    page.get_by_label("Username").fill("bob")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("That username is taken").is_visible()

    evil = tmp_path / "avatar.png"
    evil.write_bytes(hi.svg_named_png())
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Profile picture").set_input_files(str(evil))
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("This file is not a PNG, JPEG or GIF image.").is_visible()
    screenshot("1-hostile-upload")
    admin.refresh_from_db()
    assert not admin.avatar

    good = tmp_path / "me.jpg"
    good.write_bytes(hi.valid_jpeg((300, 300)))
    page.get_by_label("First name").fill("Alicia")
    page.get_by_label("Profile picture").set_input_files(str(good))
    page.get_by_role("button", name="Save").click()
    assert "Your settings were saved." in page.locator(".messages").inner_text()
    admin.refresh_from_db()
    assert admin.avatar.name.endswith(".png") and admin.first_name == "Alicia"
    page.goto(f"/s/{space.slug}/dashboard/")
    assert page.locator(".topbar .avatar img").count() == 1
    screenshot("2-avatar-in-menu")


def test_group_factory_sanity(acme):
    space, _ = acme
    assert Group.objects.filter(space=space).count() == 0
