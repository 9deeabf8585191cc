"""Billing jobs: thin wrappers that enter each gym's scope and call services."""

from celery import shared_task

from accounts.tenancy import for_each_organisation
from billing import services


@shared_task
def billing_collect_due() -> dict:
    """Dunning: retry the automatic charges whose next attempt is due."""
    return for_each_organisation(services.invoices_collect_due)


@shared_task
def billing_account_charges_sweep() -> dict:
    """Bill account charges that waited longer than BILLING_ACCOUNT_CHARGES_MAX_DAYS
    (members with no renewal invoice to carry them)."""
    return for_each_organisation(services.account_charges_bill_stale)
