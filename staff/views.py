from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import Branch, Role
from accounts.selectors import GYM_SESSION_KEY, is_staff_in, staff_scope_for, trainer_for_user
from accounts.tenancy import get_scope, reset_scope, set_scope, tenant_scope
from gymsite.errors import ServiceError
from staff import selectors, services
from staff.forms import ClockForm, NewAccountForm
from staff.models import Invitation, Shift

LOGIN_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def invitation(request, token):
    """The link in an invitation email. It explains a wrong, used, revoked or expired
    link; otherwise it shows the gym, the role and the branches, and one way on for
    the invitee's case. Nothing about any other gym the email may belong to is read
    or shown."""
    found = selectors.invitation_for_token(token=token)
    host_scope = get_scope()
    now = timezone.now()
    try:
        if found is None or (host_scope and host_scope.organisation_id != found.organisation_id):
            raise ServiceError("", code="invitation_unknown")
        with tenant_scope(found.organisation_id):
            invitation = selectors.invitation_open(token=token, now=now)
            return _invitation_page(request, token, invitation)
    except ServiceError as exc:
        message = exc.message
        if exc.code == "invitation_unknown":
            message = selectors.invitation_unknown_message()
        return render(
            request,
            "staff/invitation_closed.html",
            {"message": message, "code": exc.code},
            status=410 if exc.code != "invitation_unknown" else 404,
        )


def _invitation_page(request, token, invitation: Invitation):
    case = selectors.invitation_case(invitation=invitation)
    user = request.user if request.user.is_authenticated else None
    form = None
    error = None
    if case == Invitation.Case.NEW_ACCOUNT and user is None:
        form = NewAccountForm(request.POST or None, email=invitation.email)
    wrong_account = user is not None and user.email.lower() != invitation.email
    if request.method == "POST" and not wrong_account and (form is None or form.is_valid()):
        data = form.cleaned_data if form is not None else {}
        try:
            invitation, user = services.invitation_accept(
                token=token,
                user=user,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                password=data.get("password1", ""),
            )
        except ServiceError as exc:
            error = exc.message
        else:
            return _welcome(request, invitation, user, signed_in=form is None)
    branches = list(invitation.branches.all())
    login_url = f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}"
    return render(
        request,
        "staff/invitation.html",
        {
            "invitation": invitation,
            "organisation_name": selectors.organisation_name(invitation.organisation_id),
            "branches": branches,
            "case": case,
            "form": form,
            "error": error,
            "signed_in": user is not None,
            "wrong_account": wrong_account,
            "login_url": login_url,
        },
    )


def _welcome(request, invitation, user, *, signed_in):
    if not signed_in:
        login(request, user, backend=LOGIN_BACKEND)
    # On a shared host, work in the gym just joined.
    request.session[GYM_SESSION_KEY] = invitation.organisation_id
    messages.success(request, _("Welcome to the team!"))
    if invitation.role == Role.TRAINER:
        return redirect("portal:trainer")
    return redirect("admin:index")


# --- Trainer portal ---------------------------------------------------------------


@login_required
def my_pay(request):
    """A trainer's own pay lines, by period."""
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))
    trainer = trainer_for_user(user=request.user)
    if trainer is None:
        raise Http404(_("You are not a trainer at this gym."))
    lines = list(selectors.pay_lines_for_user(user=request.user))
    periods: dict[int, dict] = {}
    for line in lines:
        entry = periods.setdefault(line.period_id, {"period": line.period, "lines": [], "total": 0})
        entry["lines"].append(line)
        entry["total"] += line.amount
    return render(
        request, "staff/my_pay.html", {"trainer": trainer, "periods": list(periods.values())}
    )


# --- Front desk: clocking in and out ------------------------------------------------


@login_required
def desk_shifts(request):
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        raise Http404(_("No gym is served at this address."))
    if not is_staff_in(user=request.user, organisation_id=organisation.pk):
        raise PermissionDenied
    token = set_scope(staff_scope_for(user=request.user, organisation_id=organisation.pk))
    try:
        return _desk_shifts(request)
    finally:
        reset_scope(token)


def _desk_shifts(request):
    branches = list(Branch.objects.filter(is_active=True))
    if not branches:
        raise PermissionDenied
    wanted = request.POST.get("branch") or request.GET.get("branch")
    branch = next((b for b in branches if str(b.pk) == wanted), branches[0])
    zone = ZoneInfo(branch.timezone)
    today = timezone.now().astimezone(zone).date()
    day_start = datetime.combine(today, time.min, tzinfo=zone)
    form = ClockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        shift = Shift.objects.filter(pk=form.cleaned_data["shift"], branch=branch).first()
        if shift is None:
            messages.error(request, _("That shift is not at this branch."))
        else:
            call = (
                services.shift_clock_in
                if form.cleaned_data["action"] == "in"
                else (services.shift_clock_out)
            )
            try:
                call(actor=request.user, shift=shift)
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Done: %(who)s.") % {"who": shift.user})
        return redirect(f"{reverse('staff:desk_shifts')}?{urlencode({'branch': branch.pk})}")
    shifts = selectors.shifts_for_desk(
        day_start=day_start, day_end=day_start + timedelta(days=1)
    ).filter(branch=branch)
    return render(
        request,
        "staff/desk_shifts.html",
        {"branch": branch, "branches": branches, "shifts": shifts, "zone": branch.timezone},
    )
