"""Bearer-token access for the Open Badges 3.0 API's resources, and its error bodies.

``token_view(scope)`` is the token-scoped equivalent of ``badgeplatform.access.user_view``:
the request must carry ``Authorization: Bearer <access token>`` (never a session cookie, never
a query-string token) of a live token granted ``scope``; the view then runs as the token's
recipient (``request.user``) and every query it makes is scoped to that one person. A missing,
expired, revoked or disconnected token is a 401, a token without the scope a 403 — both with
the specification's ``Imsx_StatusInfo`` body.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core

# The specification's vocabulary (Imsx_CodeMinorFieldValue), by HTTP status.
CODE_MINOR = {
    304: "not_modified",
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    413: "invalid_data",
    415: "invalid_data",
    429: "server_busy",
    500: "internal_server_error",
}


def status_info(status: int, description: str, *, code_minor: str | None = None) -> dict:
    """An ``Imsx_StatusInfo`` body (the spec's error and 304 body)."""
    success = status < 400
    return {
        "imsx_codeMajor": "success" if success else "failure",
        "imsx_severity": "status" if success else "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "Badge Platform",
                    "imsx_codeMinorFieldValue": code_minor or CODE_MINOR.get(status, "unknown"),
                }
            ]
        },
    }


def error(status: int, description: str, *, code_minor: str | None = None) -> JsonResponse:
    response = JsonResponse(status_info(status, description, code_minor=code_minor), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="Open Badges 3.0 API"'
    return response


def _bearer(request: HttpRequest) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[:7].lower() == "bearer " and len(header) > 7


def token_view(*scopes_by_method: tuple[str, str]) -> Callable:
    """Declare an API resource: ``token_view(("GET", READ), ("POST", UPSERT))`` — each method
    the view answers and the scope it needs. Other methods get 405."""
    needs = dict(scopes_by_method)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            scope = needs.get(request.method)
            if scope is None:
                response = error(405, f"{request.method} is not supported here.")
                response["Allow"] = ", ".join(needs)
                return response
            if not _bearer(request):
                return error(401, "Send an access token: Authorization: Bearer <token>.")
            valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
            token = getattr(oauth_request, "access_token", None)
            if not valid or token is None or token.user is None:
                return error(401, "The access token is not valid (expired, revoked or unknown).")
            if not token.allow_scopes([scope]):
                return error(403, f"The access token was not granted the scope {scope}.")
            request.user = token.user
            request.oauth_token = token
            return view(request, *args, **kwargs)

        wrapper.access_declaration = ("token", tuple(sorted(set(needs.values()))))
        return wrapper

    return decorator
