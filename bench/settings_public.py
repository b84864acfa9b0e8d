"""Settings for bench.public only: the app's settings plus a URLconf with the floor view."""

from badgeplatform.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_public"
