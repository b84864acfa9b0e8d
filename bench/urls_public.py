"""The app's URLs plus the benchmark's floor: a bare view that returns a constant. It exists
only in this URLconf (bench.settings_public), never in the app's. It sits just before the
public/ include, so resolving it costs what resolving a public URL costs."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from badgeplatform.access import public_view
from badgeplatform.urls import urlpatterns as app_urlpatterns


@public_view("Benchmark floor only (bench.public); not in the app's URLconf.")
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"ok":true}', content_type="application/json")


urlpatterns = list(app_urlpatterns)
_public = next(i for i, p in enumerate(urlpatterns) if str(p.pattern) == "public/")
urlpatterns.insert(_public, path("bench/floor", floor, name="bench_floor"))
