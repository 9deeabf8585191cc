"""Small database helpers shared by the apps' services."""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin
from django.db.models.signals import post_init, pre_init


@contextmanager
def single_statement() -> Iterator[None]:
    """Run a service that is one SQL statement (a CTE doing all its writes).

    A statement is atomic on its own, so outside a transaction it runs as it is, with
    no BEGIN/COMMIT round trips; inside a caller's transaction it gets a savepoint, so
    its failure (a unique violation turned into a 409, say) leaves the caller's
    transaction usable.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            yield
    else:
        yield


def select_list(model, alias: str, attnames: Iterable[str] | None = None):
    """For hand-written reads loaded with ``loaded_instance``: the attnames, in the
    model's field order (the order ``from_db`` wants), and the SQL select list
    ``alias."column", ...`` of a model's concrete fields — all, or those named."""
    wanted = None if attnames is None else set(attnames)
    fields = [f for f in model._meta.concrete_fields if wanted is None or f.attname in wanted]
    return (
        tuple(f.attname for f in fields),
        ", ".join(f'{alias}."{f.column}"' for f in fields),
    )


def insert_list(model, values: Mapping[str, str]) -> tuple[str, str]:
    """For a hand-written ``INSERT``: the column list and the matching list of values,
    in the model's field order, for every concrete field but an automatic primary key.

    ``values`` maps each field's attname to its SQL (a placeholder, an expression, a
    CTE's column). A field it leaves out, or one the model does not have, raises when
    the statement is built: a column added to the model later cannot be forgotten by
    the statement (nor left to a default the database does not have).
    """
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, AutoFieldMixin))
    ]
    missing = [f.attname for f in fields if f.attname not in values]
    unknown = sorted(set(values) - {f.attname for f in fields})
    if missing or unknown:
        raise ImproperlyConfigured(
            f"INSERT into {model._meta.label}: no value for {missing or 'none'}, "
            f"unknown fields {unknown or 'none'}."
        )
    return (
        ", ".join(f'"{f.column}"' for f in fields),
        ", ".join(values[f.attname] for f in fields),
    )


def loaded_instance(model, attnames: tuple[str, ...], values, alias: str = DEFAULT_DB_ALIAS):
    """``model.from_db(alias, attnames, values)``, built without ``Model.__init__``.

    For the hot reads (a booking, a door check-in) that load several models from one
    hand-written row: ``__init__`` walks every field of the model, selected or not,
    which for a booking's eight instances cost about as much Python as sending the
    query and reading its row. The instance is the one
    ``from_db`` makes: the selected columns as attributes, the rest deferred (loaded
    on access), saved state. A model with init signal receivers (an ImageField with
    dimension fields, say) goes through ``from_db`` so they still run.
    """
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(alias, attnames, values)
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding, state.db = False, alias
    return instance


def attach_related(instance, **related) -> None:
    """Put loaded related objects in ``instance``'s cache, as ``select_related`` does
    (no assignment checks: the row they came from joined them by the foreign key)."""
    fields = instance._meta
    for name, value in related.items():
        fields.get_field(name).set_cached_value(instance, value)
