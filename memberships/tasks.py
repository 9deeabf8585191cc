"""Daily membership jobs: thin wrappers that enter each gym's scope and call services."""

from celery import shared_task

from accounts.tenancy import for_each_organisation
from memberships import services


@shared_task
def memberships_daily() -> dict:
    """Freezes, expiry and cancellations, then renewals, then reminders.

    Safe to run twice or in two workers at once: every step re-checks under a row
    lock and renewal invoices are keyed by their period.
    """
    return {
        "freezes": for_each_organisation(services.memberships_apply_freezes),
        "expiry": for_each_organisation(services.memberships_expire_due),
        "renewals": for_each_organisation(services.memberships_renew_due),
        "reminders": for_each_organisation(services.memberships_send_reminders),
    }


@shared_task
def memberships_renew() -> dict:
    """Renewals alone (also run by memberships_daily), for a second run later in the day."""
    return for_each_organisation(services.memberships_renew_due)
