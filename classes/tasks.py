from celery import shared_task

from accounts.tenancy import for_each_organisation
from classes import services


@shared_task
def classes_materialise_sessions() -> int:
    """Keep every gym's schedules materialised N weeks ahead (idempotent)."""
    return sum(for_each_organisation(services.schedules_materialise_all).values())
