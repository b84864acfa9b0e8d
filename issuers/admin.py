from django.contrib import admin

from issuers.models import Issuer, IssuerVersion


class IssuerVersionInline(admin.TabularInline):
    model = IssuerVersion
    extra = 0
    readonly_fields = ["number", "name", "website", "email", "description", "logo", "created_at"]
    can_delete = False


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organisation", "space", "created_at"]
    list_filter = ["space"]
    inlines = [IssuerVersionInline]
