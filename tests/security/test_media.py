"""Uploaded files are served with X-Content-Type-Options: nosniff and the right type; nothing
but an image is ever served inline from our origin, and the path cannot leave MEDIA_ROOT."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from badgeplatform.images import ImagePolicy, process_image

pytestmark = pytest.mark.django_db


def put(relative: str, data: bytes) -> None:
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#2f6fde").save(buffer, "PNG")
    return buffer.getvalue()


def test_an_uploaded_image_is_served_as_an_image_with_nosniff(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = process_image(
        SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
        policy=ImagePolicy(),
    )
    put(f"graphics/{content.name}", content.read())

    response = client.get(f"/media/graphics/{content.name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "name",
    ["evil.html", "evil.svg", "evil.htm", "evil.js", "noextension", "evil.xml", "evil.png.html"],
)
def test_anything_else_is_a_download_never_a_page(client, name):
    put(f"graphics/{name}", b"<script>alert(document.domain)</script>")
    response = client.get(f"/media/graphics/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("path", ["../db.sqlite3", "..%2f..%2fetc/passwd", "/etc/passwd", "nope"])
def test_no_way_out_of_media_root(client, path):
    assert client.get(f"/media/{path}").status_code == 404
