"""Inviting staff by email; accepting as a new account, a member here, or a login
of another gym (nothing of that gym is read or copied)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, Role, User
from accounts.services import audit_record
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.outbox import email_enqueue
from staff import selectors
from staff.models import Invitation, token_digest
from staff.services.employment import employment_start

INVITATION_DAYS = 7


def check_may_invite(*, actor: User, role: str, branches: list[Branch]) -> None:
    """Owners invite anyone anywhere; a branch manager only to their own branches and
    only roles below their own."""
    if role not in Role.values:
        raise ServiceError(_("Pick a role."), code="invalid", field="role")
    if role != Role.OWNER and not branches:
        raise ServiceError(_("Pick at least one branch."), code="invalid", field="branches")
    if role == Role.OWNER and branches:
        raise ServiceError(
            _("An owner works at every branch: leave the branches empty."),
            code="invalid",
            field="branches",
        )
    authority = selectors.inviting_authority(user=actor)
    if authority.is_owner:
        return
    if not authority.managed_branch_ids:
        raise NotAllowed(_("Only owners and branch managers invite staff."), code="not_allowed")
    if selectors.ROLE_RANK[role] >= selectors.ROLE_RANK[Role.BRANCH_MANAGER]:
        raise NotAllowed(
            _("You can invite only roles below your own."), code="role_too_high", field="role"
        )
    if any(branch.pk not in authority.managed_branch_ids for branch in branches):
        raise NotAllowed(
            _("You can invite only to the branches you manage."),
            code="branch_not_managed",
            field="branches",
        )


def _send(invitation: Invitation, token: str) -> None:
    link = selectors.invitation_link(invitation=invitation, token=token)
    email_enqueue(
        to=invitation.email,
        template="staff/invitation",
        context={
            "organisation_name": selectors.organisation_name(invitation.organisation_id),
            "role": invitation.get_role_display(),
            "branches": ", ".join(b.name for b in invitation.branches.all()),
            "link": link,
            "expires_at": invitation.expires_at.isoformat(),
        },
        organisation_id=invitation.organisation_id,
        dedupe_key=f"staff-invitation:{invitation.pk}:{invitation.sent_at.isoformat()}",
    )


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    email: str,
    role: str,
    branches: list[Branch] | None = None,
    now: datetime | None = None,
) -> Invitation:
    """Invite someone to a role. Whether the email is known anywhere is not looked at
    here (nor shown to the inviter): the case is decided when the link is opened."""
    now = now or timezone.now()
    email = User.objects.normalize_email(email.strip()).lower()
    branches = list(branches or [])
    if not email:
        raise ServiceError(_("Enter an email address."), code="invalid", field="email")
    check_may_invite(actor=actor, role=role, branches=branches)
    if Invitation.objects.filter(email=email, role=role, status=Invitation.Status.PENDING).exists():
        raise Conflict(
            _("This person already has an open invitation to this role: resend it instead."),
            code="already_invited",
            field="email",
        )
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                email=email,
                role=role,
                token_digest=token_digest(token),
                invited_by=actor,
                created_at=now,
                sent_at=now,
                expires_at=now + timedelta(days=INVITATION_DAYS),
            )
    except IntegrityError:
        raise Conflict(
            _("This person already has an open invitation to this role: resend it instead."),
            code="already_invited",
            field="email",
        ) from None
    invitation.branches.set(branches)
    audit_record(actor=actor, action="invitation.create", target=invitation, data={"role": role})
    _send(invitation, token)
    invitation.token = token  # for the caller (the admin shows nothing of it; tests use it)
    return invitation


@transaction.atomic
def invitation_resend(
    *, actor: User, invitation: Invitation, now: datetime | None = None
) -> Invitation:
    """A new link (the old one stops working) and a new expiry."""
    now = now or timezone.now()
    check_may_invite(actor=actor, role=invitation.role, branches=list(invitation.branches.all()))
    token = secrets.token_urlsafe(32)
    updated = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        token_digest=token_digest(token),
        sent_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    if not updated:
        raise Conflict(_("This invitation is no longer open."), code="invitation_closed")
    invitation.refresh_from_db()
    audit_record(actor=actor, action="invitation.resend", target=invitation)
    _send(invitation, token)
    invitation.token = token
    return invitation


@transaction.atomic
def invitation_revoke(
    *, actor: User, invitation: Invitation, now: datetime | None = None
) -> Invitation:
    now = now or timezone.now()
    check_may_invite(actor=actor, role=invitation.role, branches=list(invitation.branches.all()))
    updated = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED, revoked_at=now
    )
    if not updated:
        raise Conflict(_("This invitation is no longer open."), code="invitation_closed")
    invitation.refresh_from_db()
    audit_record(actor=actor, action="invitation.revoke", target=invitation)
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user: User | None = None,
    first_name: str = "",
    last_name: str = "",
    password: str = "",
    now: datetime | None = None,
) -> tuple[Invitation, User]:
    """Accept an invitation (run in its gym's scope: ``selectors.invitation_for_token``).

    A new account is created only when nobody has the email; a member of this gym
    keeps their account and gains the role; anyone else with a login signs in and
    gains an employment here. The claim is one conditional update, so a link used
    twice at once is accepted once.
    """
    now = now or timezone.now()
    invitation = selectors.invitation_open(token=token, now=now)
    case = selectors.invitation_case(invitation=invitation)
    if case == Invitation.Case.NEW_ACCOUNT:
        if user is not None and user.is_authenticated:
            raise NotAllowed(
                _("This invitation is for another email address: sign out first."),
                code="wrong_account",
            )
        if not password:
            raise ServiceError(_("Choose a password."), code="invalid", field="password1")
    elif user is None or not user.is_authenticated:
        raise NotAllowed(
            _("You already have a login: sign in with it to accept."), code="sign_in_required"
        )
    elif user.email.lower() != invitation.email:
        raise NotAllowed(
            _("This invitation is for another email address: sign out first."),
            code="wrong_account",
        )
    claimed = Invitation.objects.filter(Invitation.open_q(now), pk=invitation.pk).update(
        status=Invitation.Status.ACCEPTED, accepted_at=now, case=case
    )
    if not claimed:
        raise Conflict(_("This invitation has already been used."), code="invitation_used")
    if case == Invitation.Case.NEW_ACCOUNT:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email,
                    password,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                )
        except IntegrityError:
            raise Conflict(
                _("An account with this email exists now: sign in with it to accept."),
                code="sign_in_required",
            ) from None
        # The link reached this address: it is verified.
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    invitation.refresh_from_db()
    employment_start(user=user, invitation=invitation, now=now)
    audit_record(actor=user, action="invitation.accept", target=invitation, data={"case": case})
    return invitation, user
