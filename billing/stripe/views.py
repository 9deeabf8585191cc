"""Stripe's webhook endpoint. Thin: read the raw body and signature, hand over."""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Organisation
from billing.stripe.webhooks import WebhookRejected, webhook_receive

logger = logging.getLogger(__name__)

# Stripe never sends more than this; a bigger body is not an event.
MAX_BODY = 512 * 1024


def _organisation_id(request, slug: str | None) -> int | None:
    if slug:
        return Organisation.objects.filter(slug=slug).values_list("pk", flat=True).first()
    organisation = getattr(request, "organisation", None)
    return organisation.pk if organisation is not None else None


@csrf_exempt
@require_POST
def stripe_webhook(request, slug: str | None = None):
    """``POST /api/v1/payments/webhook/stripe`` (gym by host name) or ``.../<slug>``.

    400 and nothing changed for anything not signed by this gym's webhook secret;
    200 for a processed, ignored or duplicate event (Stripe stops retrying).
    """
    organisation_id = _organisation_id(request, slug)
    if organisation_id is None:
        return JsonResponse({"code": "unknown_gym", "detail": "No gym here."}, status=400)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"code": "too_large", "detail": "Body too large."}, status=400)
    try:
        result = webhook_receive(
            organisation_id=organisation_id,
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
        )
    except WebhookRejected as exc:
        logger.warning("stripe webhook rejected", extra={"reason": str(exc)})
        return JsonResponse({"code": "invalid_webhook", "detail": str(exc)}, status=400)
    return JsonResponse(
        {
            "received": True,
            "event": result.event_id,
            "duplicate": result.duplicate,
            "status": result.status,
        }
    )
