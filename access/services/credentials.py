"""Members' credentials at the door: rotating QR codes and cards."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from access import credentials as creds
from access import selectors
from access.models import Credential
from accounts.models import Member, User
from accounts.services import audit_record
from gymsite.errors import ServiceError


@transaction.atomic
def credential_qr_for(*, member: Member) -> Credential:
    """The member's active QR credential, created on first use.

    Two first requests at once both try to create one; the partial unique
    constraint lets one win and the other reads it.
    """
    existing = selectors.member_qr_credential(member=member)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Credential.objects.create(
                organisation_id=member.organisation_id, member=member, kind=Credential.Kind.QR
            )
    except IntegrityError:
        return selectors.member_qr_credential(member=member)


@transaction.atomic
def credential_qr_rotate(*, member: Member, actor: User | None = None) -> Credential:
    """Revoke the member's QR credential and issue a new one: every old code dies."""
    Credential.objects.filter(
        member=member, kind=Credential.Kind.QR, status=Credential.Status.ACTIVE
    ).update(status=Credential.Status.REVOKED, revoked_at=timezone.now(), updated_at=timezone.now())
    credential = Credential.objects.create(
        organisation_id=member.organisation_id, member=member, kind=Credential.Kind.QR
    )
    audit_record(actor=actor, action="access.qr_rotate", target=credential)
    return credential


@transaction.atomic
def credential_card_register(
    *, member: Member, number: str, label: str = "", actor: User | None = None
) -> Credential:
    number = creds.card_number_normalise(number)
    if not number or len(number) > 64:
        raise ServiceError("Enter the card number.", code="card_number_invalid", field="number")
    try:
        with transaction.atomic():
            credential = Credential.objects.create(
                organisation_id=member.organisation_id,
                member=member,
                kind=Credential.Kind.CARD,
                number=number,
                label=label,
            )
    except IntegrityError:
        raise ServiceError(
            "This card is already registered to an active credential.",
            code="card_number_taken",
            field="number",
        ) from None
    audit_record(actor=actor, action="access.card_register", target=credential)
    return credential


@transaction.atomic
def credential_revoke(*, credential: Credential, actor: User | None = None) -> Credential:
    if credential.status == Credential.Status.REVOKED:
        return credential
    credential.status = Credential.Status.REVOKED
    credential.revoked_at = timezone.now()
    credential.save(update_fields=["status", "revoked_at", "updated_at"])
    audit_record(actor=actor, action="access.credential_revoke", target=credential)
    return credential
