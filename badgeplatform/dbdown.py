"""A database that is restarting or unreachable answers 503 with a message, not a 500.

While PostgreSQL restarts (a failover, an upgrade) every query raises OperationalError or
InterfaceError. Each request is one transaction (the services are atomic), so nothing was
half-written: the caller may simply retry. Telling them so, with 503 and Retry-After, is the
honest answer; a 500 says "our bug". The API's handler (api/http.py) uses the same response.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
MESSAGE = (
    "The database is unavailable for a moment (restarting or unreachable). Nothing was saved "
    "by this request; please retry in a few seconds."
)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"Error": MESSAGE}, status=503)
    else:
        # A static template with no context: rendering must not need the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turn database connection errors raised by a view (or its template) into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            log.warning("Database unavailable: %s %s: %s", request.method, request.path, exception)
            return database_unavailable(request)
        return None
