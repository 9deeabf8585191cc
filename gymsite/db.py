"""Small database helpers shared by the apps' services."""

from collections.abc import Iterator
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
