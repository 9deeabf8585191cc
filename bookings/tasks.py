from celery import shared_task

from accounts.models import Organisation
from accounts.tenancy import tenant_scope
from bookings import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def bookings_send_reminders() -> int:
    """Reminder emails N hours before each class (once per booking)."""
    sent = 0
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        with tenant_scope(organisation_id):
            sent += services.bookings_send_reminders()
    return sent


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def bookings_settle_finished() -> int:
    """After classes end: no-shows get their penalty, waitlists close and return credits."""
    settled = 0
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        with tenant_scope(organisation_id):
            settled += services.bookings_settle_finished()
    return settled
