"""Stripe jobs (thin): reconcile every gym that has Stripe connected."""

import logging

from celery import shared_task

from accounts.models import Organisation
from billing.stripe.config import stripe_enabled
from billing.stripe.reconciliation import stripe_reconcile

logger = logging.getLogger(__name__)


@shared_task
def stripe_reconcile_all() -> dict:
    results = {}
    for organisation_id in Organisation.objects.order_by("pk").values_list("pk", flat=True):
        if not stripe_enabled(organisation_id):
            continue
        try:
            run = stripe_reconcile(organisation_id=organisation_id)
            results[organisation_id] = {"checked": run.checked, "fixed": run.fixed}
        except Exception:
            logger.exception(
                "stripe reconciliation failed", extra={"organisation": organisation_id}
            )
    return results
