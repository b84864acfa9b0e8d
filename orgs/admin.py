from django.contrib import admin
from mptt.admin import MPTTModelAdmin

from orgs.models import Group, Organisation, Space

# Plan's admin is branding's (branding/admin.py): its form knows the feature catalogue.


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "plan", "trial_plan", "trial_ends_at", "created_at"]
    list_filter = ["plan"]
    search_fields = ["name", "slug"]
    # The operator sets the paid plan; a trial is the space administrator's own (once), and
    # shown here for information only.
    readonly_fields = [
        "public_id",
        "created_at",
        "trial_plan",
        "trial_started_at",
        "trial_ends_at",
        "trial_reminded_at",
        "trial_end_recorded_at",
    ]


@admin.register(Organisation)
class OrganisationAdmin(MPTTModelAdmin):
    list_display = ["name", "space"]
    list_filter = ["space"]
    search_fields = ["name"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "space"]
    list_filter = ["space"]
