"""/healthz, answered before the host check and the HTTPS redirect.

The probes that call it (docker compose's healthcheck: plain HTTP to 127.0.0.1:8000; a load
balancer: its own address as Host) are neither HTTPS nor one of ALLOWED_HOSTS, so through the
normal stack they would get a 301 or a 400 and mark a healthy web process unhealthy. This
middleware sits before SecurityMiddleware and CommonMiddleware and answers the GET itself,
without reading the Host header. It says only whether the database answers: no tenant, no
version, no host name, nothing from the request.
"""

from __future__ import annotations

from csp.utils import build_policy
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

HEALTH_PATH = "/healthz"


def health_response() -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        response = JsonResponse({"status": "database unavailable"}, status=503)
    else:
        response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = health_response()
        # The middleware below never sees this response: give it their headers here.
        response["Content-Security-Policy"] = build_policy(
            config=settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Frame-Options"] = "DENY"
        response["Referrer-Policy"] = settings.SECURE_REFERRER_POLICY
        if request.method == "HEAD":
            response.content = b""
        return response
