"""Small database helpers shared by the apps' services."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


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
    """For hand-written reads loaded with ``Model.from_db``: the attnames, in the
    model's field order (the order ``from_db`` wants), and the SQL select list
    ``alias."column", ...`` of a model's concrete fields — all, or those named."""
    wanted = None if attnames is None else set(attnames)
    fields = [f for f in model._meta.concrete_fields if wanted is None or f.attname in wanted]
    return (
        tuple(f.attname for f in fields),
        ", ".join(f'{alias}."{f.column}"' for f in fields),
    )
