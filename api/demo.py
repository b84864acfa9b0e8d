"""Demo data: a rule on the demo space's first published badge (when there is one).

No API key is made here: its token is a secret shown once, so the administrator creates one in
System settings → API keys (or with `manage.py createapikey --space demo`).
"""

from badges.models import Badge, Rule


def seed(*, space, admin, stdout) -> None:
    badge = Badge.objects.for_space(space).published().order_by("pk").first()
    if badge is None:
        stdout.write("  rules: none (no published badge to award yet)")
        return
    Rule.objects.get_or_create(
        space=space,
        activity_id="workshop-attended",
        defaults={
            "organisation": badge.organisation,
            "name": "Three workshops within 30 days",
            "badge": badge,
            "threshold": 3,
            "window_days": 30,
            "created_by": admin,
        },
    )
    stdout.write(f"  rules: {Rule.objects.for_space(space).count()}")
