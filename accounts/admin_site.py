from functools import wraps

from django.contrib.admin import ModelAdmin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.sites import UnfoldAdminSite

from accounts.admin_base import choices_in_scope, is_scoped_model, scoped_admin_class
from accounts.selectors import admin_timezone, is_staff_in, staff_scope_for
from accounts.tenancy import get_scope, reset_scope, set_scope


class ScopedAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete offers what the field accepts: the gym's rows and people only,
    whatever the searched model's own admin lists (the users' admin lists everyone)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if is_scoped_model(queryset.model):
            queryset = choices_in_scope(queryset)
        return queryset


class SpotterAdminSite(UnfoldAdminSite):
    """The managers' back office.

    Open to a gym's owners, branch managers and front desk (by their roles, not a
    global is_staff flag). Every admin view runs in the person's staff scope, so
    branch staff only reach their branches' rows, whatever the ModelAdmin does.
    """

    site_header = _("Spotter back office")
    site_title = _("Spotter")
    index_title = _("Dashboard")

    def register(self, model_or_iterable, admin_class=None, **options):
        # Third-party apps register their own ModelAdmins: their forms keep to the
        # gym in scope as ours do (accounts.admin_base.ScopedChoicesMixin).
        admin_class = scoped_admin_class(admin_class or ModelAdmin)
        super().register(model_or_iterable, admin_class, **options)

    def autocomplete_view(self, request):
        return ScopedAutocompleteJsonView.as_view(admin_site=self)(request)

    def has_permission(self, request):
        scope = get_scope()
        user = request.user
        return scope is not None and is_staff_in(user=user, organisation_id=scope.organisation_id)

    def admin_view(self, view, cacheable=False):
        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)
        def in_staff_scope(request, *args, **kwargs):
            scope = get_scope()
            if scope is None or request.user.is_anonymous:
                return guarded(request, *args, **kwargs)
            staff_scope = staff_scope_for(user=request.user, organisation_id=scope.organisation_id)
            token = set_scope(staff_scope)
            try:
                # Dates and times are shown and typed in the gym's own time zone:
                # the page is rendered here, while that zone is active.
                with timezone.override(admin_timezone(staff_scope)):
                    response = guarded(request, *args, **kwargs)
                    if getattr(response, "is_rendered", True) is False:
                        response.render()
                    return response
            finally:
                reset_scope(token)

        return in_staff_scope

    def login(self, request, extra_context=None):
        # One login path for everyone (allauth, guarded by django-axes).
        from django.contrib.auth.views import redirect_to_login
        from django.urls import reverse

        if request.user.is_authenticated:
            return super().login(request, extra_context)
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, reverse("account_login"))


# The sidebar's front-of-house links (settings.UNFOLD["SIDEBAR"]): shown to whoever
# the page itself lets in, so nobody is offered a link that answers 403 or 404.
def can_use_desk(request) -> bool:
    scope = get_scope()
    return scope is not None and is_staff_in(
        user=request.user, organisation_id=scope.organisation_id
    )


def can_use_till(request) -> bool:
    return can_use_desk(request) and request.user.has_perm("inventory.add_order")
