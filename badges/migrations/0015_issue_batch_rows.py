"""A browser batch's rows move from one JSON value (IssueBatch.pending_rows) to a table of
their own (IssueBatchRow), so a list of 100,000 rows is written, checked, shown and issued a
chunk at a time. Lists in progress and batches still running are carried over as they are;
their rows are checked again, as always, when the list is issued."""

import django.db.models.deletion
from django.db import migrations, models

CHUNK = 1000
DATA_KEYS = ("ref", "user", "email", "first_name", "last_name", "evidence", "results")


def rows_to_table(apps, schema_editor):
    IssueBatch = apps.get_model("badges", "IssueBatch")
    IssueBatchRow = apps.get_model("badges", "IssueBatchRow")
    batches = IssueBatch.objects.filter(
        status__in=("pending", "running"), pending_rows__isnull=False
    ).only("pk", "status", "processed", "pending_rows")
    for batch in batches.iterator(chunk_size=20):
        rows = (batch.pending_rows or {}).get("rows") or []
        running = batch.status == "running"
        start = batch.processed if running else 0  # a running batch's cursor: what is left
        made = []
        for position, r in enumerate(rows[start:], start=start):
            errors = {} if running else dict(r.get("errors") or {})
            who = "member" if running and r.get("user") else r.get("who") or ""
            email = (r.get("email") or "").lower()
            if r.get("user"):
                identity = f"user:{r['user']}"
            else:
                identity = f"email:{email}" if (who or running) and email else ""
            made.append(
                IssueBatchRow(
                    batch_id=batch.pk,
                    position=position,
                    data={k: r.get(k) for k in DATA_KEYS}
                    | {"format_errors": r.get("format_errors") or {}},
                    external_id=r.get("external_id") or "",
                    achieved_at=r.get("achieved_at") or "",
                    identity=identity[:300],
                    who=who,
                    errors=errors,
                    ok=bool(identity) and not errors,
                    problem=bool(errors) or not identity,
                )
            )
            if len(made) == CHUNK:
                IssueBatchRow.objects.bulk_create(made)
                made = []
        IssueBatchRow.objects.bulk_create(made)


def rows_to_json(apps, schema_editor):
    IssueBatch = apps.get_model("badges", "IssueBatch")
    IssueBatchRow = apps.get_model("badges", "IssueBatchRow")
    for batch in IssueBatch.objects.filter(status__in=("pending", "running")):
        rows = [
            {k: row.data.get(k) for k in DATA_KEYS}
            | {
                "format_errors": row.data.get("format_errors") or {},
                "external_id": row.external_id,
                "achieved_at": row.achieved_at,
                "who": row.who,
                "errors": {**row.errors, **row.clash},
            }
            for row in IssueBatchRow.objects.filter(batch_id=batch.pk).order_by("position")
        ]
        if batch.status == "running":
            rows = [{} for _ in range(batch.processed)] + rows  # the cursor counts from 0
        batch.pending_rows = {"rows": rows}
        batch.save(update_fields=["pending_rows"])


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0014_expiry_renewal"),
    ]

    operations = [
        migrations.CreateModel(
            name="IssueBatchRow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField()),
                ("data", models.JSONField()),
                ("external_id", models.CharField(blank=True, default="", max_length=200)),
                ("achieved_at", models.CharField(blank=True, default="", max_length=40)),
                ("identity", models.CharField(blank=True, default="", max_length=300)),
                ("who", models.CharField(blank=True, default="", max_length=10)),
                ("ext_claim", models.CharField(blank=True, default="", max_length=200)),
                ("errors", models.JSONField(blank=True, default=dict)),
                ("clash", models.JSONField(blank=True, default=dict)),
                ("ok", models.BooleanField(default=False)),
                ("problem", models.BooleanField(default=False)),
                (
                    "batch",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rows",
                        to="badges.issuebatch",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["batch", "-problem", "position"], name="batchrow_problem"
                    ),
                    models.Index(
                        fields=["batch", "identity", "achieved_at"], name="batchrow_identity"
                    ),
                    models.Index(fields=["batch", "ext_claim", "position"], name="batchrow_ext"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("batch", "position"), name="batchrow_position"
                    )
                ],
            },
        ),
        migrations.RunPython(rows_to_table, rows_to_json),
        migrations.RemoveField(
            model_name="issuebatch",
            name="pending_rows",
        ),
    ]
