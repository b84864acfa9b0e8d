"""A media path holding a NUL byte (or any name the filesystem cannot take) is simply not
there: 404, never a 500 from the path resolution."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/media/x%00.png", "/media/graphics/%00", "/media/a%00/../b.png", "/media/" + "a" * 5000],
)
def test_a_media_path_with_a_nul_byte_or_an_impossible_name_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
