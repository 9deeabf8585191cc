from celery import shared_task

from accounts.tenancy import for_each_organisation
from staff import services


@shared_task
def shifts_flag_missed_clock_out() -> dict:
    return for_each_organisation(services.shifts_flag_missed_clock_out)


@shared_task
def certifications_remind() -> dict:
    return for_each_organisation(services.certifications_remind)
