"""Writes of the reports app: the at-risk work list and summary subscriptions.

The rollups are written by ``reports.rollups`` (set-based SQL, its own module).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from accounts.models import Member, Organisation, Role, RoleAssignment
from accounts.selectors import staff_scope_for
from accounts.services import audit_record
from accounts.tenancy import tenant_scope
from gymsite.errors import ServiceError
from gymsite.outbox import email_enqueue
from reports.models import AtRiskContact, SummarySubscription
from reports.selectors import members_report, money_report, period_for


@transaction.atomic
def at_risk_contact_record(
    *, member: Member, outcome: str, note: str, reasons: list[str], actor
) -> AtRiskContact:
    """Staff called (or noted) an at-risk member: the list shows it beside them."""
    if outcome not in AtRiskContact.Outcome.values:
        raise ServiceError("Choose what happened.", code="bad_outcome", field="outcome")
    if member.home_branch_id is None:
        raise ServiceError("The member has no home branch.", code="no_branch", field="member")
    contact = AtRiskContact.objects.create(
        member=member,
        branch_id=member.home_branch_id,
        outcome=outcome,
        note=note.strip(),
        reasons=list(reasons),
        contacted_by=actor,
    )
    audit_record(
        actor=actor, action="reports.at_risk_contact", target=member, data={"outcome": outcome}
    )
    return contact


@transaction.atomic
def summary_subscription_set(*, user, weekly: bool) -> SummarySubscription:
    subscription, _created = SummarySubscription.objects.update_or_create(
        user=user, defaults={"weekly": weekly}
    )
    return subscription


def weekly_summary_send(*, week_start, organisation_id: int) -> int:
    """Queue last week's summary to each subscribed owner or branch manager, with the
    figures of the branches they can see. The dedupe key makes a second run a no-op."""
    organisation = Organisation.objects.get(pk=organisation_id)
    sent = 0
    roles = (Role.OWNER, Role.BRANCH_MANAGER)
    for subscription in SummarySubscription.objects.filter(weekly=True).select_related("user"):
        user = subscription.user
        if not RoleAssignment.objects.filter(user=user, role__in=roles).exists():
            continue
        scope = staff_scope_for(user=user, organisation_id=organisation_id)
        with tenant_scope(organisation_id, scope.branch_ids):
            period = period_for(start=week_start, end=week_start + timedelta(days=6))
            money, members = money_report(period), members_report(period)
        context = {
            "organisation": organisation.name,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "branches": ", ".join(b.name for b in period.branches),
            "figures": [
                [str(label), str(now), "" if before is None else str(before)]
                for label, now, before in money.kpis[:4] + members.kpis[:5]
            ],
        }
        message = email_enqueue(
            to=user.email,
            template="reports/weekly_summary",
            context=context,
            organisation_id=organisation_id,
            dedupe_key=f"reports.weekly:{organisation_id}:{user.pk}:{week_start.isoformat()}",
        )
        if message is not None:
            SummarySubscription.objects.filter(pk=subscription.pk).update(last_sent_week=week_start)
            sent += 1
    return sent
