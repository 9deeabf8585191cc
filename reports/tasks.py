"""Periodic report jobs (thin: enter each gym's scope, call one function)."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts.tenancy import for_each_organisation, require_scope
from reports import rollups, services


def _fold():
    return rollups.rollup_fold(organisation_id=require_scope().organisation_id)


@shared_task
def reports_fold():
    return for_each_organisation(_fold)


def _weekly():
    today = timezone.localdate()
    last_monday = today - timedelta(days=today.weekday() + 7)
    return services.weekly_summary_send(
        week_start=last_monday, organisation_id=require_scope().organisation_id
    )


@shared_task
def reports_weekly_summary():
    return for_each_organisation(_weekly)
