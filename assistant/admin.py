from django.contrib import admin

from accounts.admin_base import TenantAdmin

from .models import AssistantLog, AssistantSetting, AssistantUsage


@admin.register(AssistantSetting)
class AssistantSettingAdmin(TenantAdmin):
    list_display = ["__str__", "is_enabled", "daily_requests_per_person", "daily_tokens"]
    list_select_related = ["branch"]


@admin.register(AssistantUsage)
class AssistantUsageAdmin(TenantAdmin):
    list_display = ["day", "user", "requests", "tokens"]
    list_select_related = ["user"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AssistantLog)
class AssistantLogAdmin(TenantAdmin):
    """Staff review what was asked, which tools ran and what was shown (read-only)."""

    list_display = ["created_at", "role", "surface", "engine", "outcome", "question"]
    list_filter = ["outcome", "engine", "role", "surface"]
    list_select_related = ["user"]
    search_fields = ["question", "answer"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AssistantLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
