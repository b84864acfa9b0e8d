from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from users.models import Member, Membership, Role, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "email_verified_at", "is_staff"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Verification", {"fields": ("email_verified_at",)}))


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "space", "is_default"]
    list_filter = ["space", "is_default"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "space", "external_id", "created_at"]
    list_filter = ["space"]
    search_fields = ["user__email", "external_id"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "organisation", "group", "space"]
    list_filter = ["space"]
