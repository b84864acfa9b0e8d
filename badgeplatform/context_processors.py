from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from badgeplatform import nav


def shell(request: HttpRequest) -> dict:
    """The application shell's data: the menu, the current space and the user's spaces.

    Lazy objects keep pages that don't render the shell (public JSON, emails) query-free and
    evaluate at most once per request.
    """
    user = getattr(request, "user", None)

    def my_spaces():
        if user is None or not user.is_authenticated:
            return []
        from orgs.models import Space

        return list(Space.objects.filter(members__user=user).order_by("name"))

    return {
        "menu": SimpleLazyObject(lambda: nav.build_menu(request)),
        "current_space": getattr(request, "space", None),
        "space_access": getattr(request, "access", None),
        "my_spaces": SimpleLazyObject(my_spaces),
    }
