import subprocess
import sys
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from orgs.models import Organisation, Space
from users.models import Membership, User

pytestmark = pytest.mark.django_db


def test_createspace_with_password_makes_a_ready_admin():
    out = StringIO()
    call_command(
        "createspace",
        name="Harbour School",
        slug="harbour",
        admin_email="head@harbour.test",
        admin_password="a-long-and-unusual-passphrase-42",
        stdout=out,
    )
    space = Space.objects.get(slug="harbour")
    assert Organisation.objects.get(space=space).name == "Harbour School"
    admin = User.objects.get(email="head@harbour.test")
    assert admin.is_verified and admin.check_password("a-long-and-unusual-passphrase-42")
    assert Membership.objects.get(space=space, user=admin).role.name == "Space Administrator"
    assert "harbour" in out.getvalue()


def test_createspace_without_password_sends_verification(committed):
    with committed():
        call_command(
            "createspace", name="Quay", slug="quay", admin_email="q@quay.test", stdout=StringIO()
        )
    assert mail.outbox[0].to == ["q@quay.test"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slug": "admin"}, "already taken"),
        ({"slug": "bad slug"}, "valid"),
        ({"admin_email": "nope"}, "valid email"),
        ({"admin_password": "123"}, "Weak password"),
    ],
)
def test_createspace_refuses_bad_input_and_creates_nothing(kwargs, message):
    args = {"name": "X", "slug": "x", "admin_email": "x@x.test", **kwargs}
    with pytest.raises(CommandError, match=message):
        call_command("createspace", stdout=StringIO(), **args)
    assert not Space.objects.exists() and not User.objects.exists()


def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=StringIO())
    counts = (Space.objects.count(), Organisation.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Space.objects.count(), Organisation.objects.count(), User.objects.count()) == counts
    assert Organisation.objects.filter(space__slug="demo").count() > 5


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # What collectstatic leaves (its manifest); without it the deploy check errs (startup.py).
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    env = {
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "-production-like-secret-key-with-enough-entropy-1234567890",
        "ALLOWED_HOSTS": "badges.example.com",
        "SITE_URL": "https://badges.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # The shared cache the throttles need (the check only reads the setting; no connection).
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={"DEBUG": "0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
