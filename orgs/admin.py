from django.contrib import admin
from mptt.admin import MPTTModelAdmin

from orgs.models import Group, Organisation, Space

# Plan's admin is branding's (branding/admin.py): its form knows the feature catalogue.


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "plan", "created_at"]
    list_filter = ["plan"]
    search_fields = ["name", "slug"]
    readonly_fields = ["public_id", "created_at"]


@admin.register(Organisation)
class OrganisationAdmin(MPTTModelAdmin):
    list_display = ["name", "space"]
    list_filter = ["space"]
    search_fields = ["name"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "space"]
    list_filter = ["space"]
