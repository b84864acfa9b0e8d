"""One ceiling for every request body, enforced before anything parses it.

Django's own limits cover only part of a request: DATA_UPLOAD_MAX_MEMORY_SIZE counts the
non-file fields, and uploaded files of any size are streamed to a temporary file and parsed.
So a 60 MB multipart body would be read, written to disk and handed to a view, which then
refuses the file by its own per-field limit (images 5 MB, CSV 20 MB). This middleware refuses a
declared ``Content-Length`` above ``MAX_REQUEST_BODY`` at once, with 413 and a page (or an
``{"Error": …}`` body under /api/), without reading a byte of it.

A body sent without ``Content-Length`` (chunked) is never parsed past the cap either: under
WSGI Django reads at most ``CONTENT_LENGTH`` bytes, none when it is missing, and the request
stream is wrapped below so that no future handler can read more than the cap. The reverse
proxy should refuse such bodies even earlier (``client_max_body_size``, see README.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

MB = 1024 * 1024


def _size(n: int) -> str:
    return f"{n / MB:,.1f}".removesuffix(".0") + " MB"


def too_large(request: HttpRequest, declared: int | None = None) -> HttpResponse:
    cap = settings.MAX_REQUEST_BODY
    size = f" ({declared / MB:,.1f} MB)" if declared else ""
    message = (
        f"This request{size} is larger than the {_size(cap)} the platform accepts in one "
        "request. Send a smaller file (images up to 5 MB, CSV files up to 20 MB)."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"Error": message}, status=413)
    # A static page with one value: rendering needs neither the database nor the session.
    return HttpResponse(render_to_string("413.html", {"message": message}), status=413)


class _CappedStream:
    """A request stream that refuses to deliver more than ``cap`` bytes in total."""

    def __init__(self, stream, cap: int):
        self._stream, self._left = stream, cap

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise RequestDataTooBig("Request body exceeded MAX_REQUEST_BODY.")
        return data

    def read(self, size: int = -1) -> bytes:
        limit = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._take(self._stream.read(limit))

    def readline(self, size: int = -1) -> bytes:
        limit = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._take(self._stream.readline(limit))

    def close(self) -> None:
        self._stream.close()


class RequestBodyLimitMiddleware:
    """First in MIDDLEWARE: a body above MAX_REQUEST_BODY is refused before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.MAX_REQUEST_BODY:
            return too_large(request, declared)
        if hasattr(request, "_stream"):
            request._stream = _CappedStream(request._stream, settings.MAX_REQUEST_BODY)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Django's own field limits and the capped stream, raised while a view reads the body.
        if isinstance(exception, RequestDataTooBig):
            return too_large(request)
        return None
