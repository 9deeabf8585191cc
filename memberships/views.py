"""Member portal: browse plans and join, my memberships, freeze, cancel, change plan.

Views are thin: they resolve who is acting (the signed-in member, for themselves or
their household), call a service and render.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Member
from accounts.selectors import household_members, member_for_user, member_may_act_for
from billing.models import Invoice
from gymsite.errors import ServiceError
from memberships import selectors, services
from memberships.forms import CancelForm, ChangePlanForm, FreezeForm, JoinForm
from memberships.models import Membership, Plan


def _member_or_404(request) -> Member:
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))
    member = member_for_user(user=request.user)
    if member is None:
        raise Http404(_("You are not a member of this gym."))
    return member


def _membership_for(request, pk) -> tuple[Member, Membership]:
    member = _member_or_404(request)
    membership = get_object_or_404(
        Membership.objects.select_related("plan", "member", "payer"), pk=pk
    )
    if not member_may_act_for(actor=member, member=membership.member):
        raise Http404
    return member, membership


def plans(request):
    if getattr(request, "organisation", None) is None:
        raise Http404
    member = _member_or_none(request)
    return render(
        request,
        "memberships/plans.html",
        {
            "plans": selectors.plans_on_sale(),
            "tax_rate": selectors.consumer_tax_rate(member=member),
        },
    )


def _member_or_none(request) -> Member | None:
    if not request.user.is_authenticated:
        return None
    return member_for_user(user=request.user)


@login_required
def join(request, plan_id):
    member = _member_or_404(request)
    plan = get_object_or_404(selectors.plans_on_sale(), pk=plan_id)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = JoinForm(
        data,
        household=household_members(member=member),
        plan=plan,
        initial={"member": member.pk, "branch": member.home_branch_id},
    )
    breakdown = None
    if data is not None and form.is_valid():
        try:
            breakdown = services.plan_price_breakdown(
                plan=plan,
                branch=form.cleaned_data["branch"],
                start_date=form.cleaned_data["start_date"],
            )
            if request.method == "POST":
                membership = services.membership_purchase(
                    member=form.cleaned_data["member"],
                    plan=plan,
                    branch=form.cleaned_data["branch"],
                    start_date=form.cleaned_data["start_date"],
                    actor=request.user,
                )
                invoice = services.membership_open_invoices(membership).first()
                if invoice is None:
                    messages.success(request, _("Your membership is active."))
                    return redirect("memberships:detail", pk=membership.pk)
                return redirect("billing:invoice", pk=invoice.pk)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    elif breakdown is None:
        breakdown = services.plan_price_breakdown(plan=plan, branch=member.home_branch)
    return render(
        request, "memberships/join.html", {"plan": plan, "form": form, "breakdown": breakdown}
    )


@login_required
def my_memberships(request):
    member = _member_or_404(request)
    memberships = list(selectors.memberships_for_household(member=member))
    return render(
        request,
        "memberships/my_memberships.html",
        {"member": member, "memberships": memberships},
    )


@login_required
def detail(request, pk):
    member, membership = _membership_for(request, pk)
    open_invoices = list(services.membership_open_invoices(membership).order_by("pk"))
    return render(
        request,
        "memberships/detail.html",
        {
            "member": member,
            "membership": membership,
            "history": selectors.membership_history(membership=membership)[:20],
            "freezes": membership.freezes.all()[:10],
            "open_invoices": open_invoices,
            "can_change": membership.status == Membership.Status.ACTIVE
            and services.bills_periodically(membership.plan),
        },
    )


@login_required
def freeze(request, pk):
    _member, membership = _membership_for(request, pk)
    """Two steps: the dates, then what the freeze does (days, next payment), then confirm."""
    form = FreezeForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("confirm") == "yes":
                services.membership_freeze(
                    membership=membership, actor=request.user, **form.cleaned_data
                )
            else:
                preview = services.membership_freeze_preview(
                    membership=membership,
                    start_date=form.cleaned_data["start_date"],
                    end_date=form.cleaned_data["end_date"],
                )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if preview is None:
                messages.success(request, _("Your freeze is booked."))
                return redirect("memberships:detail", pk=membership.pk)
    return render(
        request,
        "memberships/freeze.html",
        {"membership": membership, "form": form, "preview": preview},
    )


@login_required
@require_POST
def unfreeze(request, pk):
    _member, membership = _membership_for(request, pk)
    was_frozen = membership.status == membership.Status.FROZEN
    try:
        services.membership_unfreeze(membership=membership, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if was_frozen:
            messages.success(request, _("Welcome back: your membership is active."))
        else:
            # A freeze that had not started yet: nothing changed but the plan.
            messages.success(request, _("Your planned freeze is cancelled."))
    return redirect("memberships:detail", pk=membership.pk)


@login_required
def cancel(request, pk):
    """Two steps: a reason, then exactly what will happen, then confirm."""
    _member, membership = _membership_for(request, pk)
    form = CancelForm(request.POST or None)
    preview = None
    try:
        preview = services.membership_cancellation_preview(membership=membership)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("memberships:detail", pk=membership.pk)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirm") == "yes":
            try:
                services.membership_cancel(
                    membership=membership, reason=form.reason_text(), actor=request.user
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Cancelled. Your membership ends on %(date)s.")
                    % {"date": membership.cancels_on or preview.last_day},
                )
                return redirect("memberships:detail", pk=membership.pk)
        return render(
            request,
            "memberships/cancel_confirm.html",
            {"membership": membership, "form": form, "preview": preview},
        )
    return render(
        request,
        "memberships/cancel.html",
        {"membership": membership, "form": form, "preview": preview},
    )


@login_required
@require_POST
def cancel_withdraw(request, pk):
    _member, membership = _membership_for(request, pk)
    try:
        services.membership_cancel_withdraw(membership=membership, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Great, your membership continues."))
    return redirect("memberships:detail", pk=membership.pk)


@login_required
def change_plan(request, pk):
    _member, membership = _membership_for(request, pk)
    plans = (
        selectors.plans_on_sale()
        .filter(kind__in=[Plan.Kind.RECURRING, Plan.Kind.UNLIMITED])
        .exclude(billing_interval="")
        .exclude(pk=membership.plan_id)
    )
    form = ChangePlanForm(request.POST or request.GET or None, plans=plans)
    preview = None
    if form.is_bound and form.is_valid():
        try:
            preview = services.membership_change_plan_preview(
                membership=membership, to_plan=form.cleaned_data["plan"]
            )
            if request.method == "POST" and request.POST.get("confirm") == "yes":
                change = services.membership_change_plan(
                    membership=membership, to_plan=form.cleaned_data["plan"], actor=request.user
                )
                invoice = Invoice.objects.filter(billing_key=f"planchange:{change.pk}").first()
                if invoice is not None and invoice.status == Invoice.Status.OPEN:
                    return redirect("billing:invoice", pk=invoice.pk)
                messages.success(request, _("Your plan has changed."))
                return redirect("memberships:detail", pk=membership.pk)
        except ServiceError as exc:
            form.add_error("plan", exc.message)
            preview = None
    return render(
        request,
        "memberships/change_plan.html",
        {"membership": membership, "form": form, "preview": preview},
    )
