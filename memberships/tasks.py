"""Daily membership jobs: thin wrappers that enter each gym's scope and call services."""

import logging

from celery import shared_task

from accounts.models import Organisation
from accounts.tenancy import tenant_scope
from memberships import services

logger = logging.getLogger(__name__)


def _each_organisation(job, **kwargs) -> dict:
    results = {}
    for organisation_id in Organisation.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_scope(organisation_id):
            try:
                results[organisation_id] = job(**kwargs)
            except Exception:
                # One gym's failure must not stop the others; the job is safe to re-run.
                logger.exception("membership job failed", extra={"organisation": organisation_id})
    return results


@shared_task
def memberships_daily() -> dict:
    """Freezes, expiry and cancellations, then renewals, then reminders.

    Safe to run twice or in two workers at once: every step re-checks under a row
    lock and renewal invoices are keyed by their period.
    """
    return {
        "freezes": _each_organisation(services.memberships_apply_freezes),
        "expiry": _each_organisation(services.memberships_expire_due),
        "renewals": _each_organisation(services.memberships_renew_due),
        "reminders": _each_organisation(services.memberships_send_reminders),
    }


@shared_task
def memberships_renew() -> dict:
    """Renewals alone (also run by memberships_daily), for a second run later in the day."""
    return _each_organisation(services.memberships_renew_due)
