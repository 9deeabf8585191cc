"""Hooks other apps register for an invoice's lines (paid, payment failed,
voided), and the provider lookup every payment path uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from billing.models import (
    Invoice,
    InvoiceLine,
)
from billing.providers import ProviderError, get_provider
from gymsite.errors import ServiceError


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
