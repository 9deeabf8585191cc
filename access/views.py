"""Front desk (kiosk) and member pages for access control. Thin: services decide."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from access import credentials as creds
from access import selectors, services
from access.forms import DeskLookupForm, ManualCheckinForm, MemberActionForm
from access.models import AccessLog, Credential
from access.qr import qr_for_member
from accounts.models import Branch, Member
from accounts.selectors import is_staff_in, member_for_user, staff_scope_for
from accounts.tenancy import reset_scope, set_scope
from gymsite.errors import ServiceError
from memberships.models import Membership
from memberships.selectors import membership_deciding, membership_status_on

# --- Front desk ----------------------------------------------------------------


def _desk_context(request):
    """The staff member's scope and the branch the desk is working at, or 403."""
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        raise Http404(_("No gym is served at this address."))
    user = request.user
    if not is_staff_in(user=user, organisation_id=organisation.pk):
        raise PermissionDenied
    scope = staff_scope_for(user=user, organisation_id=organisation.pk)
    branches = [b for b in Branch.objects.filter(is_active=True) if scope.allows_branch(b.pk)]
    if not branches:
        raise PermissionDenied
    wanted = request.POST.get("branch") or request.GET.get("branch")
    branch = next((b for b in branches if str(b.pk) == wanted), branches[0])
    return scope, branches, branch


def _desk_url(branch, **params):
    return f"{reverse('access:desk')}?{urlencode({'branch': branch.pk, **params})}"


def member_alerts(*, member: Member, on) -> tuple[Membership | None, list[str]]:
    """What the desk should mention: payment due, membership ending, few entries left."""
    membership = membership_deciding(member=member.pk, on=on)
    alerts = []
    if membership is None:
        return None, [_("No membership.")]
    status = membership_status_on(membership=membership, on=on)
    if status == Membership.Status.PAST_DUE:
        alerts.append(_("Payment overdue: please ask them to settle it."))
    elif status != Membership.Status.ACTIVE:
        alerts.append(_("Membership is %(status)s.") % {"status": membership.get_status_display()})
    end = membership.cancels_on or membership.end_date
    if end and on <= end <= on + timedelta(days=14):
        alerts.append(_("Membership ends on %(date)s.") % {"date": end.isoformat()})
    if membership.entries_remaining is not None and membership.entries_remaining <= 2:
        alerts.append(
            _("%(count)s entries left on the ticket.") % {"count": membership.entries_remaining}
        )
    return membership, alerts


@login_required
def desk(request):
    """Scan a QR code or card (camera or reader), or look a member up by name."""
    scope, branches, branch = _desk_context(request)
    token = set_scope(scope)
    try:
        return _desk(request, branches, branch)
    finally:
        reset_scope(token)


def _desk(request, branches, branch):
    form = DeskLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["q"].strip()
        if (
            creds.qr_parse(text)
            or Credential.objects.filter(
                kind=Credential.Kind.CARD,
                number=creds.card_number_normalise(text),
                status=Credential.Status.ACTIVE,
            ).exists()
        ):
            outcome = services.checkin_attempt(
                branch=branch,
                presented=text,
                source=AccessLog.Source.KIOSK,
                staff=request.user,
                direction=AccessLog.Direction.ENTRY,
            )
            return redirect(_desk_url(branch, log=outcome.log.pk))
        return redirect(_desk_url(branch, q=text))

    context = {"form": form, "branches": branches, "branch": branch}
    today = selectors.branch_local(branch, timezone.now()).date()
    if request.GET.get("q"):
        form = DeskLookupForm(initial={"q": request.GET["q"]})
        context.update(form=form, results=selectors.member_search(text=request.GET["q"]))
    log_id = request.GET.get("log", "")
    if log_id.isdigit():
        log = (
            AccessLog.objects.filter(pk=int(log_id), branch=branch)
            .select_related("member", "membership__plan")
            .first()
        )
        context["log"] = log
        if log and log.member_id:
            context["member"] = log.member
    member_id = request.GET.get("member", "")
    if member_id.isdigit():
        context["member"] = Member.objects.filter(pk=int(member_id)).first()
    member = context.get("member")
    if member is not None:
        membership, alerts = member_alerts(member=member, on=today)
        context.update(
            membership=membership,
            alerts=alerts,
            preview=selectors.checkin_decide(member=member, branch=branch),
            manual_form=ManualCheckinForm(initial={"member": member.pk}),
        )
    context["occupancy"] = selectors.branch_occupancy(branch=branch)
    return render(request, "access/desk.html", context)


@login_required
def desk_occupancy(request):
    """Who is inside now, as the desk's side panel: the desk page reloads it every
    half minute so the count stays true without reloading the page."""
    scope, _branches, branch = _desk_context(request)
    token = set_scope(scope)
    try:
        return render(
            request,
            "access/_occupancy.html",
            {"branch": branch, "occupancy": selectors.branch_occupancy(branch=branch)},
        )
    finally:
        reset_scope(token)


def _desk_member(request, branch) -> Member:
    form = MemberActionForm(request.POST)
    if not form.is_valid():
        raise Http404
    member = Member.objects.filter(pk=form.cleaned_data["member"]).first()
    if member is None:
        raise Http404
    return member


@login_required
@require_POST
def desk_checkin(request):
    scope, _branches, branch = _desk_context(request)
    token = set_scope(scope)
    try:
        member = _desk_member(request, branch)
        outcome = services.checkin_member(member=member, branch=branch, staff=request.user)
        return redirect(_desk_url(branch, log=outcome.log.pk))
    finally:
        reset_scope(token)


@login_required
@require_POST
def desk_manual(request):
    """Let a member in whatever the rules say, with a reason (audited)."""
    scope, branches, branch = _desk_context(request)
    token = set_scope(scope)
    try:
        member = _desk_member(request, branch)
        form = ManualCheckinForm(request.POST)
        if form.is_valid():
            try:
                outcome = services.checkin_manual(
                    member=member,
                    branch=branch,
                    staff=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("%(name)s checked in by hand.") % {"name": member})
                return redirect(_desk_url(branch, log=outcome.log.pk))
        membership, alerts = member_alerts(
            member=member, on=selectors.branch_local(branch, timezone.now()).date()
        )
        context = {
            "form": DeskLookupForm(),
            "branches": branches,
            "branch": branch,
            "member": member,
            "membership": membership,
            "alerts": alerts,
            "preview": selectors.checkin_decide(member=member, branch=branch),
            "manual_form": form,
            "occupancy": selectors.branch_occupancy(branch=branch),
        }
        return render(request, "access/desk.html", context, status=400)
    finally:
        reset_scope(token)


@login_required
@require_POST
def desk_checkout(request):
    scope, _branches, branch = _desk_context(request)
    token = set_scope(scope)
    try:
        member = _desk_member(request, branch)
        services.checkout_member(member=member, branch=branch, staff=request.user)
        messages.success(request, _("%(name)s checked out.") % {"name": member})
        return redirect(_desk_url(branch))
    finally:
        reset_scope(token)


# --- Member portal ---------------------------------------------------------------


def _member_or_join(request):
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))
    return member_for_user(user=request.user)


@login_required
def my_visits(request):
    member = _member_or_join(request)
    if member is None:
        return redirect("portal:join")
    page = Paginator(selectors.member_visits(member=member), 25).get_page(request.GET.get("page"))
    return render(request, "access/my_visits.html", {"member": member, "page": page})


@login_required
@never_cache  # the page carries the code's secret: no shared or disk cache keeps it
def my_code(request):
    """The member's entry QR code; the page swaps in a fresh code every window."""
    member = _member_or_join(request)
    if member is None:
        return redirect("portal:join")
    return render(
        request, "access/my_code.html", {"member": member, "qr": qr_for_member(member=member)}
    )


@login_required
@require_POST
def my_code_rotate(request):
    """A member who fears their code was copied gets a new secret: old codes die."""
    member = _member_or_join(request)
    if member is None:
        raise Http404
    services.credential_qr_rotate(member=member, actor=request.user)
    messages.success(request, _("Your entry code was renewed; earlier codes no longer work."))
    return redirect("access:my_code")


@login_required
def my_code_fragment(request):
    """Just the current code (SVG inside a figure), fetched by the page to refresh it."""
    member = _member_or_join(request)
    if member is None:
        raise Http404
    response = render(request, "access/_qr.html", {"qr": qr_for_member(member=member)})
    response["Cache-Control"] = "no-store"
    return response
