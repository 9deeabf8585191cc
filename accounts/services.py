"""State changes for people, organisations and branches."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import AuditLog, Branch, Member, User
from gymsite.errors import ServiceError
from gymsite.outbox import email_enqueue


def audit_record(*, actor: User | None, action: str, target, data: dict | None = None) -> AuditLog:
    """Record a staff action (refund, manual check-in, membership edit) with who did it.

    Called inside the service's own transaction, so the audit row and the change
    commit together or not at all.
    """
    return AuditLog.objects.create(
        actor=actor if actor and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        data=data or {},
    )


@transaction.atomic
def member_register(
    *,
    user: User | None,
    first_name: str,
    last_name: str,
    home_branch: Branch,
    email: str = "",
    phone: str = "",
    date_of_birth=None,
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
    goals: str = "",
    payer: Member | None = None,
) -> Member:
    """Create a member in the organisation in scope (a dependant when ``payer`` is given)."""
    if user is not None and Member.objects.filter(user=user).exists():
        raise ServiceError("You are already a member of this gym.", code="already_member")
    if payer is not None and payer.payer_id is not None:
        raise ServiceError(
            "A dependant cannot pay for another member.", code="invalid_payer", field="payer"
        )
    member = Member.objects.create(
        user=user,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=(email or (user.email if user else "")).strip().lower(),
        phone=phone,
        date_of_birth=date_of_birth,
        emergency_contact_name=emergency_contact_name,
        emergency_contact_phone=emergency_contact_phone,
        goals=goals,
        home_branch=home_branch,
        payer=payer,
    )
    if member.email:
        email_enqueue(
            to=member.email,
            template="accounts/welcome",
            context={
                "first_name": member.first_name,
                "organisation_name": home_branch.organisation.name,
            },
            organisation_id=member.organisation_id,
            dedupe_key=f"welcome:member:{member.pk}",
        )
    return member


@transaction.atomic
def member_update_profile(*, member: Member, **changes) -> Member:
    allowed = {
        "first_name",
        "last_name",
        "phone",
        "date_of_birth",
        "emergency_contact_name",
        "emergency_contact_phone",
        "goals",
        "photo",
        "home_branch",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError(f"Cannot change {', '.join(sorted(unknown))}.", code="not_editable")
    for field, value in changes.items():
        setattr(member, field, value)
    member.full_clean(exclude=["user", "payer", "organisation"])
    member.save(update_fields=[*changes.keys()])
    return member


@transaction.atomic
def member_archive(*, member: Member, actor: User | None) -> Member:
    """Soft-delete: the member's history (invoices, bookings, visits) stays."""
    member.status = Member.Status.ARCHIVED
    member.save(update_fields=["status"])
    audit_record(actor=actor, action="member.archive", target=member)
    return member


def user_revoke_logins(*, user: User) -> None:
    """End every session and API token the person holds, at once.

    The login version is part of the session hash and of every token's "ver" claim,
    so raising it ends both on their next request; outstanding refresh tokens are
    also blacklisted, so none can be exchanged again. Runs inside the caller's
    transaction (offboarding).
    """
    User.objects.filter(pk=user.pk).update(auth_version=F("auth_version") + 1)
    user.refresh_from_db(fields=["auth_version"])
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
