"""The API's HTTP surface: the NinjaAPI object, key authentication, rate limits, errors.

Every operation requires a key (``auth=KeyAuth()`` on the API object); only the OpenAPI
document and the docs page are public. Every error answers ``{"Error": "…"}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security.base import AuthBase

from api.models import ApiKey
from api.services import apikey_authenticate, apikey_touch
from badgeplatform import ratelimit
from badgeplatform.dbdown import database_unavailable

log = logging.getLogger(__name__)

# One body for every authentication failure: missing, unknown, revoked or mismatched
# credentials must be indistinguishable.
UNAUTHORIZED = (
    "Unauthorized: send the key's developer key as X-Api-Key and its auth token as "
    "Authorization: Bearer <token>, of a key that has not been revoked."
)


class ApiError(Exception):
    """An answer other than 200: ``{"Error": message}`` with ``status`` (and headers)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None):
    response = JsonResponse({"Error": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def throttle(key: ApiKey) -> None:
    """At most API_RATE_LIMIT calls per API_RATE_WINDOW seconds per key (fixed window).

    The counter lives in the cache (Redis in production). If the cache is down the call is
    served: refusing every customer because a counter is unreachable is the worse failure.
    """
    window, limit = settings.API_RATE_WINDOW, settings.API_RATE_LIMIT
    try:
        count = ratelimit.hit(f"api-key:{key.pk}", window)
    except Exception:  # any cache/connection error
        log.warning("Rate-limit cache unavailable; serving key %s unthrottled", key.pk)
        return
    if count > limit:
        wait = ratelimit.retry_after(window)
        raise ApiError(
            429,
            f"Too many calls: at most {limit} per {window} seconds per key. "
            f"Retry after {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


class KeyAuth(AuthBase):
    """``X-Api-Key: <developer key>`` and ``Authorization: Bearer <auth token>``, together.

    The OpenAPI document declares both schemes as one requirement (see BadgeApi)."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "X-Api-Key"

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            token = ""
        key = apikey_authenticate(request.headers.get("X-Api-Key", "").strip(), token.strip())
        if key is None:
            return None
        throttle(key)
        apikey_touch(key)
        request.api_key = key
        return key


class BadgeApi(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any):
        """Both credentials are required together: one security requirement naming the two
        schemes (ninja would list each auth as an alternative)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {})
        components["securitySchemes"] = {
            "DeveloperKey": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Api-Key",
                "description": "The key's developer key (a public identifier).",
            },
            "AuthToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "The key's auth token, shown once when the key was created.",
            },
        }
        for methods in schema["paths"].values():
            for operation in methods.values():
                if "security" in operation:
                    operation["security"] = [{"DeveloperKey": [], "AuthToken": []}]
        return schema


api = BadgeApi(
    title="Badge Platform API",
    version="1",
    description=(
        "The Events API issues badges (directly, or through rules) and the Reporting API "
        "reads badges, rules and recipients. Every call sends `X-Api-Key: <developer key>` "
        'and `Authorization: Bearer <auth token>`; errors answer `{"Error": "…"}`.'
    ),
    urls_namespace="api",
    auth=KeyAuth(),
)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, UNAUTHORIZED, {"WWW-Authenticate": 'Bearer realm="api"'})


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.message, exc.headers)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return error_response(400, "; ".join(problems) or "Invalid request.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja's own refusals (a body that is not JSON…) in the contract's shape, not {"detail"}.
    if exc.status_code == 400:
        return error_response(400, "The body is not valid JSON.")
    return error_response(exc.status_code, str(exc) or "Refused.")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A restarting database is not a bug: 503 + Retry-After (badgeplatform.dbdown).
    log.warning("Database unavailable: %s %s: %s", request.method, request.path, exc)
    return database_unavailable(request)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, str(exc) or "This key may not do that.")
