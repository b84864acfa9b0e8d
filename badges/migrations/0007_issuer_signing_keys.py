"""Keys belong to issuers: retire the per-space keys and give every issuer its own.

The per-space keys stay (retired, still published with their controller document), so every
credential they signed keeps verifying; from now on each issuer signs with its own key,
controlled by its stable id. Issuers made later get theirs on first use
(``badges.openbadges.keys.signing_key_for``).
"""

import uuid

from django.db import migrations
from django.utils import timezone


def give_issuers_keys(apps, schema_editor):
    from badges.openbadges.keys import encrypt_private_key
    from badges.openbadges.signing import generate_keypair, public_key_multibase

    SigningKey = apps.get_model("badges", "SigningKey")
    Issuer = apps.get_model("issuers", "Issuer")
    SigningKey.objects.filter(issuer__isnull=True, retired_at__isnull=True).update(
        retired_at=timezone.now()
    )
    have = set(
        SigningKey.objects.filter(issuer__isnull=False, retired_at__isnull=True).values_list(
            "issuer_id", flat=True
        )
    )
    rows = []
    for issuer_id, space_id in Issuer.objects.order_by("pk").values_list("pk", "space_id"):
        if issuer_id in have:
            continue
        seed, public = generate_keypair()
        public_id = uuid.uuid4()
        rows.append(
            SigningKey(
                space_id=space_id,
                issuer_id=issuer_id,
                public_id=public_id,
                public_key_multibase=public_key_multibase(public),
                private_key_encrypted=encrypt_private_key(seed, str(public_id)),
            )
        )
    SigningKey.objects.bulk_create(rows, batch_size=500)


def retire_issuers_keys(apps, schema_editor):
    """Backwards: the keys stay (credentials may name them) but sign no more, so the
    one-active-key-per-space rule of before holds again (the old code makes a new space key on
    first use)."""
    SigningKey = apps.get_model("badges", "SigningKey")
    SigningKey.objects.filter(issuer__isnull=False, retired_at__isnull=True).update(
        retired_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0006_signing_keys_per_issuer"),
        ("issuers", "0001_initial"),
    ]

    operations = [migrations.RunPython(give_issuers_keys, retire_issuers_keys)]
