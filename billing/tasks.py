"""Billing jobs: thin wrappers that enter each gym's scope and call services."""

import logging

from celery import shared_task

from accounts.models import Organisation
from accounts.tenancy import tenant_scope
from billing import services

logger = logging.getLogger(__name__)


def _each_organisation(job, **kwargs) -> dict:
    results = {}
    for organisation_id in Organisation.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_scope(organisation_id):
            try:
                results[organisation_id] = job(**kwargs)
            except Exception:
                logger.exception("billing job failed", extra={"organisation": organisation_id})
    return results


@shared_task
def billing_collect_due() -> dict:
    """Dunning: retry the automatic charges whose next attempt is due."""
    return _each_organisation(services.invoices_collect_due)


@shared_task
def billing_account_charges_sweep() -> dict:
    """Bill account charges that waited longer than BILLING_ACCOUNT_CHARGES_MAX_DAYS
    (members with no renewal invoice to carry them)."""
    return _each_organisation(services.account_charges_bill_stale)
