"""schemathesis against the live API: every operation, 500 cases each, all checks.

    python -m drills.fuzz_api [--examples 500] [--keep] [-- extra schemathesis options]

A live gunicorn (DEBUG off, PostgreSQL, the drill database) with a space holding a published
badge, a few awards and a valid API key; schemathesis reads /api/openapi.json and sends every
operation --examples generated cases per phase (positive and negative data), with the key's
two headers, running every check: no 5xx, status codes, content types, headers and bodies as
the schema says, invalid data refused, valid data accepted, auth not ignored. Exits with
schemathesis's status (non-zero on any failure).
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
from datetime import timedelta

from drills.common import BIN, ROOT, Drill, make_fixtures, post


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    drill = Drill("fuzz_api")
    try:
        code = run(drill, args)
    finally:
        drill.close(keep=args.keep)
    sys.exit(code)


def run(drill: Drill, args) -> int:
    drill.setup_django()
    from django.utils import timezone

    tag = f"drill-fz-{secrets.token_hex(3)}"
    space, badge, developer_key, token, _ = make_fixtures(tag)
    drill.start_redis()
    base = drill.start_server(workers=2)
    auth = {"X-Api-Key": developer_key, "Authorization": f"Bearer {token}"}
    # Some data for the list operations to page through.
    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
    events = [
        {
            "ActivityId": str(badge.public_id),
            "ActivityTime": when,
            "UserId": f"F-{n}",
            "Email": f"f{n}@{tag}.drill",
            "FirstName": "Fuzz",
            "LastName": str(n),
        }
        for n in range(5)
    ]
    status, _ = post(
        base + "/api/ActivityEvents",
        json.dumps(events).encode(),
        {**auth, "Content-Type": "application/json"},
    )
    assert status == 200, status
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{base}/api/openapi.json",
        "-H",
        f"X-Api-Key: {developer_key}",
        "-H",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(args.examples),
        "--checks",
        "all",
        "--continue-on-failure",
        "--seed",
        "9",
        "--workers",
        "2",
        "--no-color",
        *args.extra,
    ]
    shown = [c if "Bearer" not in c else "Authorization: Bearer <token>" for c in command]
    print("$", " ".join(shown))
    return subprocess.run(command, cwd=ROOT, env=drill.env).returncode


if __name__ == "__main__":
    main()
