"""Issuing, voiding and writing off invoices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, Member, User
from accounts.services import audit_record
from billing.models import (
    DocumentCounter,
    Invoice,
    InvoiceLine,
    PendingCharge,
)
from billing.services.handlers import (
    _Handler,
    _lock_sources,
    _paid_handlers,
    _run_handlers,
    _voided_handlers,
)
from billing.services.numbering import _next_number
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize, tax_on
from gymsite.outbox import email_enqueue


@dataclass(frozen=True)
class InvoiceLineSpec:
    """One line to bill. ``unit_price`` is net of tax; tax is added at ``tax_rate``
    (default: the branch's rate). A negative price is a credit (e.g. unused time)."""

    description: str
    quantity: int
    unit_price: Decimal
    currency: str | None = None
    source_type: str = ""
    source_id: str = ""
    tax_rate: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None


def _as_decimal(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError):
        raise ServiceError(_("Enter a valid amount."), code="invalid_amount", field=field) from None
    if not amount.is_finite():
        raise ServiceError(_("Enter a valid amount."), code="invalid_amount", field=field)
    return amount


def _build_lines(
    specs: list[InvoiceLineSpec], *, currency: str, branch_tax_rate: Decimal
) -> list[InvoiceLine]:
    if not specs:
        raise ServiceError(_("An invoice needs at least one line."), code="no_lines", field="lines")
    lines = []
    for position, spec in enumerate(specs):
        if not spec.description or not spec.description.strip():
            raise ServiceError(
                _("Every line needs a description."), code="invalid_line", field="lines"
            )
        if not isinstance(spec.quantity, int) or spec.quantity < 1:
            raise ServiceError(
                _("Quantity must be a whole number of at least 1."),
                code="invalid_quantity",
                field="lines",
            )
        if spec.currency and spec.currency != currency:
            raise ServiceError(
                _("Every line of an invoice must be in %(currency)s.") % {"currency": currency},
                code="currency_mismatch",
                field="lines",
            )
        unit_price = quantize(_as_decimal(spec.unit_price, field="lines"))
        tax_rate = branch_tax_rate if spec.tax_rate is None else Decimal(spec.tax_rate)
        if not Decimal(0) <= tax_rate <= Decimal(1):
            raise ServiceError(_("Invalid tax rate."), code="invalid_tax_rate", field="lines")
        subtotal = quantize(unit_price * spec.quantity)
        tax_amount = tax_on(subtotal, tax_rate)
        lines.append(
            InvoiceLine(
                description=spec.description.strip()[:255],
                quantity=spec.quantity,
                unit_price=unit_price,
                tax_rate=tax_rate,
                subtotal=subtotal,
                tax_amount=tax_amount,
                total=subtotal + tax_amount,
                source_type=spec.source_type,
                source_id=str(spec.source_id),
                period_start=spec.period_start,
                period_end=spec.period_end,
                position=position,
            )
        )
    return lines


def _unbilled_charges(*, payer: Member, branch: Branch) -> list[PendingCharge]:
    return list(
        PendingCharge.objects.filter(
            payer=payer, branch=branch, status=PendingCharge.Status.PENDING
        )
        .order_by("pk")
        .select_for_update()
    )


@transaction.atomic
def invoice_issue(
    *,
    payer: Member,
    branch: Branch,
    lines: list[InvoiceLineSpec],
    due_date: date | None = None,
    actor: User | None = None,
    billing_key: str | None = None,
    include_account_charges: bool = False,
    notify: bool = True,
) -> Invoice:
    """Issue an open invoice with the organisation's next number.

    ``payer`` is billed; a dependant is billed through their household payer.
    ``billing_key`` makes the call idempotent: a second call with the same key returns
    the first invoice (even when both run at once). ``include_account_charges`` adds
    the payer's unbilled account charges at this branch.
    """
    payer = payer.billing_member
    if payer.organisation_id != branch.organisation_id:
        raise ServiceError(_("Unknown member."), code="unknown_member", field="payer")
    if billing_key:
        existing = Invoice.objects.filter(billing_key=billing_key).first()
        if existing is not None:
            return existing
    currency = branch.organisation.currency
    specs = list(lines)
    charges = _unbilled_charges(payer=payer, branch=branch) if include_account_charges else []
    specs += [
        InvoiceLineSpec(
            description=charge.description,
            quantity=1,
            unit_price=charge.amount,
            currency=charge.currency,
            tax_rate=charge.tax_rate,
            source_type=charge.source_type,
            source_id=charge.source_id,
        )
        for charge in charges
    ]
    built = _build_lines(specs, currency=currency, branch_tax_rate=branch.tax_rate)
    subtotal = sum((line.subtotal for line in built), Decimal("0.00"))
    tax_total = sum((line.tax_amount for line in built), Decimal("0.00"))
    total = subtotal + tax_total
    if total < 0:
        raise ServiceError(
            _("An invoice cannot total less than zero."), code="negative_total", field="lines"
        )
    now = timezone.now()
    try:
        # The counter increment and the insert share a savepoint: if another caller
        # won the same billing_key, both roll back and no number is skipped.
        with transaction.atomic():
            invoice = Invoice.objects.create(
                organisation_id=branch.organisation_id,
                branch=branch,
                payer=payer,
                number=_next_number(
                    organisation_id=branch.organisation_id, kind=DocumentCounter.Kind.INVOICE
                ),
                status=Invoice.Status.OPEN,
                currency=currency,
                subtotal=subtotal,
                tax_total=tax_total,
                total=total,
                issued_at=now,
                due_date=due_date or timezone.localdate(),
                billing_key=billing_key or None,
                created_by=actor if actor and actor.is_authenticated else None,
            )
    except IntegrityError:
        if not billing_key:
            raise
        return Invoice.objects.get(billing_key=billing_key)
    for line in built:
        line.invoice = invoice
        line.organisation_id = invoice.organisation_id
    InvoiceLine.objects.bulk_create(built)
    if charges:
        charge_lines = built[len(lines) :]
        for charge, line in zip(charges, charge_lines, strict=True):
            charge.status = PendingCharge.Status.INVOICED
            charge.invoice_line = line
        PendingCharge.objects.bulk_update(charges, ["status", "invoice_line"])
    if total == 0:
        _invoice_mark_paid(invoice, now=now)
    elif notify and payer.email:
        email_enqueue(
            to=payer.email,
            template="billing/invoice_issued",
            context=_invoice_email_context(invoice, payer),
            organisation_id=invoice.organisation_id,
            dedupe_key=f"invoice-issued-{invoice.pk}",
        )
    if actor is not None:
        audit_record(actor=actor, action="invoice.issue", target=invoice)
    return invoice


def _invoice_email_context(invoice: Invoice, payer: Member) -> dict:
    return {
        "payer_name": payer.first_name,
        "number": invoice.display_number,
        "total": str(invoice.total),
        "amount_due": str(invoice.amount_due),
        "currency": invoice.currency,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
        "invoice_path": f"/billing/invoices/{invoice.pk}/",
    }


def _invoice_mark_paid(invoice: Invoice, *, now: datetime, also: tuple[str, ...] = ()) -> None:
    """Make a (locked) invoice paid and run its paid handlers; ``also`` names fields
    changed by the caller that are saved in the same UPDATE."""
    invoice.status = Invoice.Status.PAID
    invoice.paid_at = now
    invoice.next_collection_at = None
    invoice.save(update_fields=["status", "paid_at", "next_collection_at", *also])
    _run_handlers(invoice, _paid_handlers)


def _lock_invoice(invoice_id: int, registry: dict[str, _Handler]) -> Invoice:
    lines = _lock_sources(invoice_id, registry)
    try:
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("payer", "branch__organisation")
            .get(pk=invoice_id)
        )
    except Invoice.DoesNotExist:
        raise ServiceError(_("Unknown invoice."), code="unknown_invoice", field="invoice") from None
    invoice._lines_cache = lines
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: User | None = None, reason: str = "") -> Invoice:
    """Cancel an open invoice nobody has paid anything on."""
    invoice = _lock_invoice(invoice.pk, _voided_handlers)
    if invoice.status != Invoice.Status.OPEN:
        raise Conflict(_("Only an open invoice can be voided."), code="invoice_not_open")
    if invoice.amount_paid > 0:
        raise Conflict(
            _("This invoice has payments: refund them instead of voiding."),
            code="invoice_has_payments",
        )
    invoice.status = Invoice.Status.VOID
    invoice.voided_at = timezone.now()
    invoice.next_collection_at = None
    invoice.save(update_fields=["status", "voided_at", "next_collection_at"])
    # Account charges on a voided invoice go back on the account.
    PendingCharge.objects.filter(invoice_line__invoice=invoice).update(
        status=PendingCharge.Status.PENDING, invoice_line=None
    )
    _run_handlers(invoice, _voided_handlers)
    if actor is not None:
        audit_record(actor=actor, action="invoice.void", target=invoice, data={"reason": reason})
    return invoice


@transaction.atomic
def invoice_mark_uncollectible(*, invoice: Invoice, actor: User | None = None) -> Invoice:
    invoice = _lock_invoice(invoice.pk, {})
    if invoice.status != Invoice.Status.OPEN:
        raise Conflict(_("Only an open invoice can be written off."), code="invoice_not_open")
    invoice.status = Invoice.Status.UNCOLLECTIBLE
    invoice.next_collection_at = None
    invoice.save(update_fields=["status", "next_collection_at"])
    if actor is not None:
        audit_record(actor=actor, action="invoice.uncollectible", target=invoice)
    return invoice
