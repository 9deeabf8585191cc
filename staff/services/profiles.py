"""Trainer profiles: reminders before a certification expires."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import TrainerCertification
from gymsite.outbox import email_enqueue

REMIND_DAYS_BEFORE = 30


@transaction.atomic
def certifications_remind(*, today: date | None = None) -> int:
    """Email each trainer once per certification expiry, a month before (periodic)."""
    today = today or timezone.localdate()
    due = (
        TrainerCertification.objects.filter(
            expires_on__isnull=False,
            expires_on__gte=today,
            expires_on__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
        )
        .exclude(reminder_sent_for=F("expires_on"))
        .select_related("trainer__user", "certification")
    )
    sent = 0
    for held in due:
        claimed = (
            TrainerCertification.objects.filter(pk=held.pk)
            .exclude(reminder_sent_for=held.expires_on)
            .update(reminder_sent_for=held.expires_on)
        )
        if not claimed:
            continue
        email_enqueue(
            to=held.trainer.user.email,
            template="staff/certification_expiring",
            context={
                "name": held.trainer.display_name,
                "certification": held.certification.name,
                "expires_on": held.expires_on.isoformat(),
            },
            organisation_id=held.organisation_id,
            dedupe_key=f"cert-expiry:{held.pk}:{held.expires_on.isoformat()}",
        )
        sent += 1
    return sent
