"""Personal settings: name, a unique username, and a profile picture that goes through the one
image pipeline (verified, re-encoded, metadata stripped, size- and pixel-capped)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.factories import UserFactory
from tests.security import hostile_images as hi

pytestmark = pytest.mark.django_db

URL = reverse("accounts:settings")


def form(user, **fields):
    data = {"first_name": user.first_name, "last_name": user.last_name, "username": user.username}
    data.update(fields)
    return data


def upload(content: bytes, name="me.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_change_name_and_username(client_a, admin_a):
    response = client_a.post(URL, form(admin_a, first_name="Alicia", username="alicia"))
    assert response.status_code == 302
    admin_a.refresh_from_db()
    assert (admin_a.first_name, admin_a.username) == ("Alicia", "alicia")


def test_a_taken_username_is_refused(client_a, admin_a):
    UserFactory(username="Taken")
    response = client_a.post(URL, form(admin_a, username="taken", first_name="Changed"))
    assert response.status_code == 422
    assert "That username is taken" in response.content.decode()
    admin_a.refresh_from_db()
    assert (admin_a.username, admin_a.first_name) == ("alice", "Alice")


def test_upload_a_picture_is_reencoded_without_metadata(client_a, admin_a):
    response = client_a.post(
        URL, {**form(admin_a), "avatar": upload(hi.jpeg_with_huge_exif(), "me.jpg", "image/jpeg")}
    )
    assert response.status_code == 302
    admin_a.refresh_from_db()
    assert admin_a.avatar.name.startswith("avatars/") and admin_a.avatar.name.endswith(".png")
    assert "me" not in admin_a.avatar.name.split("/")[-1]  # a random name, not the upload's
    with admin_a.avatar.open("rb") as f:
        im = Image.open(io.BytesIO(f.read()))
        assert im.format == "PNG" and "exif" not in im.info
        assert max(im.size) <= 512


def test_a_large_picture_is_downsized(client_a, admin_a):
    client_a.post(URL, {**form(admin_a), "avatar": upload(hi.valid_png((1600, 900)))})
    admin_a.refresh_from_db()
    with admin_a.avatar.open("rb") as f:
        assert Image.open(f).size == (512, 288)


@pytest.mark.parametrize(
    "builder, message",
    [
        (hi.svg_named_png, "This file is not a PNG, JPEG or GIF image."),
        (hi.html_file, "This file is not a PNG, JPEG or GIF image."),
        (hi.truncated_png, "The file is damaged or incomplete."),
        (hi.png_bomb, "The image is too large"),
        (hi.six_megabyte_file, "the limit is 2 MB"),
    ],
)
def test_a_hostile_upload_is_refused_and_changes_nothing(client_a, admin_a, builder, message):
    response = client_a.post(
        URL, {**form(admin_a, first_name="Changed"), "avatar": upload(builder())}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    admin_a.refresh_from_db()
    assert not admin_a.avatar and admin_a.first_name == "Alice"


def test_remove_the_picture(client_a, admin_a):
    client_a.post(URL, {**form(admin_a), "avatar": upload(hi.valid_png())})
    admin_a.refresh_from_db()
    assert admin_a.avatar
    client_a.post(URL, {**form(admin_a), "remove_avatar": "on"})
    admin_a.refresh_from_db()
    assert not admin_a.avatar


def test_the_picture_shows_in_the_top_right_menu(client_a, admin_a, space_a):
    client_a.post(URL, {**form(admin_a), "avatar": upload(hi.valid_png())})
    admin_a.refresh_from_db()
    html = client_a.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    assert admin_a.avatar.url in html
    assert reverse("accounts:settings") in html


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_wrong_method(client_a):
    assert client_a.put(URL).status_code == 405
