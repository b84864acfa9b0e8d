from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.models import OutboundEmail
from badges.issuing import BadgeNotIssuable, RecipientInput, awards_issue
from badges.models import Award, Badge, IssueBatch
from issuers.services import issuer_update
from tests.factories import UserFactory, add_member, make_badge
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db

WHEN = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def badge(space_a):
    return make_badge(space_a, expiry_amount=1, expiry_unit="years")


def test_issue_to_a_member_a_known_user_and_a_new_person(badge, space_a, member_a, committed):
    stranger = UserFactory(email="known@elsewhere.test")  # on the platform, not in space A
    with committed():
        batch, outcomes = awards_issue(
            access=Access.system(badge.space),
            badge=badge,
            achieved_at=WHEN,
            recipients=[
                RecipientInput(user=member_a),
                RecipientInput(email="KNOWN@elsewhere.test"),
                RecipientInput(email="new@person.test", first_name="Nia", last_name="New"),
            ],
        )
    assert [o.status for o in outcomes] == ["awarded"] * 3
    assert [o.award.recipient for o in outcomes[:2]] == [member_a, stranger]
    new = User.objects.get(email="new@person.test")
    assert outcomes[2].new_user and not new.has_usable_password()
    # Both newcomers to the space join it, in the badge's organisation, as plain Users.
    for person in (stranger, new):
        assert Member.objects.filter(space=space_a, user=person).exists()
        membership = Membership.objects.get(space=space_a, user=person)
        assert membership.role.name == "User" and membership.organisation == badge.organisation

    award = outcomes[2].award
    assert award.issued_at == batch.issued_at and award.achieved_at == WHEN
    assert award.expires_at.year == batch.issued_at.year + 1
    assert award.issuer_version == badge.issuer.current
    assert award.badge_snapshot["name"] == badge.name
    assert (batch.issued, batch.duplicates, batch.failed) == (3, 0, 0)

    # Everyone gets the badge email; the new person also gets the verification email.
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert subjects == sorted(
        [
            (member_a.email, f"You have been awarded “{badge.name}”"),
            (stranger.email, f"You have been awarded “{badge.name}”"),
            ("new@person.test", f"You have been awarded “{badge.name}”"),
            ("new@person.test", "Verify your email for Acme University"),
        ]
    )
    badge_mail = next(m for m in mail.outbox if m.to == [member_a.email])
    assert f"/public/assertions/{outcomes[0].award.public_id}" in badge_mail.body


def test_same_achievement_twice_is_a_duplicate_not_a_second_award(badge, member_a):
    _, first = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[RecipientInput(user=member_a)],
    )
    _, again = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[RecipientInput(user=member_a), RecipientInput(user=member_a)],
    )
    assert [o.status for o in again] == ["duplicate", "duplicate"]
    assert again[0].award.pk == first[0].award.pk
    assert Award.objects.count() == 1
    # A different achievement time is a new achievement.
    _, later = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN + timedelta(hours=1),
        recipients=[RecipientInput(user=member_a)],
    )
    assert later[0].status == "awarded" and Award.objects.count() == 2


def test_duplicated_rows_in_one_batch_make_one_person_and_one_award(badge):
    rows = [RecipientInput(email="twin@x.test", first_name="T", last_name="Win")] * 1 + [
        RecipientInput(email="Twin@X.test", first_name="T", last_name="Win")
    ]
    _, outcomes = awards_issue(
        access=Access.system(badge.space), badge=badge, achieved_at=WHEN, recipients=rows
    )
    assert [o.status for o in outcomes] == ["awarded", "duplicate"]
    assert User.objects.filter(email__iexact="twin@x.test").count() == 1


def test_external_id_resolves_a_member_and_is_kept_for_new_people(badge, space_a, member_a):
    Member.objects.filter(space=space_a, user=member_a).update(external_id="EMP-001")
    _, outcomes = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[
            RecipientInput(external_id="EMP-001"),
            RecipientInput(
                external_id="EMP-002", email="e2@x.test", first_name="E", last_name="Two"
            ),
        ],
    )
    assert outcomes[0].award.recipient == member_a
    new = outcomes[1].award.recipient
    assert Member.objects.get(space=space_a, user=new).external_id == "EMP-002"


@pytest.mark.parametrize(
    ("recipient", "field", "message"),
    [
        (RecipientInput(email="not-an-email"), "Email", "valid email"),
        (RecipientInput(email="new@x.test"), "FirstName", "give their name"),
        (RecipientInput(external_id="NOBODY-1"), "Email", "give their email"),
        (
            RecipientInput(email="a@x.test", first_name="A\r\nB", last_name="C"),
            "FirstName",
            "single line",
        ),
        (
            RecipientInput(email="a" * 310 + "@x.test", first_name="A", last_name="B"),
            "Email",
            "254",
        ),
        (RecipientInput(), "Email", "email"),
    ],
)
def test_bad_rows_are_rejected_with_a_reason_and_nothing_is_stored(
    badge, recipient, field, message
):
    batch, outcomes = awards_issue(
        access=Access.system(badge.space), badge=badge, achieved_at=WHEN, recipients=[recipient]
    )
    assert outcomes[0].status == "rejected"
    assert message in outcomes[0].errors[field]
    assert not Award.objects.exists()
    assert not User.objects.filter(email__icontains="x.test").exists()
    assert batch.failed == 1 and batch.failures[0]["errors"][field]


def test_future_and_naive_times_are_rejected(badge, member_a):
    _, outcomes = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        recipients=[
            RecipientInput(user=member_a, achieved_at=timezone.now() + timedelta(days=2)),
            RecipientInput(user=member_a, achieved_at=WHEN.replace(tzinfo=None)),
        ],
    )
    assert "future" in outcomes[0].errors["ActivityTime"]
    assert "offset" in outcomes[1].errors["ActivityTime"]


@pytest.mark.parametrize("state", [Badge.State.DRAFT, Badge.State.WITHDRAWN])
def test_drafts_and_withdrawn_badges_cannot_be_issued(space_a, member_a, state):
    badge = make_badge(space_a, state=state)
    with pytest.raises(BadgeNotIssuable, match="publish it first"):
        awards_issue(
            access=Access.system(badge.space),
            badge=badge,
            recipients=[RecipientInput(user=member_a)],
        )
    assert not Award.objects.exists() and not IssueBatch.objects.exists()


def test_old_awards_keep_the_issuer_profile_they_were_issued_with(badge, member_a):
    _, before = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[RecipientInput(user=member_a)],
    )
    issuer_update(
        access=Access.system(badge.issuer.space),
        issuer=badge.issuer,
        actor=None,
        name="Acme Academy (renamed)",
    )
    badge.name = "Python Fundamentals II"
    badge.save()
    _, after = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN + timedelta(minutes=1),
        recipients=[RecipientInput(user=member_a)],
    )
    old, new = Award.objects.get(pk=before[0].award.pk), Award.objects.get(pk=after[0].award.pk)
    assert (
        old.issuer_version.name == "Acme Learning"
        and old.badge_snapshot["name"] == "Python Fundamentals"
    )
    assert new.issuer_version.name == "Acme Academy (renamed)"
    assert new.badge_snapshot["name"] == "Python Fundamentals II"


def test_emails_are_queued_unrendered_and_once_per_award(badge, member_a):
    _, outcomes = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=WHEN,
        recipients=[RecipientInput(user=member_a)],
    )
    email = OutboundEmail.objects.get(kind="badge_issued")
    assert email.subject == "" and email.context == {"award": outcomes[0].award.pk}
    assert email.dedupe_key == f"award:{outcomes[0].award.public_id}"


# Sizes stay under SQLite's 999-parameter chunking of bulk inserts (PostgreSQL has none).
@pytest.mark.parametrize("size", [4, 16])
def test_issuing_takes_a_constant_number_of_queries(badge, space_a, size):
    members = [add_member(space_a) for _ in range(size)]
    recipients = [RecipientInput(user=m) for m in members[: size // 3]]
    recipients += [RecipientInput(email=m.email) for m in members[size // 3 :]]
    recipients += [
        RecipientInput(
            email=f"new{i}@bulk.test", first_name="N", last_name=str(i), external_id=f"B{i}"
        )
        for i in range(size)
    ]
    with CaptureQueriesContext(connection) as ctx:
        _, outcomes = awards_issue(
            access=Access.system(badge.space), badge=badge, achieved_at=WHEN, recipients=recipients
        )
    assert all(o.status == "awarded" for o in outcomes)
    # Whatever the size: savepoint, badge lock, attributes, batch, members by external id, users
    # by email, username clashes, users insert, members-in-space, User role, members insert,
    # memberships insert, existing awards, awards insert, email dedupe, emails insert, batch
    # update, the audit entry, savepoint release; and the status-list places: the issuer's open
    # list locked (opened here: savepoint, insert, release), its allocation map updated, the
    # entries inserted; the space's webhook endpoints (none here: nothing more).
    assert len(ctx.captured_queries) == EXPECTED_ISSUE_QUERIES, "\n".join(
        q["sql"][:90] for q in ctx.captured_queries
    )


EXPECTED_ISSUE_QUERIES = 26
