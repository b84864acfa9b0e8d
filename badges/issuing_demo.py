"""Demo awards: called by ``badges/demo.py`` after it has published the demo badges.

Idempotent: achievement times are fixed, so a second run finds the awards (duplicates)
instead of making new ones. No emails are sent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from badgeplatform.access import Access
from badges.awards import award_revoke
from badges.issuing import RecipientInput, awards_issue
from badges.models import Award, Badge, IssueBatch
from users import services as user_services
from users.models import User

STUDENT_EMAIL = "student@demo.example"
STUDENT_PASSWORD = "demo-student-2026"  # noqa: S105 - a published demo login for local use

PEOPLE = [
    ("sam.okafor@demo.example", "Sam", "Okafor", "N-1001"),
    ("lena.fischer@demo.example", "Lena", "Fischer", "N-1002"),
    ("tomas.novak@demo.example", "Tomás", "Novák", "N-1003"),
    ("priya.raman@demo.example", "Priya", "Raman", "N-1004"),
    ("joe.bloggs@demo.example", "Joe", "Bloggs", "N-1005"),
]
FIRST_ACHIEVEMENT = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)


def seed_awards(space, admin, stdout) -> None:
    badges = list(Badge.objects.for_space(space).published().order_by("name")[:3])
    if not badges:
        stdout.write("  awards: no published badge to issue yet (skipped)")
        return

    student = User.objects.get_by_email(STUDENT_EMAIL)
    recipients = [
        RecipientInput(email=email, first_name=first, last_name=last, external_id=ext)
        for email, first, last, ext in PEOPLE
    ]
    for n, badge in enumerate(badges):
        when = FIRST_ACHIEVEMENT + timedelta(days=30 * n)
        people = recipients[n:] + [
            RecipientInput(
                user=student,
                email=STUDENT_EMAIL,
                first_name="Stella",
                last_name="Student",
                external_id="N-2000",
            ),
            RecipientInput(user=admin),
        ]
        if Award.objects.filter(badge=badge).exists():
            continue  # seeded before: the seed stays idempotent
        # Issued a day after the achievement, so reports show a history, not one spike today.
        batch = IssueBatch.objects.create(
            space=space,
            badge=badge,
            source=IssueBatch.Source.MANUAL,
            status=IssueBatch.Status.DONE,
            created_by=admin,
            issued_at=when + timedelta(days=1),
            finished_at=when + timedelta(days=1),
        )
        awards_issue(
            access=Access.system(badge.space),
            badge=badge,
            recipients=people,
            achieved_at=when,
            actor=admin,
            batch=batch,
            notify=False,
        )
        if student is None:
            student = User.objects.get_by_email(STUDENT_EMAIL)

    # A recipient who can sign in and see their backpack.
    if student is not None and not student.has_usable_password():
        user_services.user_set_password_and_verify(user=student, password=STUDENT_PASSWORD)

    # One revoked award, so "revoked" shows in the lists and the backpack.
    # (An active one: an expired award cannot be revoked, shared/API.md.)
    victim = (
        Award.objects.for_space(space)
        .filter(recipient__email__iexact=PEOPLE[-1][0])
        .order_by("pk")
        .first()
    )
    if victim is not None and victim.status == "active":
        award_revoke(
            access=Access.system(victim.space),
            award=victim,
            actor=admin,
            reason="Issued by mistake: the course was not completed.",
        )

    stdout.write(
        f"  awards: {Award.objects.for_space(space).count()} "
        f"(recipient login: {STUDENT_EMAIL} / {STUDENT_PASSWORD})"
    )
