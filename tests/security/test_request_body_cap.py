"""A body above MAX_REQUEST_BODY (24 MB) is refused with 413 before anything parses it: a page
for the site, ``{"Error": …}`` for the API. Per-field limits (a 2 MB avatar) stay the forms'."""

import io
import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory
from django.urls import reverse
from PIL import Image

from badgeplatform.bodylimit import RequestBodyLimitMiddleware

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BOUNDARY = "----capboundary"


def multipart(size: int) -> bytes:
    """One file field of ``size`` bytes, encoded by hand (fast: no 60 MB of Python strings)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="avatar"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + b"\0" * size + f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def parses(monkeypatch):
    """Counts how often a multipart body is parsed."""
    calls = []
    original = MultiPartParser.parse

    def spy(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(MultiPartParser, "parse", spy)
    return calls


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "#2f6fde").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_60_mb_multipart_body_is_refused_with_413_before_it_is_parsed(client_a, admin_a, parses):
    response = client_a.generic(
        "POST",
        reverse("accounts:settings"),
        multipart(60 * MB),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "This request (60.0 MB) is larger than the 24 MB" in page
    assert parses == []


def test_a_60_mb_body_to_the_api_is_413_with_an_error_body(client, parses):
    response = client.generic(
        "POST",
        "/api/badges",
        multipart(60 * MB),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 413
    assert "larger than the 24 MB" in json.loads(response.content)["Error"]
    assert parses == []


def test_a_normal_upload_still_works(client_a, admin_a):
    response = client_a.post(
        reverse("accounts:settings"),
        {
            "first_name": admin_a.first_name,
            "last_name": admin_a.last_name,
            "username": admin_a.username,
            "avatar": SimpleUploadedFile("me.png", png(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    admin_a.refresh_from_db()
    assert admin_a.avatar.name.startswith("avatars/")


def test_the_per_field_limit_still_answers_with_the_form_error(client_a, admin_a):
    response = client_a.post(
        reverse("accounts:settings"),
        {
            "first_name": admin_a.first_name,
            "last_name": admin_a.last_name,
            "username": admin_a.username,
            "avatar": SimpleUploadedFile("me.png", b"\0" * (3 * MB), content_type="image/png"),
        },
    )
    assert response.status_code == 422  # under the global cap: the avatar's own 2 MB rule
    admin_a.refresh_from_db()
    assert not admin_a.avatar


def test_a_body_without_content_length_is_never_read_past_the_cap(settings):
    """Chunked bodies carry no Content-Length. Under WSGI Django reads none of them; should a
    handler hand over an unbounded stream (ASGI does), the middleware's cap stops the read, and
    the error becomes a 413."""
    settings.MAX_REQUEST_BODY = 1000
    request = RequestFactory().generic("POST", "/x", b"{}", content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    request._stream = io.BytesIO(b"x" * 5000)  # a stream that would give all 5 kB
    middleware = RequestBodyLimitMiddleware(lambda req: HttpResponse(req.body))

    with pytest.raises(RequestDataTooBig) as raised:
        middleware(request)
    assert middleware.process_exception(request, raised.value).status_code == 413


def test_a_small_body_without_content_length_reads_whole(settings):
    settings.MAX_REQUEST_BODY = 1000
    request = RequestFactory().generic("POST", "/x", b"{}", content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    request._stream = io.BytesIO(b"y" * 1000)
    response = RequestBodyLimitMiddleware(lambda req: HttpResponse(req.body))(request)
    assert response.content == b"y" * 1000
