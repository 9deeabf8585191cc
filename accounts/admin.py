from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.admin_base import TenantAdmin, TenantTabularInline
from accounts.models import (
    AuditLog,
    Branch,
    Certification,
    Member,
    OpeningHours,
    Organisation,
    RoleAssignment,
    TrainerCertification,
    TrainerProfile,
    User,
)
from accounts.tenancy import get_scope


@admin.register(User)
class UserAdmin(DjangoUserAdmin, TenantAdmin):
    """Logins are global across gyms, so only platform operators manage them here."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Name"), {"fields": ["first_name", "last_name"]}),
        (_("Platform"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = []

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(TenantAdmin):
    list_display = ["name", "slug", "domain", "currency"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "domain", "currency", "default_timezone", "email"]}),
        (
            _("Branding"),
            {
                "fields": ["logo", "favicon", "brand_colour", "accent_colour"],
                "description": _(
                    "Shown on every page of the member and trainer portals, in emails "
                    "and in the installable app."
                ),
            },
        ),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("brand_colour", "accent_colour"):
            kwargs["widget"] = forms.TextInput(attrs={"type": "color"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        scope = get_scope()
        queryset = super().get_queryset(request)
        return queryset.filter(pk=scope.organisation_id) if scope else queryset.none()

    def has_module_permission(self, request):
        return request.user.has_perm("accounts.change_branch")

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.has_perm("accounts.add_branch")

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


class OpeningHoursInline(TenantTabularInline):
    model = OpeningHours


@admin.register(Branch)
class BranchAdmin(TenantAdmin):
    list_display = ["name", "city", "timezone", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "city"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(TenantAdmin):
    list_display = ["user", "role", "branch", "created_at"]
    list_filter = ["role", "branch"]
    list_select_related = ["user", "branch"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]


@admin.register(Member)
class MemberAdmin(TenantAdmin):
    list_display = ["full_name", "email", "phone", "home_branch", "payer", "status", "joined_at"]
    list_filter = ["status", "home_branch"]
    list_select_related = ["home_branch", "payer"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    raw_id_fields = ["user", "payer"]
    readonly_fields = ["joined_at"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "phone", "date_of_birth", "photo"]}),
        (_("Gym"), {"fields": ["home_branch", "status", "joined_at", "user", "payer"]}),
        (
            _("Safety"),
            {"fields": ["emergency_contact_name", "emergency_contact_phone"]},
        ),
        (_("Notes"), {"fields": ["goals", "notes"]}),
    ]

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, obj):
        return obj.full_name

    def has_delete_permission(self, request, obj=None):
        # Members carry history: archive them instead.
        return False


@admin.register(Certification)
class CertificationAdmin(TenantAdmin):
    list_display = ["name", "issuing_body"]
    search_fields = ["name"]


class TrainerCertificationInline(TenantTabularInline):
    model = TrainerCertification
    fields = ["certification", "issuing_body", "reference", "expires_on"]
    extra = 0


@admin.register(TrainerProfile)
class TrainerProfileAdmin(TenantAdmin):
    inlines = [TrainerCertificationInline]
    list_display = ["display_name", "user", "hourly_rate", "currency", "is_active"]
    list_filter = ["is_active", "branches"]
    search_fields = ["display_name", "user__email"]
    raw_id_fields = ["user"]
    filter_horizontal = ["branches"]


@admin.register(AuditLog)
class AuditLogAdmin(TenantAdmin):
    list_display = ["created_at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    list_select_related = ["actor"]
    search_fields = ["target_id", "actor__email"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
