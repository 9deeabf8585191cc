"""Thin Celery tasks: take ids, enter the tenant scope, call one service."""

from celery import shared_task

from accounts.tenancy import for_each_organisation
from inventory import services


@shared_task
def holds_expire() -> int:
    """Every minute: return the stock of unpaid holds past their time, in every gym.

    Buyers never wait for this job: availability already counts an expired hold as
    free, and a purchase that finds nothing left sweeps that sale's holds itself.
    Safe to run again (each expiry is a conditional update), so no retries needed.
    """
    results = for_each_organisation(services.orders_expire_due)
    return sum(count for count in results.values() if isinstance(count, int))
