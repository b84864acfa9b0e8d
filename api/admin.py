from django.contrib import admin

from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "developer_key", "space", "organisation", "last_used_at", "revoked_at"]
    list_filter = ["space"]
    search_fields = ["name", "developer_key"]
    # The token hash is never shown or edited; keys are made and revoked in the space's pages.
    readonly_fields = ["developer_key", "created_at", "created_by", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request) -> bool:
        return False
