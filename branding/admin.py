from django.contrib import admin

from branding.forms import PlanAdminForm
from branding.models import EmailTemplate, LandingPage, SpaceBranding
from orgs.models import Plan


@admin.register(SpaceBranding)
class SpaceBrandingAdmin(admin.ModelAdmin):
    """For support: see what a space set. Changes belong in the space's own settings pages,
    which validate them, so everything here is read-only."""

    list_display = ["space", "nav_bg", "nav_text", "accent", "logo", "icon", "updated_at"]
    search_fields = ["space__name", "space__slug"]
    readonly_fields = [f.name for f in SpaceBranding._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["space", "kind", "subject", "updated_at", "updated_by"]
    list_filter = ["kind"]
    search_fields = ["space__name", "space__slug", "subject"]
    readonly_fields = [f.name for f in EmailTemplate._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(LandingPage)
class LandingPageAdmin(admin.ModelAdmin):
    list_display = ["space", "enabled", "heading", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["space__name", "space__slug", "heading"]
    readonly_fields = [f.name for f in LandingPage._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "features", "position"]
    # Feature codes are branding.plans.Feature: checkboxes, so a typo cannot silently do nothing.
    form = PlanAdminForm
