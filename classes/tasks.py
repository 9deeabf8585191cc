from celery import shared_task

from accounts.models import Organisation
from accounts.tenancy import tenant_scope
from classes import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def classes_materialise_sessions() -> int:
    """Keep every gym's schedules materialised N weeks ahead (idempotent)."""
    created = 0
    for organisation_id in Organisation.objects.values_list("pk", flat=True):
        with tenant_scope(organisation_id):
            created += services.schedules_materialise_all()
    return created
