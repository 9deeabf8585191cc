"""Member portal: invoices, printable receipts, paying online, saved payment methods."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Member
from accounts.selectors import member_for_user
from billing import selectors, services
from billing.models import Invoice, Payment
from billing.providers import ProviderError, available_providers
from billing.stripe.config import stripe_enabled
from gymsite.errors import ServiceError


def _payer_or_404(request) -> Member:
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))
    member = member_for_user(user=request.user)
    if member is None:
        raise Http404(_("You are not a member of this gym."))
    return member


def _invoice_for(request, pk) -> tuple[Member, Invoice]:
    member = _payer_or_404(request)
    try:
        invoice = selectors.invoice_detail(pk=pk)
    except Invoice.DoesNotExist:
        raise Http404 from None
    # Invoices belong to the household payer: only they see and pay them.
    if invoice.payer_id != member.pk or invoice.status == Invoice.Status.DRAFT:
        raise Http404
    return member, invoice


def _sandbox_enabled() -> bool:
    return getattr(settings, "BILLING_SANDBOX_ENABLED", settings.DEBUG) and (
        "sandbox" in available_providers()
    )


@login_required
def invoices(request):
    member = _payer_or_404(request)
    return render(
        request,
        "billing/invoices.html",
        {
            "member": member,
            "invoices": selectors.invoices_for_payer(payer=member)[:100],
            "charges": selectors.unbilled_charges_for(payer=member),
            "methods": selectors.payment_methods_for(member=member),
            "sandbox": _sandbox_enabled(),
        },
    )


@login_required
def invoice(request, pk):
    member, invoice = _invoice_for(request, pk)
    return render(
        request,
        "billing/invoice.html",
        {
            "member": member,
            "invoice": invoice,
            "methods": selectors.payment_methods_for(member=member),
            "sandbox": _sandbox_enabled(),
            "card_payments": stripe_enabled(invoice.organisation_id),
        },
    )


@login_required
def receipt(request, pk):
    _member, invoice = _invoice_for(request, pk)
    return render(
        request,
        "billing/receipt.html",
        {"invoice": invoice, "organisation": invoice.branch.organisation},
    )


@login_required
@require_POST
def pay(request, pk):
    """Charge the payer's saved payment method for what is due now."""
    member, invoice = _invoice_for(request, pk)
    if invoice.status != Invoice.Status.OPEN:
        messages.error(request, _("This invoice has nothing left to pay."))
        return redirect("billing:invoice", pk=invoice.pk)
    if not selectors.payment_methods_for(member=member).exists():
        messages.error(request, _("Add a payment method first, or pay at the front desk."))
        return redirect("billing:invoice", pk=invoice.pk)
    payment = services.invoice_collect(invoice=invoice)
    if payment is not None and payment.status == Payment.Status.SUCCEEDED:
        messages.success(request, _("Thank you, your payment went through."))
    elif payment is not None and payment.status == Payment.Status.FAILED:
        messages.error(
            request,
            _("The payment was declined (%(reason)s).")
            % {"reason": payment.failure_message or payment.failure_code},
        )
    else:
        messages.info(request, _("Your payment is being processed."))
    return redirect("billing:invoice", pk=invoice.pk)


@login_required
@require_POST
def add_test_card(request):
    """Sandbox only: save a test card (declining when asked) to try payments end to end."""
    member = _payer_or_404(request)
    if not _sandbox_enabled():
        raise Http404
    declining = request.POST.get("kind") == "decline"
    try:
        services.payment_method_save(
            member=member,
            provider="sandbox",
            method_reference=f"pm_decline_card_declined_{member.pk}"
            if declining
            else f"pm_card_visa_{member.pk}",
            brand="visa",
            last4="0002" if declining else "4242",
            exp_month=12,
            exp_year=2030,
        )
    except (ServiceError, ProviderError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Test card saved."))
    return redirect(request.POST.get("next") or "billing:invoices")
