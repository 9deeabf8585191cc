"""Thin Celery tasks: take ids, enter the tenant scope, call one service."""

from celery import shared_task

from accounts.models import Organisation
from accounts.tenancy import tenant_scope
from inventory import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def holds_expire() -> int:
    """Every minute: return the stock of unpaid holds past their time, in every gym.

    Buyers never wait for this job: availability already counts an expired hold as
    free, and a purchase that finds nothing left sweeps that sale's holds itself.
    """
    expired = 0
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        with tenant_scope(organisation_id):
            expired += services.orders_expire_due()
    return expired
