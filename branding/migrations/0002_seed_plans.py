"""Seed the three plans (Free, Standard, White-label) with their feature codes.

The data is copied here rather than imported from branding.plans, so this migration keeps
meaning what it meant when it was written; a later change of plans is a new migration.
Existing rows with these codes are updated; the operator's other plans are left alone.
"""

from django.db import migrations

PLANS = [
    {
        "code": "free",
        "name": "Free",
        "description": "Everything needed to issue verifiable badges, in the platform's look.",
        "features": ["custom_colours"],
        "position": 0,
    },
    {
        "code": "standard",
        "name": "Standard",
        "description": "Your logo, icon and colours, and emails written in your own words.",
        "features": ["custom_colours", "custom_emails", "custom_logo"],
        "position": 1,
    },
    {
        "code": "white-label",
        "name": "White-label",
        "description": "Standard, plus a landing page of your own and emails under your name only.",
        "features": [
            "custom_colours",
            "custom_emails",
            "custom_logo",
            "landing_page",
            "white_label_emails",
        ],
        "position": 2,
    },
]


def seed(apps, schema_editor):
    Plan = apps.get_model("orgs", "Plan")
    for row in PLANS:
        Plan.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [
        ("branding", "0001_initial"),
        ("orgs", "0002_plan"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
