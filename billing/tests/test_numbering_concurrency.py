"""Invoice numbers never repeat or skip, even with many issuers at once."""

import contextlib
import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tenancy import tenant_scope
from billing.models import Invoice
from billing.services import InvoiceLineSpec, invoice_issue
from gymsite.errors import ServiceError

THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_distinct_gapless_numbers(gym, branch, payer):
    # given: 20 threads released at the same instant, some of which fail validation
    barrier = threading.Barrier(THREADS)
    errors = []

    def issue(index):
        try:
            with tenant_scope(gym):
                barrier.wait()
                price = Decimal("-1") if index % 5 == 0 else Decimal("10")
                with contextlib.suppress(ServiceError):
                    invoice_issue(
                        payer=payer,
                        branch=branch,
                        lines=[InvoiceLineSpec(description="Pass", quantity=1, unit_price=price)],
                    )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(THREADS)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: 16 invoices numbered exactly 1..16
    assert errors == []
    with tenant_scope(gym):
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, THREADS - THREADS // 5 + 1))


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_with_same_billing_key_make_one_invoice(gym, branch, payer):
    barrier = threading.Barrier(10)
    results = []

    def issue():
        try:
            with tenant_scope(gym):
                barrier.wait()
                results.append(
                    invoice_issue(
                        payer=payer,
                        branch=branch,
                        lines=[InvoiceLineSpec(description="Renewal", quantity=1, unit_price=10)],
                        billing_key="membership-1-2030-02-01",
                    ).pk
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10 and len(set(results)) == 1
    with tenant_scope(gym):
        assert list(Invoice.objects.values_list("number", flat=True)) == [1]
