from django import forms
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from badgeplatform.access import space_view
from badgeplatform.htmx import render_form
from badgeplatform.models import AuditEntry
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class AuditFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    action = forms.CharField(required=False, label="Action starts with", max_length=60)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )


@space_view(Perm.MANAGE_SETTINGS)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """Read-only: entries are written by services, never edited from the UI."""
    request.access.require(Perm.MANAGE_SETTINGS)
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.filter(space=request.space)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            entries = entries.filter(
                Q(actor_label__icontains=data["q"]) | Q(object_label__icontains=data["q"])
            )
        if data["action"]:
            entries = entries.filter(action__startswith=data["action"])
        if data["date_from"]:
            entries = entries.filter(at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(at__date__lte=data["date_to"])
    page = paginate(request, entries, 50)
    actions = (
        AuditEntry.objects.filter(space=request.space)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
    return render_form(
        request,
        "audit/log.html",
        {"form": form, "page": page, "actions": actions},
        form,
    )
