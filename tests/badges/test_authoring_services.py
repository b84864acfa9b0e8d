"""Badge authoring services: drafts, publication rules, history, and awards left alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badgeplatform.access import Access
from badges import services
from badges.criteria import render_markdown
from badges.issuing import RecipientInput, awards_issue
from badges.languages import ISO_639_1, LANGUAGE_CHOICES
from badges.models import Award, Badge, BadgeEvent
from tests.factories import make_badge, make_graphic, make_issuer, make_space

pytestmark = pytest.mark.django_db

WHEN = timezone.now().replace(microsecond=0) - timedelta(days=1)


def actions(badge) -> list[str]:
    return list(BadgeEvent.objects.filter(badge=badge).values_list("action", flat=True))


@pytest.fixture
def draft(space_a, admin_a):
    return services.badge_create(
        access=Access.system(space_a),
        space=space_a,
        organisation=space_a.root_organisation,
        actor=admin_a,
        name="Data Wrangler",
        attributes=[("Credits", "5"), ("", "ignored: no key")],
    )


def test_a_draft_needs_nothing_but_an_organisation(draft, admin_a):
    assert draft.state == "draft" and draft.created_by == admin_a
    assert [(a.key, a.value) for a in draft.attributes.all()] == [("Credits", "5")]
    assert actions(draft) == ["created"]
    assert draft.missing_for_publication() == [
        "a description",
        "a language",
        "an issuer",
        "a graphic",
        "criteria (a URL or text)",
    ]


def test_an_incomplete_badge_is_not_published_and_says_why(draft, admin_a):
    with pytest.raises(services.BadgeIncomplete) as caught:
        services.badge_publish(access=Access.system(draft.space), badge=draft, actor=admin_a)
    assert "It still needs a description, a language, an issuer" in caught.value.messages[0]
    draft.refresh_from_db()
    assert draft.state == "draft" and actions(draft) == ["created"]


def complete(badge, space, actor):
    return services.badge_update(
        access=Access.system(badge.space),
        badge=badge,
        actor=actor,
        description="Cleans data.",
        language="en",
        issuer=make_issuer(space),
        graphic=make_graphic(space),
        criteria_url="https://acme.example/criteria",
    )


def test_publish_withdraw_republish_with_history(draft, space_a, admin_a):
    badge = complete(draft, space_a, admin_a)
    assert actions(badge) == ["edited", "created"]
    edited = BadgeEvent.objects.filter(badge=badge, action="edited").get()
    assert edited.note == "Changed description, language, issuer, graphic, criteria URL"

    badge = services.badge_publish(access=Access.system(badge.space), badge=badge, actor=admin_a)
    assert badge.state == "published" and badge.published_at is not None
    with pytest.raises(services.BadgeStateError):
        services.badge_publish(access=Access.system(badge.space), badge=badge, actor=admin_a)

    badge = services.badge_withdraw(
        access=Access.system(badge.space), badge=badge, actor=admin_a, note="Paused"
    )
    assert badge.state == "withdrawn" and not badge.is_issuable
    with pytest.raises(services.BadgeStateError):
        services.badge_withdraw(access=Access.system(badge.space), badge=badge, actor=admin_a)

    badge = services.badge_publish(access=Access.system(badge.space), badge=badge, actor=admin_a)
    assert badge.state == "published"
    events = list(BadgeEvent.objects.filter(badge=badge).values_list("action", "note"))
    assert events[:3] == [
        ("published", "Published again"),
        ("withdrawn", "Paused"),
        ("published", ""),
    ]


def test_a_published_badge_must_stay_complete(space_a, admin_a):
    badge = make_badge(space_a)
    with pytest.raises(services.BadgeIncomplete) as caught:
        services.badge_update(
            access=Access.system(badge.space),
            badge=badge,
            actor=admin_a,
            description="  ",
            criteria_text="",
        )
    assert caught.value.messages[0] == (
        "A published badge must stay complete. It would lack a description, "
        "criteria (a URL or text)."
    )
    badge.refresh_from_db()
    assert badge.description and not actions(badge)


def test_saving_without_a_change_writes_no_history(draft, admin_a):
    services.badge_update(
        access=Access.system(draft.space),
        badge=draft,
        actor=admin_a,
        name="Data Wrangler",
        attributes=[("Credits", "5")],
    )
    assert actions(draft) == ["created"]


def test_attributes_are_replaced_in_order(draft, admin_a):
    services.badge_update(
        access=Access.system(draft.space),
        badge=draft,
        actor=admin_a,
        attributes=[("Level", "1"), ("Credits", "10")],
    )
    assert list(draft.attributes.values_list("key", "value", "position")) == [
        ("Level", "1", 0),
        ("Credits", "10", 1),
    ]
    assert (
        BadgeEvent.objects.filter(badge=draft, action="edited").get().note == "Changed attributes"
    )


def test_expiry_needs_both_amount_and_unit(draft, admin_a):
    badge = services.badge_update(
        access=Access.system(draft.space),
        badge=draft,
        actor=admin_a,
        expiry_amount=3,
        expiry_unit="months",
    )
    assert (badge.expiry_amount, badge.expiry_unit) == (3, "months")
    badge = services.badge_update(
        access=Access.system(badge.space), badge=badge, actor=admin_a, expiry_amount=None
    )
    assert (badge.expiry_amount, badge.expiry_unit) == (None, "")


def test_objects_of_another_space_are_refused(draft, admin_a):
    elsewhere = make_space("Elsewhere", "elsewhere")
    with pytest.raises(ValueError):
        services.badge_update(
            access=Access.system(draft.space),
            badge=draft,
            actor=admin_a,
            issuer=make_issuer(elsewhere),
        )
    with pytest.raises(ValueError):
        services.badge_update(
            access=Access.system(draft.space),
            badge=draft,
            actor=admin_a,
            graphic=make_graphic(elsewhere),
        )


def test_editing_a_published_badge_leaves_earlier_awards_as_issued(space_a, admin_a, member_a):
    badge = make_badge(space_a)
    services.badge_update(
        access=Access.system(badge.space), badge=badge, actor=admin_a, attributes=[("Credits", "5")]
    )
    _, before = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[RecipientInput(user=member_a)],
    )
    new_graphic = make_graphic(space_a, "Gold")
    services.badge_update(
        access=Access.system(badge.space),
        badge=badge,
        actor=admin_a,
        name="Python Fundamentals II",
        graphic=new_graphic,
        attributes=[("Credits", "10")],
    )
    old = Award.objects.get(pk=before[0].award.pk)
    assert old.badge_snapshot["name"] == "Python Fundamentals"
    assert old.badge_snapshot["attributes"] == [{"key": "Credits", "value": "5"}]
    assert old.badge_snapshot["image"] != new_graphic.image.name
    # Withdrawing leaves it valid, too.
    services.badge_withdraw(access=Access.system(badge.space), badge=badge, actor=admin_a)
    old.refresh_from_db()
    assert old.state == "valid"


def test_graphic_in_use_cannot_be_archived_and_says_by_which_badges(space_a, admin_a):
    graphic = make_graphic(space_a)
    make_badge(space_a, name="Beta", graphic=graphic)
    make_badge(space_a, name="Alpha", graphic=graphic, state="draft")
    with pytest.raises(services.GraphicInUse) as caught:
        services.graphic_archive(graphic=graphic, actor=admin_a)
    assert caught.value.messages[0].startswith("“Blue circle” is used by “Alpha”, “Beta”.")
    graphic.refresh_from_db()
    assert graphic.archived_at is None


def test_archiving_keeps_the_file(space_a, admin_a):
    graphic = make_graphic(space_a)
    services.graphic_archive(graphic=graphic, actor=admin_a)
    graphic.refresh_from_db()
    assert graphic.archived_at is not None
    assert graphic.image.storage.exists(graphic.image.name)


def test_languages_are_the_iso_639_1_codes():
    assert len(ISO_639_1) == 183
    assert all(len(code) == 2 and code.islower() for code in ISO_639_1)
    assert ISO_639_1["en"] == "English" and ISO_639_1["mi"] == "Māori"
    assert len(LANGUAGE_CHOICES) == 183


@pytest.mark.parametrize(
    "text, absent",
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="https://x.example" onclick="alert(1)">x</a>', "onclick"),
        ("<iframe src='https://evil.example'></iframe>", "<iframe"),
        ('<p style="position:fixed">x</p>', "style="),
    ],
)
def test_criteria_markdown_is_sanitised(text, absent):
    assert absent not in render_markdown(text)


def test_criteria_markdown_keeps_formatting_and_safe_links():
    html = render_markdown("Pass **all** tests:\n\n- one\n- two\n\n[Guide](https://acme.example/g)")
    assert "<strong>all</strong>" in html and html.count("<li>") == 2
    assert 'href="https://acme.example/g"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_badge_state_is_what_issuing_checks(draft, space_a, admin_a):
    badge = complete(draft, space_a, admin_a)
    assert not Badge.objects.get(pk=badge.pk).is_issuable
    services.badge_publish(access=Access.system(badge.space), badge=badge, actor=admin_a)
    assert Badge.objects.get(pk=badge.pk).is_issuable


def test_demo_seed_adds_issuers_designed_graphics_and_badges_in_every_state_once():
    from io import StringIO

    from django.core.management import call_command

    from badges.models import Graphic
    from issuers.models import Issuer

    call_command("seed_demo", stdout=StringIO())
    counts = (Issuer.objects.count(), Graphic.objects.count(), Badge.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Issuer.objects.count(), Graphic.objects.count(), Badge.objects.count()) == counts
    assert counts[0] >= 1 and counts[1] >= 3 and 3 <= counts[2] <= 4
    assert set(Badge.objects.values_list("state", flat=True)) == {"draft", "published", "withdrawn"}
    assert set(Graphic.objects.values_list("source", flat=True)) == {"designer"}
    assert all(g.design and g.width == 600 for g in Graphic.objects.all())


def test_every_authoring_change_is_in_the_audit_log(space_a, admin_a):
    from badgeplatform.models import AuditEntry
    from issuers.services import issuer_update

    graphic = make_graphic(space_a)
    services.graphic_archive(graphic=graphic, actor=admin_a)
    badge = make_badge(space_a, state="draft")
    issuer_update(
        access=Access.system(badge.issuer.space),
        issuer=badge.issuer,
        actor=admin_a,
        name="Acme Academy",
    )
    services.badge_update(
        access=Access.system(badge.space), badge=badge, actor=admin_a, name="Renamed"
    )
    services.badge_publish(access=Access.system(badge.space), badge=badge, actor=admin_a)
    services.badge_withdraw(
        access=Access.system(badge.space), badge=badge, actor=admin_a, note="Paused"
    )
    entries = AuditEntry.objects.filter(space=space_a).exclude(action="space.create")
    assert sorted(entries.values_list("action", flat=True)) == [
        "badge.publish",
        "badge.update",
        "badge.withdraw",
        "graphic.archive",
        "issuer.create",
        "issuer.update",
    ]
    withdrawn = entries.get(action="badge.withdraw")
    assert (withdrawn.actor, withdrawn.object_label, withdrawn.changes) == (
        admin_a,
        "Renamed",
        {"note": "Paused"},
    )
    assert entries.get(action="issuer.update").changes == {"version": 2, "name": "Acme Academy"}
