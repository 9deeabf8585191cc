"""Real threads against the real database, at most ``WORKERS`` connections at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from django.db import connection

from accounts.tenancy import tenant_scope

WORKERS = 30


def run_in_waves(
    func: Callable, arguments: Sequence, *, organisation_id: int, workers: int = WORKERS
) -> list:
    """Call ``func(argument)`` for each argument, ``workers`` threads at a time.

    Each wave's threads wait on a barrier and then fire together, so their writes
    meet in the database at the same moment. Returns each call's result or the
    exception it raised, in argument order.
    """
    results: list = [None] * len(arguments)
    for start in range(0, len(arguments), workers):
        wave = list(enumerate(arguments))[start : start + workers]
        barrier = threading.Barrier(len(wave))

        def worker(index, argument, barrier=barrier):
            try:
                with tenant_scope(organisation_id):
                    # Connect before the barrier, so connecting is not what spreads them out.
                    connection.ensure_connection()
                    barrier.wait()
                    results[index] = func(argument)
            except Exception as exc:
                results[index] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=item) for item in wave]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return results
