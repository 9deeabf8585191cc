from celery import shared_task

from accounts.tenancy import for_each_organisation
from bookings import services


@shared_task
def bookings_send_reminders() -> int:
    """Reminder emails N hours before each class and appointment (once each)."""
    return sum(for_each_organisation(services.reminders_send_due).values())


@shared_task
def bookings_settle_finished() -> int:
    """After classes end: no-shows get their penalty, waitlists close and return credits.
    After appointments end: their price goes on the member's account."""
    return sum(for_each_organisation(services.finished_settle).values())
