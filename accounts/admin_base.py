"""Base classes for every Spotter ModelAdmin.

Querysets come from the model's scoped manager, so an admin page can only show
and change rows of the organisation (and branches) in scope.

Every form field that points at a gym's rows, at a person or at an organisation
(select, multi-select, raw id, autocomplete, in inlines too) offers and accepts only
those of the gym in scope (``choices_in_scope``): a tenant model's rows of the
organisation and branches in scope, the people who already belong to the gym
(``accounts.selectors.organisation_users``), the organisation itself. Anything else
is "Select a valid choice" beside the field. ``ScopedChoicesMixin`` does it for
every field, and ``SpotterAdminSite.register`` puts it under any admin registered
without it (third-party apps' admins), so no admin can forget it.
"""

from datetime import timedelta
from functools import cache

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldForeignKeyRawIdWidget

from accounts.models import Member, Organisation
from accounts.selectors import organisation_users
from accounts.tenancy import TenantModel, require_scope, scope_filter
from gymsite.errors import ServiceError
from gymsite.money import CurrencyField, money_format

# A currency is picked from the ISO 4217 list, in unfold's select.
CURRENCY_OVERRIDES = {CurrencyField: {"widget": UnfoldAdminSelectWidget}}

USER_FIELD_HELP = _(
    "Only people who already belong to this gym (a role or a member record here). "
    "Staff from outside the gym join by invitation, not by their id."
)


def is_scoped_model(model) -> bool:
    """Whether a form field pointing at this model must keep to the gym in scope."""
    return issubclass(model, (TenantModel, Organisation, get_user_model()))


def choices_in_scope(queryset: models.QuerySet) -> models.QuerySet:
    """The rows of ``queryset`` that a form in the current scope may offer and accept."""
    model = queryset.model
    scope = require_scope()
    if issubclass(model, TenantModel):
        if getattr(queryset.query, "tenant_pending", False):
            return queryset  # the scoped manager filters it when it runs
        # An unscoped queryset handed to a form: scope it here.
        return queryset.filter(scope_filter(model, scope))
    if issubclass(model, Organisation):
        return queryset.filter(pk=scope.organisation_id)
    if issubclass(model, get_user_model()):
        people = organisation_users(organisation_id=scope.organisation_id)
        return queryset.filter(pk__in=people.values("pk"))
    return queryset


class ScopedRawIdWidget(UnfoldForeignKeyRawIdWidget):
    """A raw-id input whose label (the name shown beside the id) is looked up in the
    field's choices: a typed id of a person or row outside the gym shows nothing."""

    def __init__(self, rel, admin_site, attrs=None, using=None, *, queryset):
        super().__init__(rel, admin_site, attrs, using)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            obj = self.queryset.using(self.db).get(**{key: value})
        except (ValueError, TypeError, self.rel.model.DoesNotExist, ValidationError):
            return "", ""
        opts = obj._meta
        try:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
            )
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


def _scoped_declared_fields(form_class):
    """A form's own declared model-choice fields (not built by ``formfield_for_*``) are
    class attributes shared by every request: scope copies of them, in a subclass."""
    scoped = {}
    for name, field in getattr(form_class, "declared_fields", {}).items():
        if isinstance(field, forms.ModelChoiceField) and is_scoped_model(field.queryset.model):
            copy = field.__deepcopy__({})
            copy.queryset = choices_in_scope(field.queryset)
            scoped[name] = copy
    if not scoped:
        return form_class
    return type(form_class.__name__, (form_class,), scoped)


class ScopedChoicesMixin:
    """For every ModelAdmin and inline: relation fields keep to the gym in scope."""

    def _choices(self, db_field, request, kwargs) -> models.QuerySet:
        """The field's queryset as Django would pick it (the admin's own, else the
        related admin's ordering, else the default manager), kept to the scope."""
        db = kwargs.get("using")
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(db, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(db)
        return choices_in_scope(queryset)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.remote_field.model
        if is_scoped_model(model):
            db = kwargs.get("using")
            kwargs["queryset"] = self._choices(db_field, request, kwargs)
            if (
                "widget" not in kwargs
                and db_field.name in self.raw_id_fields
                and db_field.name not in self.get_autocomplete_fields(request)
            ):
                kwargs["widget"] = ScopedRawIdWidget(
                    db_field.remote_field, self.admin_site, using=db, queryset=kwargs["queryset"]
                )
            if issubclass(model, get_user_model()) and not db_field.help_text:
                kwargs.setdefault("help_text", USER_FIELD_HELP)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        model = db_field.remote_field.model
        if is_scoped_model(model):
            kwargs["queryset"] = self._choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return _scoped_declared_fields(form)

    def get_changelist_form(self, request, **kwargs):
        return _scoped_declared_fields(super().get_changelist_form(request, **kwargs))

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _scoped_declared_fields(formset.form)
        return formset

    def get_inlines(self, request, obj):
        return [scoped_admin_class(inline) for inline in super().get_inlines(request, obj)]


@cache
def scoped_admin_class(admin_class):
    """``admin_class``, or a subclass of it under ``ScopedChoicesMixin``."""
    if issubclass(admin_class, ScopedChoicesMixin):
        return admin_class
    return type(
        admin_class.__name__,
        (ScopedChoicesMixin, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )


def money_column(field: str, description, *, currency: str = "currency", ordering=None):
    """An admin list column showing ``field`` with its currency as the back office's
    language writes money ("£1,234.50"), through the one formatter
    (``gymsite.money.money_format``)."""

    def show(self, obj):
        value = getattr(obj, field)
        return money_format(value() if callable(value) else value, getattr(obj, currency))

    show.short_description = description
    show.admin_order_field = ordering or field
    return show


class CappedCountPaginator(Paginator):
    """Counting millions of rows (the log, bookings, invoices) for a page number is not
    worth a scan: count at most one row past the cap. Pages past the cap are reached
    by narrowing the list (a filter, a date range, a search)."""

    cap = 10_000

    @cached_property
    def count(self):
        return self.object_list[: self.cap + 1].count()


class RecentWindowFilter(admin.SimpleListFilter):
    """A log-like list opens on its recent rows (``default``) rather than on every row
    ever written; "All time" is one click away, and a date range on ``field`` (the
    range filter beside it) replaces the window."""

    title = _("when")
    parameter_name = "when"
    field = "created_at"
    default = "30d"
    WINDOWS = {"today": 1, "7d": 7, "30d": 30, "365d": 365}

    def __init__(self, request, params, model, model_admin):
        self.range_given = any(key.startswith(f"{self.field}_") for key in request.GET)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [
            ("today", _("Last 24 hours")),
            ("7d", _("Last 7 days")),
            ("30d", _("Last 30 days")),
            ("365d", _("Last 12 months")),
            ("all", _("All time")),
        ]

    def value(self):
        return super().value() or ("all" if self.range_given else self.default)

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        days = self.WINDOWS.get(self.value())
        if days is None:
            return queryset
        return queryset.filter(**{f"{self.field}__gte": timezone.now() - timedelta(days=days)})


def recent_window_filter(field: str, default: str = "30d") -> type[RecentWindowFilter]:
    return type(
        f"RecentWindowFilter_{field}", (RecentWindowFilter,), {"field": field, "default": default}
    )


MEMBER_MATCH_LIMIT = 500


class MemberSearchMixin:
    """Search a list by its member's name or email through the members' trigram
    indexes, then by the member ids found; plus exact matches on ``exact_search_fields``
    (numbers, references). An ``ILIKE '%…%'`` across a join to the member has to read
    every row of the list's table; this reads the matching members, then an index.
    """

    member_search_path = "member"
    exact_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        words = search_term.split()
        if not words:
            return queryset, False
        # The gym's members, not only the branches in scope: a member of another
        # branch may have invoices or visits here. Only their ids leave this query,
        # to filter the list, which stays scoped.
        members = Member.objects.unscoped().filter(organisation_id=require_scope().organisation_id)
        for word in words:
            members = members.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        member_ids = list(members.values_list("pk", flat=True)[:MEMBER_MATCH_LIMIT])
        found = Q(**{f"{self.member_search_path}__in": member_ids})
        term = search_term.strip()
        for name in self.exact_search_fields:
            field = queryset.model._meta.get_field(name)
            try:
                value = field.to_python(term)
                field.run_validators(value)
            except ValidationError:
                continue
            found |= Q(**{name: value})
        return queryset.filter(found), False


class TenantAdmin(ScopedChoicesMixin, ModelAdmin):
    formfield_overrides = CURRENCY_OVERRIDES
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator


class TenantTabularInline(ScopedChoicesMixin, TabularInline):
    formfield_overrides = CURRENCY_OVERRIDES
    extra = 0


class TenantStackedInline(ScopedChoicesMixin, StackedInline):
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
