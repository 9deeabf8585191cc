"""Member portal: pay an invoice by card through Stripe Checkout.

Thin views: find the member's invoice, open a Checkout session (no transaction held
while Stripe is asked), send the member there. Whether it was paid is decided by the
webhook, so the return page only says what we know so far.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.selectors import member_for_user
from billing import selectors
from billing.models import Invoice
from billing.providers import ProviderError
from billing.stripe.config import stripe_enabled
from billing.stripe.services import invoice_checkout_start
from gymsite.errors import ServiceError


def _member_invoice(request, pk):
    if getattr(request, "organisation", None) is None:
        raise Http404
    member = member_for_user(user=request.user)
    if member is None:
        raise Http404
    try:
        invoice = selectors.invoice_detail(pk=pk)
    except Invoice.DoesNotExist:
        raise Http404 from None
    if invoice.payer_id != member.pk or invoice.status == Invoice.Status.DRAFT:
        raise Http404
    return member, invoice


@login_required
@require_http_methods(["GET", "POST"])
def pay_by_card(request, pk):
    member, invoice = _member_invoice(request, pk)
    enabled = stripe_enabled(request.organisation.pk)
    error = ""
    save_card = True
    if request.method == "POST" and enabled and invoice.status == Invoice.Status.OPEN:
        save_card = request.POST.get("save_card") == "on"
        back = request.build_absolute_uri(reverse("billing:stripe_return", args=[invoice.pk]))
        try:
            session = invoice_checkout_start(
                invoice=invoice,
                payer=member,
                success_url=back + "?done=1",
                cancel_url=request.build_absolute_uri(
                    reverse("billing:stripe_pay", args=[invoice.pk])
                ),
                save_card=save_card,
            )
        except ServiceError as exc:
            error = str(exc)
        except ProviderError:
            error = _("Card payments are unavailable right now. Please try again in a minute.")
        else:
            return redirect(session.url)
    return render(
        request,
        "billing/stripe/pay.html",
        {
            "invoice": invoice,
            "stripe_enabled": enabled,
            "error": error,
            "save_card": save_card,
        },
        status=400 if error else 200,
    )


@login_required
def checkout_return(request, pk):
    _member, invoice = _member_invoice(request, pk)
    if invoice.status == Invoice.Status.PAID:
        messages.success(request, _("Thank you, your payment went through."))
        return redirect("billing:invoice", pk=invoice.pk)
    return render(request, "billing/stripe/return.html", {"invoice": invoice})
