"""The billing core: invoices, payments, refunds, credit notes and saved payment methods.

Amounts are net of tax on lines (tax is added at the line's rate); every document is
in one currency. Card data is never stored: a saved payment method is the provider's
reference plus what a member needs to recognise it (brand, last four digits, expiry).
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from gymsite.money import amount_field, currency_field, tax_rate_field


class DocumentCounter(TenantModel):
    """The last number handed out for one kind of document in one organisation.

    Incremented with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` inside the
    issuing transaction: the row stays locked until commit, so numbers never repeat,
    and a rolled-back issue rolls the counter back too, so they never skip.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("document counter")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind"], name="document_counter_unique"
            ),
        ]

    def __str__(self):
        return f"{self.kind}: {self.last_number}"


class Invoice(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")
        UNCOLLECTIBLE = "uncollectible", _("Uncollectible")

    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="invoices")
    payer = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="invoices")
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    currency = currency_field(verbose_name=_("currency"))
    subtotal = amount_field(_("subtotal"), default=0)
    tax_total = amount_field(_("tax"), default=0)
    total = amount_field(_("total"), default=0)
    amount_paid = amount_field(_("paid"), default=0)
    amount_credited = amount_field(_("credited"), default=0)
    amount_refunded = amount_field(_("refunded"), default=0)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    # A caller-chosen key making the issue idempotent: asking twice for the invoice
    # of the same thing (a membership's renewal period) returns the first one.
    billing_key = models.CharField(max_length=120, null=True, blank=True)
    # Automatic collection (dunning): how many charge attempts failed and when to
    # try next. Null next_attempt_at means no automatic attempt is scheduled.
    collection_attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    next_collection_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # The claim on the attempt in flight (billing.services.invoice_collection_prepare):
    # nobody else charges the invoice until the lease runs out. Every claim takes the
    # next claim number, so a worker whose attempt was taken over can tell.
    collection_lease_until = models.DateTimeField(_("attempt leased until"), null=True, blank=True)
    collection_claims = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"],
                condition=Q(number__isnull=False),
                name="invoice_number_unique",
            ),
            models.UniqueConstraint(
                fields=["organisation", "billing_key"],
                condition=Q(billing_key__isnull=False),
                name="invoice_billing_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0)
                & Q(amount_credited__gte=0)
                & Q(amount_refunded__gte=0),
                name="invoice_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__lte=F("total") - F("amount_credited")),
                name="invoice_not_overpaid",
            ),
        ]
        indexes = [
            models.Index(fields=["payer", "status"]),
            # The back-office list: a gym's newest invoices first.
            models.Index(fields=["organisation", "-created_at", "-id"], name="invoice_org_newest"),
            models.Index(
                fields=["next_collection_at"],
                condition=Q(status="open", next_collection_at__isnull=False),
                name="invoice_collection_due",
            ),
        ]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"INV-{self.number:06d}" if self.number else _("Draft invoice")

    @property
    def amount_due(self) -> Decimal:
        if self.status != self.Status.OPEN:
            return Decimal("0.00")
        return self.total - self.amount_credited - self.amount_paid


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(_("description"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # Net of tax; negative for a credit (unused time on a plan change, a discount).
    unit_price = amount_field(_("unit price"))
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4, default=0)
    subtotal = amount_field(_("subtotal"))
    tax_amount = amount_field(_("tax"))
    total = amount_field(_("total"))
    # What the line pays for ("memberships.membership", "inventory.order", ...): when
    # the invoice is paid, the handler registered for source_type is called.
    source_type = models.CharField(max_length=60, blank=True, db_index=True)
    source_id = models.CharField(max_length=64, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    tenant_branch_path = "invoice__branch"

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position", "pk"]
        indexes = [models.Index(fields=["source_type", "source_id"])]

    def __str__(self):
        return self.description


class PendingCharge(TenantModel):
    """A charge on a member's account, billed to their payer on the next invoice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet billed")
        INVOICED = "invoiced", _("Invoiced")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="pending_charges"
    )
    payer = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=255)
    amount = amount_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    currency = currency_field(verbose_name=_("currency"))
    # The charge's own rate (a product taxed differently); empty: the branch's rate.
    tax_rate = tax_rate_field(_("tax rate"), null=True, blank=True)
    source_type = models.CharField(max_length=60)
    source_id = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    invoice_line = models.OneToOneField(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="charge"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("account charge")
        verbose_name_plural = _("account charges")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source_type", "source_id"],
                condition=~Q(status="cancelled"),
                name="pending_charge_once_per_source",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="pending_charge_positive"),
        ]
        indexes = [
            models.Index(
                fields=["payer", "branch"], condition=Q(status="pending"), name="charge_unbilled"
            ),
        ]

    def __str__(self):
        return f"{self.description} ({self.amount} {self.currency})"


class PaymentMethod(TenantModel):
    """A payment method saved at a provider. Only the provider's references are kept."""

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="payment_methods"
    )
    provider = models.CharField(_("provider"), max_length=30)
    customer_reference = models.CharField(max_length=255, blank=True)
    method_reference = models.CharField(max_length=255)
    brand = models.CharField(_("brand"), max_length=30, blank=True)
    last4 = models.CharField(_("last four digits"), max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(_("default"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider", "method_reference"],
                name="payment_method_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(is_default=True, is_active=True),
                name="one_default_payment_method",
            ),
        ]

    def __str__(self):
        if self.last4:
            return f"{self.brand or self.provider} •••• {self.last4}"
        return self.provider


class Payment(TenantModel):
    """One payment or one attempt to charge: failed attempts are kept with their code."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Processing")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="payments")
    amount = amount_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    currency = currency_field(verbose_name=_("currency"))
    provider = models.CharField(_("provider"), max_length=30, default="manual")
    reference = models.CharField(_("provider reference"), max_length=255, blank=True)
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    failure_code = models.CharField(_("decline code"), max_length=60, blank=True)
    failure_message = models.CharField(_("failure"), max_length=255, blank=True)
    amount_refunded = amount_field(_("refunded"), default=0)
    # Sent to the provider with the charge, so a retried request is charged once.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    # A pending attempt whose worker's lease ran out is taken over (re-sent with the
    # same key) by the one worker that wins the next claim: counted here.
    takeovers = models.PositiveSmallIntegerField(_("taken over"), default=0)
    taken_over_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider", "reference"],
                condition=~Q(reference=""),
                name="payment_provider_reference_unique",
            ),
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="payment_idempotency_key_unique",
            ),
            # One charge attempt in flight per invoice (the claim is the real guard).
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="pending"),
                name="payment_one_pending_per_invoice",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
        ]
        indexes = [
            # The back-office list: a gym's newest payments first.
            models.Index(fields=["organisation", "-created_at", "-id"], name="payment_org_newest"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} ({self.get_status_display()})"

    @property
    def refundable(self) -> Decimal:
        if self.status != self.Status.SUCCEEDED:
            return Decimal("0.00")
        return self.amount - self.amount_refunded


class CreditNote(TenantModel):
    """Reduces what an invoice asks for: a comp, a correction, or the record of a refund."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.PositiveIntegerField(_("number"))
    amount = amount_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    currency = currency_field(verbose_name=_("currency"))
    reason = models.CharField(_("reason"), max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = "invoice__branch"

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="credit_note_number_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_positive"),
        ]

    def __str__(self):
        return f"CN-{self.number:06d}"


class Refund(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Processing")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    credit_note = models.OneToOneField(CreditNote, on_delete=models.PROTECT, related_name="refund")
    amount = amount_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    currency = currency_field(verbose_name=_("currency"))
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reference = models.CharField(_("provider reference"), max_length=255, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = "payment__branch"

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive"),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} ({self.get_status_display()})"


from billing.stripe.models import *  # noqa: E402,F403  (Stripe models)
