"""Tenant and branch isolation, enforced at the data layer.

Every organisation-owned model uses ``TenantManager``. A query through it is
filtered to the organisation (and, for branch staff, the branches) in scope, and
raises ``TenantScopeMissing`` when no scope is active: a forgotten filter is an
error, never every gym's rows.

The scope lives in a context variable, set per request by
``accounts.middleware.TenantMiddleware`` (and the API's authentication), per
task by ``gymsite.tasks.tenant_task``, and in code with ``tenant_scope(...)``.

The filter is attached when the query is compiled to SQL, not when the queryset
is built, so class-level querysets (DRF serializer fields, django-filter
filtersets, form fields) can be declared at import time and are scoped to
whichever request evaluates them. (This is why we do not use django-scopes, whose
querysets raise as soon as they are declared outside a scope.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import sql

from gymsite.errors import TenantScopeMissing  # re-exported: callers import it from here


@dataclass(frozen=True)
class TenantScope:
    organisation_id: int
    # None: every branch of the organisation (owners, members). A set: only these
    # branches (branch managers and front desk).
    branch_ids: frozenset[int] | None = None

    def allows_branch(self, branch_id: int | None) -> bool:
        return self.branch_ids is None or branch_id in self.branch_ids


_current_scope: ContextVar[TenantScope | None] = ContextVar("tenant_scope", default=None)


def get_scope() -> TenantScope | None:
    return _current_scope.get()


def require_scope() -> TenantScope:
    scope = _current_scope.get()
    if scope is None:
        raise TenantScopeMissing(
            "No organisation in scope: wrap this code in tenant_scope(organisation)."
        )
    return scope


def set_scope(scope: TenantScope | None):
    """Set the scope for the rest of the current context; returns a token for reset."""
    return _current_scope.set(scope)


def reset_scope(token) -> None:
    _current_scope.reset(token)


@contextmanager
def tenant_scope(organisation, branch_ids: Iterable[int] | None = None) -> Iterator[TenantScope]:
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    scope = TenantScope(
        organisation_id=organisation_id,
        branch_ids=None if branch_ids is None else frozenset(branch_ids),
    )
    token = _current_scope.set(scope)
    try:
        yield scope
    finally:
        _current_scope.reset(token)


class TenantQuery(sql.Query):
    """A SQL query that adds the tenant filter of the scope active when it is compiled.

    Every SELECT reaches the database through ``get_compiler`` — as a queryset's own
    query, as a subquery (``Subquery``, ``Exists``, ``__in``), in a count, an
    aggregate or an ``exists()`` — so the filter is added there, on a copy, and the
    query itself stays unscoped: a queryset declared at import time (in a form, a
    serializer, a filterset) is scoped to each request that uses it, never to the
    request that happened to import it first.
    """

    tenant_pending = True

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        if not self.tenant_pending:
            return super().get_compiler(using, connection, elide_empty)
        scoped = self.clone()
        scoped.add_q(scope_filter(self.model, require_scope()))
        scoped.tenant_pending = False
        return scoped.get_compiler(using, connection, elide_empty)


class TenantQuerySet(models.QuerySet):
    """Querysets of tenant models: scoped when they run, to the scope of that moment."""

    def __init__(self, model=None, query=None, using=None, hints=None):
        super().__init__(model, query or TenantQuery(model), using, hints)

    def unscoped(self) -> TenantQuerySet:
        """Every organisation's rows: for platform-wide jobs and migrations only."""
        clone = self._chain()
        clone.query.tenant_pending = False
        return clone

    def across_branches(self) -> TenantQuerySet:
        """The organisation in scope's rows in every branch, whatever branches the scope
        narrows to: for a rule about someone who works in several branches (is the
        trainer busy then?), which a branch manager's scope must not blind."""
        clone = self.unscoped()
        organisation_id = require_scope().organisation_id
        return clone.filter(**{self.model.tenant_organisation_path: organisation_id})

    def _scoped(self) -> TenantQuerySet:
        """A copy with the filter in its WHERE clause, for the write paths that turn
        the query into an UPDATE or DELETE query (which compile without our hook)."""
        if not self.query.tenant_pending:
            return self
        clone = self._chain()
        clone.query.add_q(scope_filter(self.model, require_scope()))
        clone.query.tenant_pending = False
        return clone

    def update(self, **kwargs):
        scoped = self._scoped()
        return super(TenantQuerySet, scoped).update(**kwargs)

    update.alters_data = True

    def _update(self, values):
        scoped = self._scoped()
        return super(TenantQuerySet, scoped)._update(values)

    def delete(self):
        scoped = self._scoped()
        return super(TenantQuerySet, scoped).delete()

    delete.alters_data = True

    def _raw_delete(self, using):
        scoped = self._scoped()
        return super(TenantQuerySet, scoped)._raw_delete(using)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            if obj.organisation_id is None:
                obj.organisation_id = require_scope().organisation_id
        return super().bulk_create(objs, *args, **kwargs)


def scope_filter(model, scope: TenantScope) -> models.Q:
    condition = models.Q(**{model.tenant_organisation_path: scope.organisation_id})
    branch_path = getattr(model, "tenant_branch_path", None)
    if scope.branch_ids is not None and branch_path:
        condition &= models.Q(**{f"{branch_path}__in": scope.branch_ids})
    return condition


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantModel(models.Model):
    """Base for every organisation-owned model.

    ``objects`` is scoped. ``tenant_branch_path`` names the lookup to the row's
    branch (``"branch"``, ``"session__branch"``) when the row belongs to one, so
    branch staff only reach their branches' rows.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", editable=False
    )

    tenant_organisation_path = "organisation_id"
    tenant_branch_path: str | None = None

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.check_scope_for_save()
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        """Also refuse a relation to another organisation's row: ``ForeignKey.validate``
        only asks whether the row exists, through the unscoped base manager."""
        errors = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # Fields already refused (a row that does not exist) are not asked again.
        skip = {*(exclude or ()), *errors}
        for name, error in self._relations_outside_organisation(skip).items():
            errors[name] = [error]
        if errors:
            raise ValidationError(errors)

    def _relations_outside_organisation(self, exclude) -> dict[str, ValidationError]:
        scope = get_scope()
        organisation_id = self.organisation_id or (scope.organisation_id if scope else None)
        if organisation_id is None:
            return {}
        found = {}
        for field in self._meta.concrete_fields:
            if (
                not isinstance(field, models.ForeignKey)
                or field.name in exclude
                or field.name == "organisation"
                or not issubclass(field.related_model, TenantModel)
            ):
                continue
            value = getattr(self, field.attname)
            if value is None:
                continue
            if field.is_cached(self):
                owner = getattr(self, field.name).organisation_id
            else:
                owner = (
                    field.related_model.objects.unscoped()
                    .filter(**{field.target_field.attname: value})
                    .values_list("organisation_id", flat=True)
                    .first()
                )
            if owner is not None and owner != organisation_id:
                found[field.name] = ValidationError(
                    field.error_messages["invalid"],
                    code="invalid",
                    params={
                        "model": field.related_model._meta.verbose_name,
                        "pk": value,
                        "field": field.target_field.name,
                        "value": value,
                    },
                )
        return found

    def check_scope_for_save(self) -> None:
        """Take the organisation in scope, or refuse a row of another organisation
        (also for code that writes rows with its own SQL)."""
        scope = get_scope()
        if self.organisation_id is None:
            self.organisation_id = require_scope().organisation_id
        elif scope is not None and scope.organisation_id != self.organisation_id:
            raise TenantScopeMissing(
                f"Refusing to save a row of organisation {self.organisation_id} "
                f"inside the scope of organisation {scope.organisation_id}."
            )


def for_each_organisation(job, **kwargs) -> dict[int, object]:
    """Run ``job(**kwargs)`` once inside each gym's scope (for periodic tasks).

    One gym's failure is logged and does not stop the others; periodic jobs are
    written to be safe to run again, so the next run picks up what failed.
    """
    import logging

    from accounts.models import Organisation

    logger = logging.getLogger("spotter.jobs")
    results: dict[int, object] = {}
    for organisation_id in Organisation.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_scope(organisation_id):
            try:
                results[organisation_id] = job(**kwargs)
            except Exception:
                logger.exception(
                    "periodic job failed for one organisation",
                    extra={
                        "job": getattr(job, "__name__", str(job)),
                        "organisation": organisation_id,
                    },
                )
    return results
