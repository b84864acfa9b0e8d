"""The app's URLs plus the benchmark's floor: a bare JSON view doing one indexed query (an
award's id by its public id). It exists only in this URLconf (bench.settings_public), never in
the app's. It sits just before the public/ include, so resolving it costs what resolving a
public URL costs."""

import json
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.urls import path

from badgeplatform.access import public_view
from badgeplatform.urls import urlpatterns as app_urlpatterns
from badges.models import Award


@public_view("Benchmark floor only (bench.public); not in the app's URLconf.")
def floor(request: HttpRequest, award_id: UUID) -> HttpResponse:
    found = list(Award.objects.filter(public_id=award_id).values_list("pk", flat=True)[:1])
    body = json.dumps({"id": str(award_id), "found": bool(found)}).encode()
    return HttpResponse(body, content_type="application/json")


urlpatterns = list(app_urlpatterns)
_public = next(i for i, p in enumerate(urlpatterns) if str(p.pattern) == "public/")
urlpatterns.insert(_public, path("bench/floor/<uuid:award_id>", floor, name="bench_floor"))
