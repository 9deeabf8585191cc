"""Base classes for every Spotter ModelAdmin.

Querysets come from the model's scoped manager, so an admin page can only show
and change rows of the organisation (and branches) in scope; a foreign-key
dropdown only offers rows in scope too.
"""

from django import forms
from django.db import transaction
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from gymsite.errors import ServiceError


class TenantAdmin(ModelAdmin):
    list_per_page = 50
    show_full_result_count = False


class TenantTabularInline(TabularInline):
    extra = 0


class TenantStackedInline(StackedInline):
    extra = 0


class ServiceAdminForm(forms.ModelForm):
    """An admin form whose save is a service call that may refuse (a full class, a
    taken slot, a capacity below the booked count).

    The call runs at the end of validation, inside the admin's transaction, so a
    refusal is shown beside its field with what was typed, nothing is saved, and no
    "saved successfully" follows. ``perform(data)`` makes the call and returns the
    saved object; the admin's ``save_model`` only takes it (``form.performed``).
    ``actor`` is the signed-in staff member (``ServiceAdminMixin`` sets it). Only for
    admins whose inlines cannot fail validation (none, or read-only ones): an inline's
    error would come after the call.
    """

    actor = None

    def perform(self, data):
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                with transaction.atomic():
                    self.performed = self.perform(data)
            except ServiceError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


class ServiceAdminMixin:
    """For a ModelAdmin whose add or change form is a ``ServiceAdminForm``."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, ServiceAdminForm):
            form = type(form.__name__, (form,), {"actor": request.user})
        return form
