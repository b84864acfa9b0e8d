#!/bin/sh
# The image's entrypoint: every service of docker-compose.yml (migrate, web, worker, beat)
# starts through it, then runs its own command (`exec "$@"`).
set -eu
cd "$(dirname "$0")/.."

# The image collects the static files when it is built. If STATIC_ROOT points elsewhere (a
# volume) and holds no manifest yet, collect them now: the web process refuses to start without
# it (badgeplatform/startup.py) rather than answer 500 on every page.
if [ ! -f "${STATIC_ROOT:-$PWD/staticfiles}/staticfiles.json" ]; then
  echo "entrypoint: no static files manifest; running collectstatic" >&2
  python manage.py collectstatic --noinput -v0
fi

exec "$@"
