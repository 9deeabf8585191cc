"""Factories for billing rows. Organisation is always passed explicitly."""

from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import BranchFactory, MemberFactory
from billing.models import (
    CreditNote,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
    PendingCharge,
    Refund,
)


class DocumentCounterFactory(DjangoModelFactory):
    class Meta:
        model = DocumentCounter

    organisation = factory.SubFactory("accounts.tests.factories.OrganisationFactory")
    kind = DocumentCounter.Kind.INVOICE
    last_number = 0


class InvoiceFactory(DjangoModelFactory):
    """An open invoice with a number; add lines with InvoiceLineFactory."""

    class Meta:
        model = Invoice

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    payer = factory.SubFactory(MemberFactory, home_branch=factory.SelfAttribute("..branch"))
    number = factory.Sequence(lambda n: 900000 + n)
    status = Invoice.Status.OPEN
    currency = "GBP"
    subtotal = Decimal("10.00")
    tax_total = Decimal("2.00")
    total = Decimal("12.00")
    issued_at = factory.LazyFunction(timezone.now)
    due_date = factory.LazyFunction(timezone.localdate)


class InvoiceLineFactory(DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    organisation = factory.SelfAttribute("invoice.organisation")
    description = "Day pass"
    quantity = 1
    unit_price = Decimal("10.00")
    tax_rate = Decimal("0.2000")
    subtotal = Decimal("10.00")
    tax_amount = Decimal("2.00")
    total = Decimal("12.00")


class PendingChargeFactory(DjangoModelFactory):
    class Meta:
        model = PendingCharge

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    member = factory.SubFactory(MemberFactory, home_branch=factory.SelfAttribute("..branch"))
    payer = factory.SelfAttribute("member")
    description = "Protein shake"
    amount = Decimal("4.50")
    currency = "GBP"
    source_type = "tests.thing"
    source_id = factory.Sequence(str)


class PaymentMethodFactory(DjangoModelFactory):
    class Meta:
        model = PaymentMethod

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    provider = "sandbox"
    customer_reference = factory.Sequence(lambda n: f"cus_{n}")
    method_reference = factory.Sequence(lambda n: f"pm_card_{n}")
    brand = "visa"
    last4 = "4242"
    exp_month = 12
    exp_year = 2030


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    invoice = factory.SubFactory(InvoiceFactory)
    organisation = factory.SelfAttribute("invoice.organisation")
    branch = factory.SelfAttribute("invoice.branch")
    payer = factory.SelfAttribute("invoice.payer")
    amount = Decimal("12.00")
    currency = "GBP"
    provider = "manual"
    status = Payment.Status.SUCCEEDED
    completed_at = factory.LazyFunction(timezone.now)


class CreditNoteFactory(DjangoModelFactory):
    class Meta:
        model = CreditNote

    invoice = factory.SubFactory(InvoiceFactory)
    organisation = factory.SelfAttribute("invoice.organisation")
    number = factory.Sequence(lambda n: 900000 + n)
    amount = Decimal("5.00")
    currency = "GBP"
    reason = "Goodwill"


class RefundFactory(DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    organisation = factory.SelfAttribute("payment.organisation")
    credit_note = factory.SubFactory(
        CreditNoteFactory,
        invoice=factory.SelfAttribute("..payment.invoice"),
        organisation=factory.SelfAttribute("..payment.organisation"),
    )
    amount = Decimal("5.00")
    currency = "GBP"
    reason = "Goodwill"
    status = Refund.Status.SUCCEEDED


from billing.tests.stripe_factories import (  # noqa: E402,F401  (Stripe models' factories)
    StripeAccountFactory,
    StripeCustomerFactory,
    StripeEventFactory,
    StripeObjectStateFactory,
    StripePendingEventFactory,
    StripeReconciliationFactory,
)
