"""IssueBatchRow carries its space, as every tenant table does (STYLE.md; the rows of lists in
progress take their batch's)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0015_issue_batch_rows"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="issuebatchrow",
            name="space",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="orgs.space",
            ),
        ),
        migrations.RunSQL(
            "UPDATE badges_issuebatchrow SET space_id = (SELECT b.space_id FROM "
            "badges_issuebatch b WHERE b.id = badges_issuebatchrow.batch_id)",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="issuebatchrow",
            name="space",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="orgs.space",
            ),
        ),
    ]
