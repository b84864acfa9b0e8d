"""The app's URLs plus the benchmark's floor: a bare view that returns a constant. It exists
only in this URLconf (bench.settings_public), never in the app's."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from badgeplatform.access import public_view
from badgeplatform.urls import urlpatterns as app_urlpatterns


@public_view("Benchmark floor only (bench.public); not in the app's URLconf.")
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"ok":true}', content_type="application/json")


urlpatterns = [path("bench/floor", floor, name="bench_floor"), *app_urlpatterns]
