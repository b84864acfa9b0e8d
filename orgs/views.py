from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from badgeplatform.access import space_view
from orgs.models import Organisation


@space_view()
@require_GET
def tree(request: HttpRequest) -> HttpResponse:
    """The space's organisation tree, in tree order (one query)."""
    nodes = Organisation.objects.for_space(request.space).order_by("tree_id", "lft")
    return TemplateResponse(request, "orgs/tree.html", {"nodes": nodes})
