"""Billing state changes: invoices, account charges, payments, refunds, credit notes,
and automatic collection with dunning.

Contracts other apps rely on (see docs/billing.md): ``InvoiceLineSpec``,
``invoice_issue``, ``member_charge_add``, ``payment_record``, ``invoice_paid_handler``.

Lock order (docs/architecture.md): the rows a paid handler will change (memberships,
orders: taken first through the handler's ``lock`` hook) → invoice → payment.
No provider call is made inside a transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, Member, User
from accounts.services import audit_record
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
from billing.providers import ChargeResult, ProviderError, get_provider
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize, tax_on
from gymsite.outbox import email_enqueue, outbox_enqueue, outbox_handler

logger = logging.getLogger(__name__)

DEFAULT_DUNNING_RETRY_DAYS = (1, 3, 7)


# --- handler registries -----------------------------------------------------------


@dataclass(frozen=True)
class _Handler:
    func: Callable
    lock: Callable[[list[str]], None] | None


_paid_handlers: dict[str, _Handler] = {}


class _AllSources(dict):
    """A registry view that matches every line (to list an invoice's lines)."""

    def __contains__(self, key):
        return True


_ALL = _AllSources()
_failed_handlers: dict[str, _Handler] = {}
_voided_handlers: dict[str, _Handler] = {}


def _registrar(registry: dict[str, _Handler], source_type: str, lock):
    def register(func):
        registry[source_type] = _Handler(func=func, lock=lock)
        return func

    return register


def invoice_paid_handler(source_type: str, *, lock: Callable[[list[str]], None] | None = None):
    """Register ``func(*, invoice, line)``, called once per line of ``source_type`` in the
    transaction that makes an invoice paid.

    ``lock(source_ids)``, if given, is called before the invoice is locked, to lock the
    handler's own rows first (the architecture's lock order puts them before invoices).
    A handler that raises rolls the payment back.
    """
    return _registrar(_paid_handlers, source_type, lock)


def invoice_payment_failed_handler(
    source_type: str, *, lock: Callable[[list[str]], None] | None = None
):
    """Register ``func(*, invoice, line, final: bool)``, called when an automatic charge
    of the invoice fails; ``final`` is true after the last dunning retry."""
    return _registrar(_failed_handlers, source_type, lock)


def invoice_voided_handler(source_type: str, *, lock: Callable[[list[str]], None] | None = None):
    """Register ``func(*, invoice, line)``, called when an open invoice is voided."""
    return _registrar(_voided_handlers, source_type, lock)


def _lines_with_handler(invoice: Invoice, registry: dict[str, _Handler]):
    lines = getattr(invoice, "_lines_cache", None)
    if lines is None:
        lines = list(invoice.lines.order_by("position", "pk"))
    return [line for line in lines if line.source_type in registry]


def _lock_sources(invoice_id: int, registry: dict[str, _Handler]) -> list[InvoiceLine]:
    """Lock the handlers' rows before the invoice (stable lock order); returns the
    invoice's lines (they never change once issued)."""
    lines = list(InvoiceLine.objects.filter(invoice_id=invoice_id).order_by("position", "pk"))
    by_type: dict[str, list[str]] = {}
    for line in lines:
        handler = registry.get(line.source_type)
        if handler and handler.lock:
            by_type.setdefault(line.source_type, []).append(line.source_id)
    for source_type in sorted(by_type):
        registry[source_type].lock(sorted(set(by_type[source_type])))
    return lines


def _run_handlers(invoice: Invoice, registry: dict[str, _Handler], **kwargs) -> None:
    for line in _lines_with_handler(invoice, registry):
        registry[line.source_type].func(invoice=invoice, line=line, **kwargs)


def _provider(organisation, name: str):
    """A provider chosen by a caller: an unknown name is bad input, not a crash."""
    try:
        return get_provider(organisation, name)
    except ProviderError as exc:
        raise ServiceError(str(exc), code="unknown_provider", field="provider") from None


# --- numbering ---------------------------------------------------------------------


def _next_number(*, organisation_id: int, kind: str) -> int:
    """The next number of a document kind, gap-free: see ``DocumentCounter``."""
    table = DocumentCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (organisation_id, kind, last_number) VALUES (%s, %s, 1)
            ON CONFLICT (organisation_id, kind)
            DO UPDATE SET last_number = {table}.last_number + 1
            RETURNING last_number
            """,  # noqa: S608 (table name is ours, values are parameters)
            [organisation_id, kind],
        )
        return cursor.fetchone()[0]


# --- invoices ----------------------------------------------------------------------


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


# --- account charges ---------------------------------------------------------------


@transaction.atomic
def member_charge_add(
    *,
    member: Member,
    branch: Branch,
    description: str,
    amount: Decimal,
    source_type: str,
    source_id: str,
    actor: User | None = None,
    tax_rate: Decimal | None = None,
) -> PendingCharge:
    """Put a charge on a member's account; it is billed to their payer on the next
    invoice at that branch, taxed at ``tax_rate`` (empty: the branch's rate). One
    charge per (source_type, source_id): asking again returns the first."""
    if tax_rate is not None:
        tax_rate = _as_decimal(tax_rate, field="tax_rate")
        if not Decimal(0) <= tax_rate <= Decimal(1):
            raise ServiceError(_("Invalid tax rate."), code="invalid_tax_rate", field="tax_rate")
    amount = quantize(_as_decimal(amount, field="amount"))
    if amount <= 0:
        raise ServiceError(
            _("The amount must be greater than zero."), code="invalid_amount", field="amount"
        )
    if not description or not description.strip():
        raise ServiceError(_("Enter a description."), code="required", field="description")
    if not source_type or not str(source_id):
        raise ServiceError(_("A charge needs a source."), code="required", field="source_type")
    if member.organisation_id != branch.organisation_id:
        raise ServiceError(_("Unknown member."), code="unknown_member", field="member")
    existing = (
        PendingCharge.objects.filter(source_type=source_type, source_id=str(source_id))
        .exclude(status=PendingCharge.Status.CANCELLED)
        .first()
    )
    if existing is not None:
        return existing
    charge = PendingCharge(
        organisation_id=branch.organisation_id,
        member=member,
        payer=member.billing_member,
        branch=branch,
        description=description.strip()[:255],
        amount=amount,
        currency=branch.organisation.currency,
        tax_rate=tax_rate,
        source_type=source_type,
        source_id=str(source_id),
        created_by=actor if actor and actor.is_authenticated else None,
    )
    try:
        with transaction.atomic():
            charge.save()
    except IntegrityError:
        return PendingCharge.objects.exclude(status=PendingCharge.Status.CANCELLED).get(
            source_type=source_type, source_id=str(source_id)
        )
    if actor is not None:
        audit_record(actor=actor, action="charge.add", target=charge, data={"amount": str(amount)})
    return charge


@transaction.atomic
def member_charge_cancel(*, charge: PendingCharge, actor: User | None = None) -> PendingCharge:
    """Take an unbilled charge off the account (a waived fee)."""
    updated = PendingCharge.objects.filter(
        pk=charge.pk, status=PendingCharge.Status.PENDING
    ).update(status=PendingCharge.Status.CANCELLED)
    if not updated:
        raise Conflict(_("This charge has already been billed."), code="charge_billed")
    charge.refresh_from_db()
    if actor is not None:
        audit_record(actor=actor, action="charge.cancel", target=charge)
    return charge


@transaction.atomic
def account_charges_invoice(
    *, payer: Member, branch: Branch, actor: User | None = None
) -> Invoice | None:
    """Bill a payer's unbilled account charges at a branch now (None if there are none)."""
    payer = payer.billing_member
    if not PendingCharge.objects.filter(
        payer=payer, branch=branch, status=PendingCharge.Status.PENDING
    ).exists():
        return None
    return invoice_issue(
        payer=payer, branch=branch, lines=[], actor=actor, include_account_charges=True
    )


def account_charges_bill_stale(*, now: datetime | None = None) -> int:
    """Invoice every payer's account charges older than ``BILLING_ACCOUNT_CHARGES_MAX_DAYS``
    (default 7) at their branch; returns how many invoices were issued."""
    now = now or timezone.now()
    max_age = timedelta(days=getattr(settings, "BILLING_ACCOUNT_CHARGES_MAX_DAYS", 7))
    groups = (
        PendingCharge.objects.filter(
            status=PendingCharge.Status.PENDING, created_at__lt=now - max_age
        )
        .values_list("payer_id", "branch_id")
        .distinct()
    )
    issued = 0
    for payer_id, branch_id in list(groups):
        payer = Member.objects.get(pk=payer_id)
        branch = Branch.objects.select_related("organisation").get(pk=branch_id)
        issued += account_charges_invoice(payer=payer, branch=branch) is not None
    return issued


# --- payments ----------------------------------------------------------------------


def _validate_payment_amount(invoice: Invoice, amount) -> Decimal:
    amount = _as_decimal(amount, field="amount")
    if amount != quantize(amount):
        raise ServiceError(
            _("Use at most two decimal places."), code="invalid_amount", field="amount"
        )
    if amount <= 0:
        raise ServiceError(
            _("The amount must be greater than zero."), code="invalid_amount", field="amount"
        )
    if invoice.status == Invoice.Status.PAID:
        raise Conflict(_("This invoice is already paid."), code="invoice_already_paid")
    if invoice.status != Invoice.Status.OPEN:
        raise Conflict(
            _("This invoice is %(status)s and cannot be paid.")
            % {"status": invoice.get_status_display().lower()},
            code="invoice_not_open",
        )
    if amount > invoice.amount_due:
        raise ServiceError(
            _("The amount is more than the %(due)s %(currency)s due.")
            % {"due": invoice.amount_due, "currency": invoice.currency},
            code="overpayment",
            field="amount",
        )
    return amount


def _apply_payment(invoice: Invoice, payment: Payment, *, now: datetime) -> None:
    """Add a payment to a locked invoice (the lock makes the read-modify-write safe)."""
    invoice.amount_paid += payment.amount
    if invoice.amount_due <= 0:
        _invoice_mark_paid(invoice, now=now, also=("amount_paid",))
    else:
        invoice.save(update_fields=["amount_paid"])
    if invoice.payer.email:
        email_enqueue(
            to=invoice.payer.email,
            template="billing/payment_received",
            context={
                **_invoice_email_context(invoice, invoice.payer),
                "amount": str(payment.amount),
                "lines": [line.description for line in _lines_with_handler(invoice, _ALL)],
                "paid": invoice.status == Invoice.Status.PAID,
            },
            organisation_id=invoice.organisation_id,
            dedupe_key=f"payment-received-{payment.pk}",
        )


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    provider: str = "manual",
    reference: str = "",
    actor: User | None = None,
) -> Payment:
    """Record money received for an invoice (front desk, or a provider's confirmation).

    When the invoice is fully paid it becomes paid and the paid handlers run, all in
    this transaction. Recording a provider reference twice (a repeated webhook)
    returns the first payment.
    """
    if reference:
        existing = Payment.objects.filter(provider=provider, reference=reference).first()
        if existing is not None and existing.status == Payment.Status.SUCCEEDED:
            return existing
    _provider(invoice.branch.organisation, provider)  # unknown names are refused
    invoice = _lock_invoice(invoice.pk, _paid_handlers)
    amount = _validate_payment_amount(invoice, amount)
    now = timezone.now()
    payment = Payment.objects.create(
        organisation_id=invoice.organisation_id,
        invoice=invoice,
        branch_id=invoice.branch_id,
        payer=invoice.payer,
        amount=amount,
        currency=invoice.currency,
        provider=provider,
        reference=reference,
        status=Payment.Status.SUCCEEDED,
        completed_at=now,
        created_by=actor if actor and actor.is_authenticated else None,
    )
    _apply_payment(invoice, payment, now=now)
    if actor is not None:
        audit_record(
            actor=actor,
            action="payment.record",
            target=payment,
            data={"invoice": invoice.pk, "amount": str(amount), "provider": provider},
        )
    return payment


# --- saved payment methods ---------------------------------------------------------


@transaction.atomic
def payment_method_save(
    *,
    member: Member,
    provider: str,
    method_reference: str,
    customer_reference: str = "",
    brand: str = "",
    last4: str = "",
    exp_month: int | None = None,
    exp_year: int | None = None,
    make_default: bool = True,
) -> PaymentMethod:
    """Keep a provider's reference to a payment method (never card data) for a member.

    Saving the same reference again updates it. The default method is the one renewals
    and dunning charge.
    """
    if not method_reference:
        raise ServiceError(_("A payment method reference is required."), code="required")
    if last4 and (len(last4) != 4 or not last4.isdigit()):
        raise ServiceError(_("Invalid card ending."), code="invalid", field="last4")
    _provider(member.home_branch.organisation, provider)
    Member.objects.select_for_update().filter(pk=member.pk).first()
    if make_default:
        PaymentMethod.objects.filter(member=member, is_default=True).update(is_default=False)
    method, _created = PaymentMethod.objects.update_or_create(
        provider=provider,
        method_reference=method_reference,
        defaults={
            "organisation_id": member.organisation_id,
            "member": member,
            "customer_reference": customer_reference,
            "brand": brand,
            "last4": last4,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "is_default": make_default,
            "is_active": True,
        },
    )
    return method


@transaction.atomic
def payment_method_remove(*, method: PaymentMethod) -> PaymentMethod:
    PaymentMethod.objects.filter(pk=method.pk).update(is_active=False, is_default=False)
    method.refresh_from_db()
    return method


# --- automatic collection and dunning -----------------------------------------------


def dunning_retry_days() -> tuple[int, ...]:
    return tuple(getattr(settings, "BILLING_DUNNING_RETRY_DAYS", DEFAULT_DUNNING_RETRY_DAYS))


def default_payment_method(*, payer: Member) -> PaymentMethod | None:
    return PaymentMethod.objects.filter(member=payer, is_default=True, is_active=True).first()


# A charge attempt leases its invoice for this long, so two sweeps never both charge.
COLLECTION_LEASE = timedelta(minutes=15)


def _collection_claim(*, invoice_id: int, now: datetime, scheduled: bool) -> bool:
    """Claim the right to make the invoice's next charge attempt: one conditional
    UPDATE whose row count says who won. The invoice must be open and not leased to
    anyone (or the lease ran out) and, for the dunning sweep (``scheduled``), its
    next collection must be due. The claim takes the next claim number
    (``collection_claims``), which its holder keeps to renew the lease.

    The claim also moves ``next_collection_at`` to the lease's end, so if this worker
    dies the sweep finds the attempt there and takes it over.
    """
    lease_until = max(now, timezone.now()) + COLLECTION_LEASE
    claimable = Invoice.objects.filter(pk=invoice_id, status=Invoice.Status.OPEN).filter(
        Q(collection_lease_until__isnull=True) | Q(collection_lease_until__lte=now)
    )
    if scheduled:
        claimable = claimable.filter(next_collection_at__lte=now)
    return bool(
        claimable.update(
            collection_claims=F("collection_claims") + 1,
            collection_lease_until=lease_until,
            next_collection_at=lease_until,
        )
    )


def _collection_lease_renew(*, payment: Payment, now: datetime) -> bool:
    """The holder of a claim extends its lease right before asking the provider;
    False when the claim is no longer its own (another worker took the attempt over
    after the lease ran out, or the attempt is finished)."""
    claim = getattr(payment, "collection_claim", None)
    if claim is None:
        raise ValueError("invoice_charge takes the attempt returned by invoice_collection_prepare")
    lease_until = max(now, timezone.now()) + COLLECTION_LEASE
    return bool(
        Invoice.objects.filter(
            pk=payment.invoice_id,
            collection_claims=claim,
            collection_lease_until__isnull=False,
        ).update(collection_lease_until=lease_until, next_collection_at=lease_until)
    )


@transaction.atomic
def invoice_collection_prepare(
    *, invoice: Invoice, now: datetime | None = None, scheduled: bool = False
) -> Payment | None:
    """Step one of an automatic charge: claim the invoice's collection (see
    ``_collection_claim``) and record the attempt (a pending ``Payment`` with an
    idempotency key).

    ``scheduled`` is the dunning sweep: only an invoice whose next collection is due
    is claimed. Without it (renewal, "pay now", the admin's "charge now") the attempt
    is made whatever the retry schedule says, but never while another is leased.
    A pending attempt found after winning the claim was left by a worker whose lease
    ran out: it is taken over (recorded on it) and sent again with the same key, so
    the provider answers with the first charge instead of making a second.

    May run inside a caller's transaction (the renewal job issues the invoice and
    prepares its charge in one commit). Returns None when there is nothing to do.
    Then call ``invoice_charge`` after commit.
    """
    now = now or timezone.now()
    if not _collection_claim(invoice_id=invoice.pk, now=now, scheduled=scheduled):
        return None
    # The UPDATE holds the row lock until commit: this read sees our own claim.
    invoice = Invoice.objects.select_related("payer", "branch__organisation").get(pk=invoice.pk)
    claim = invoice.collection_claims
    pending = invoice.payments.filter(status=Payment.Status.PENDING).first()
    if pending is not None:
        Payment.objects.filter(pk=pending.pk).update(
            takeovers=F("takeovers") + 1, taken_over_at=now
        )
        pending.refresh_from_db(fields=["takeovers", "taken_over_at"])
        logger.warning(
            "stale charge attempt taken over",
            extra={"payment_id": pending.pk, "takeovers": pending.takeovers},
        )
        pending.collection_claim = claim
        return pending
    if invoice.amount_due <= 0:
        _collection_release(invoice.pk)
        return None
    method = default_payment_method(payer=invoice.payer)
    attempt = invoice.collection_attempts + 1
    payment = Payment.objects.create(
        organisation_id=invoice.organisation_id,
        invoice=invoice,
        branch_id=invoice.branch_id,
        payer=invoice.payer,
        amount=invoice.amount_due,
        currency=invoice.currency,
        provider=method.provider if method else "manual",
        payment_method=method,
        status=Payment.Status.PENDING,
        idempotency_key=f"invoice-{invoice.pk}-attempt-{attempt}",
    )
    payment.collection_claim = claim
    return payment


def _collection_release(invoice_id: int) -> None:
    Invoice.objects.filter(pk=invoice_id).update(collection_lease_until=None)


def invoice_collect(
    *, invoice: Invoice, now: datetime | None = None, scheduled: bool = False
) -> Payment | None:
    """Try to charge an open invoice to the payer's saved payment method.

    Three steps: record the attempt (a pending Payment with an idempotency key) and
    commit; call the provider with no transaction open; record the result. On a
    decline the next retry is scheduled (``BILLING_DUNNING_RETRY_DAYS``) and the
    payer emailed a link to pay; after the last retry the failed handlers are told
    it was final. Returns the attempt, or None if there was nothing to collect.
    """
    now = now or timezone.now()
    payment = invoice_collection_prepare(invoice=invoice, now=now, scheduled=scheduled)
    if payment is None:
        return None
    return invoice_charge(payment=payment, invoice=invoice, now=now)


def invoice_charge(*, payment: Payment, invoice: Invoice, now: datetime | None = None) -> Payment:
    """Steps two and three of an automatic charge: ask the provider (no transaction
    open) and record its answer. ``payment`` comes from ``invoice_collection_prepare``.

    The lease is renewed first: a worker that lost it (too slow, and another took the
    attempt over) does not call the provider and leaves the attempt to the new holder.
    """
    now = now or timezone.now()
    if not _collection_lease_renew(payment=payment, now=now):
        logger.warning("charge attempt no longer ours", extra={"payment_id": payment.pk})
        payment.refresh_from_db()
        return payment
    try:
        provider = get_provider(invoice.branch.organisation, payment.provider)
        if not provider.supports_off_session or payment.payment_method is None:
            result = ChargeResult(
                succeeded=False,
                failure_code="no_payment_method",
                failure_message=_("No saved payment method."),
            )
        else:
            result = provider.charge(
                amount=payment.amount,
                currency=payment.currency,
                payment_method=payment.payment_method,
                idempotency_key=payment.idempotency_key,
                description=str(invoice),
                metadata={"invoice_id": invoice.pk, "organisation_id": invoice.organisation_id},
            )
    except ProviderError:
        # Left pending: the next sweep (after the lease) asks again with the same key.
        logger.warning("payment provider unavailable", extra={"payment_id": payment.pk})
        return payment
    return payment_attempt_complete(payment=payment, result=result, now=now)


@transaction.atomic
def payment_attempt_complete(
    *, payment: Payment, result: ChargeResult, now: datetime | None = None
) -> Payment:
    """Record a provider's answer to a charge attempt (also used by webhooks).

    Idempotent: an attempt already completed is returned unchanged.
    """
    now = now or timezone.now()
    registry = _paid_handlers if result.succeeded else _failed_handlers
    invoice = _lock_invoice(payment.invoice_id, registry)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.PENDING:
        return payment
    # The attempt is over: its lease ends with it (the invoice row is locked above).
    invoice.collection_lease_until = None
    invoice.save(update_fields=["collection_lease_until"])
    payment.completed_at = now
    if result.reference:
        payment.reference = result.reference
    if result.succeeded and invoice.status == Invoice.Status.OPEN:
        # Never more than is still due (paid at the desk meanwhile: the rest is refunded).
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "completed_at", "reference"])
        if payment.amount > invoice.amount_due:
            _refund_duplicate(payment)
            return payment
        _apply_payment(invoice, payment, now=now)
        return payment
    if result.succeeded:
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "completed_at", "reference"])
        _refund_duplicate(payment)
        return payment
    payment.status = Payment.Status.FAILED
    payment.failure_code = (result.failure_code or "declined")[:60]
    payment.failure_message = (result.failure_message or "")[:255]
    payment.save(
        update_fields=["status", "completed_at", "reference", "failure_code", "failure_message"]
    )
    if invoice.status != Invoice.Status.OPEN:
        return payment
    retries = dunning_retry_days()
    attempts = invoice.collection_attempts + 1
    final = attempts > len(retries)
    invoice.collection_attempts = attempts
    invoice.next_collection_at = None if final else now + timedelta(days=retries[attempts - 1])
    invoice.save(update_fields=["collection_attempts", "next_collection_at"])
    _run_handlers(invoice, _failed_handlers, final=final)
    if invoice.payer.email:
        email_enqueue(
            to=invoice.payer.email,
            template="billing/payment_failed",
            context={
                **_invoice_email_context(invoice, invoice.payer),
                "final": final,
                "next_attempt": invoice.next_collection_at.date().isoformat()
                if invoice.next_collection_at
                else "",
                "failure_message": payment.failure_message or payment.failure_code,
            },
            organisation_id=invoice.organisation_id,
            dedupe_key=f"payment-failed-{payment.pk}",
        )
    return payment


def _refund_duplicate(payment: Payment) -> None:
    """A charge that landed after the invoice was settled another way goes back."""
    logger.warning("charge on a settled invoice refunded", extra={"payment_id": payment.pk})
    refund_create(
        payment=payment,
        amount=payment.amount,
        reason=_("Paid twice: this charge is returned"),
    )


def invoices_collect_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Attempt every open invoice whose next collection is due (organisation in scope)."""
    now = now or timezone.now()
    ids = (
        Invoice.objects.filter(status=Invoice.Status.OPEN, next_collection_at__lte=now)
        .order_by("next_collection_at", "pk")
        .values_list("pk", flat=True)
    )
    if limit:
        ids = ids[:limit]
    attempted = 0
    for invoice in Invoice.objects.filter(pk__in=list(ids)).select_related("branch__organisation"):
        # The list may be old by now (another sweep ran meanwhile): each invoice is
        # claimed only if its collection is still due.
        attempted += invoice_collect(invoice=invoice, now=now, scheduled=True) is not None
    return attempted


# --- credit notes and refunds ------------------------------------------------------


def _credit_note_create(*, invoice: Invoice, amount: Decimal, reason: str, actor) -> CreditNote:
    return CreditNote.objects.create(
        organisation_id=invoice.organisation_id,
        invoice=invoice,
        number=_next_number(
            organisation_id=invoice.organisation_id, kind=DocumentCounter.Kind.CREDIT_NOTE
        ),
        amount=amount,
        currency=invoice.currency,
        reason=reason[:255],
        created_by=actor if actor and actor.is_authenticated else None,
    )


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, amount: Decimal, reason: str, actor: User | None = None
) -> CreditNote:
    """Reduce what an open invoice asks for (a comp, a goodwill discount, a correction).

    Crediting the whole amount due settles the invoice: it becomes paid and its paid
    handlers run, as for a payment.
    """
    if not reason or not reason.strip():
        raise ServiceError(_("Give a reason."), code="required", field="reason")
    invoice = _lock_invoice(invoice.pk, _paid_handlers)
    amount = _validate_payment_amount(invoice, amount)
    note = _credit_note_create(invoice=invoice, amount=amount, reason=reason.strip(), actor=actor)
    Invoice.objects.filter(pk=invoice.pk).update(amount_credited=F("amount_credited") + amount)
    invoice.refresh_from_db(fields=["amount_credited"])
    if invoice.amount_due <= 0:
        _invoice_mark_paid(invoice, now=timezone.now())
    if actor is not None:
        audit_record(
            actor=actor, action="credit_note.issue", target=note, data={"amount": str(amount)}
        )
    return note


@transaction.atomic
def refund_create(
    *, payment: Payment, amount: Decimal, reason: str, actor: User | None = None
) -> Refund:
    """Refund (part of) a successful payment, with a credit note documenting it.

    In-person payments are refunded over the counter at once; online providers are
    asked after commit, through the outbox.
    """
    if not reason or not reason.strip():
        raise ServiceError(_("Give a reason."), code="required", field="reason")
    amount = _as_decimal(amount, field="amount")
    if amount <= 0 or amount != quantize(amount):
        raise ServiceError(
            _("Enter an amount greater than zero with at most two decimals."),
            code="invalid_amount",
            field="amount",
        )
    invoice = _lock_invoice(payment.invoice_id, {})
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.SUCCEEDED:
        raise Conflict(_("Only a successful payment can be refunded."), code="payment_not_paid")
    if amount > payment.refundable:
        raise ServiceError(
            _("At most %(amount)s %(currency)s can be refunded.")
            % {"amount": payment.refundable, "currency": payment.currency},
            code="refund_too_large",
            field="amount",
        )
    note = _credit_note_create(invoice=invoice, amount=amount, reason=reason.strip(), actor=actor)
    provider = get_provider(invoice.branch.organisation, payment.provider)
    refund = Refund.objects.create(
        organisation_id=invoice.organisation_id,
        payment=payment,
        credit_note=note,
        amount=amount,
        currency=payment.currency,
        reason=reason.strip()[:255],
        created_by=actor if actor and actor.is_authenticated else None,
    )
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=F("amount_refunded") + amount)
    Invoice.objects.filter(pk=invoice.pk).update(amount_refunded=F("amount_refunded") + amount)
    if provider.in_person:
        refund.status = Refund.Status.SUCCEEDED
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "completed_at"])
        _refund_notify(refund, invoice)
    else:
        outbox_enqueue(
            kind="billing.refund",
            payload={"refund_id": refund.pk},
            organisation_id=invoice.organisation_id,
            dedupe_key=f"refund-{refund.pk}",
        )
    if actor is not None:
        audit_record(
            actor=actor,
            action="refund.create",
            target=refund,
            data={"payment": payment.pk, "amount": str(amount)},
        )
    return refund


def _refund_notify(refund: Refund, invoice: Invoice) -> None:
    if invoice.payer.email:
        email_enqueue(
            to=invoice.payer.email,
            template="billing/refund",
            context={
                **_invoice_email_context(invoice, invoice.payer),
                "amount": str(refund.amount),
                "reason": refund.reason,
            },
            organisation_id=invoice.organisation_id,
            dedupe_key=f"refund-{refund.pk}",
        )


@transaction.atomic
def refund_complete(*, refund: Refund, succeeded: bool, reference: str = "", message: str = ""):
    """Record a provider's answer to a refund. A failed refund gives the amount back to
    the payment (it can be refunded again)."""
    refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
    if refund.status != Refund.Status.PENDING:
        return refund
    refund.completed_at = timezone.now()
    refund.reference = reference or refund.reference
    if succeeded:
        refund.status = Refund.Status.SUCCEEDED
        refund.save(update_fields=["status", "completed_at", "reference"])
        _refund_notify(
            refund, Invoice.objects.select_related("payer").get(pk=refund.payment.invoice_id)
        )
        return refund
    refund.status = Refund.Status.FAILED
    refund.failure_message = message[:255]
    refund.save(update_fields=["status", "completed_at", "reference", "failure_message"])
    Payment.objects.filter(pk=refund.payment_id).update(
        amount_refunded=F("amount_refunded") - refund.amount
    )
    Invoice.objects.filter(pk=refund.payment.invoice_id).update(
        amount_refunded=F("amount_refunded") - refund.amount
    )
    return refund


@outbox_handler("billing.refund")
def _deliver_refund(message) -> None:
    """Ask the provider for a refund (runs after commit, outside any lock)."""
    from accounts.tenancy import tenant_scope

    with tenant_scope(message.organisation_id):
        refund = Refund.objects.select_related("payment__invoice__branch__organisation").get(
            pk=message.payload["refund_id"]
        )
        if refund.status != Refund.Status.PENDING:
            return
        payment = refund.payment
        provider = get_provider(payment.invoice.branch.organisation, payment.provider)
        result = provider.refund(
            payment_reference=payment.reference,
            amount=refund.amount,
            currency=refund.currency,
            idempotency_key=f"refund-{refund.pk}",
            reason=refund.reason,
        )
        if not result.pending:
            refund_complete(
                refund=refund,
                succeeded=result.succeeded,
                reference=result.reference,
                message=result.failure_message,
            )
