"""PostgreSQL with connection health checks only where they are needed.

Persistent connections (``DB_CONN_MAX_AGE``) need a check that a reused connection still
works (PostgreSQL restarted, a proxy cut it): Django's ``CONN_HEALTH_CHECKS`` sends a
``SELECT 1`` at the first query of every request, a round trip on every public read. Here the
check runs only for a connection idle longer than ``DB_HEALTH_CHECK_IDLE_SECONDS`` (default
10): that is when a connection is likely to have died unnoticed. A connection that broke
while busy fails its request once (answered 503 by ``badgeplatform.dbdown``) and Django closes
it at the request's end (it checks connections that saw an error), so the next request
reconnects.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper


class DatabaseWrapper(PostgresWrapper):
    _last_used = float("-inf")

    def close_if_unusable_or_obsolete(self):
        # Called at each request's start and end: health_check_done means the connection did
        # work since the last boundary.
        if self.connection is not None and self.health_check_done:
            self._last_used = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self._last_used < settings.DB_HEALTH_CHECK_IDLE_SECONDS
        ):
            self.health_check_done = True  # busy recently: no SELECT 1
            return
        super().close_if_health_check_failed()
