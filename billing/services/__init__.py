"""Billing state changes: invoices, account charges, payments, refunds, credit notes,
and automatic collection with dunning.

Contracts other apps rely on (see docs/billing.md): ``InvoiceLineSpec``,
``invoice_issue``, ``member_charge_add``, ``payment_record``, ``invoice_paid_handler``.

Lock order (docs/architecture.md): the rows a paid handler will change (memberships,
orders: taken first through the handler's ``lock`` hook) → invoice → payment.
No provider call is made inside a transaction.
"""

from billing.services.charges import (  # noqa: F401
    account_charges_bill_stale,
    account_charges_invoice,
    member_charge_add,
    member_charge_cancel,
)
from billing.services.collection import (  # noqa: F401
    COLLECTION_LEASE,
    DEFAULT_DUNNING_RETRY_DAYS,
    default_payment_method,
    dunning_retry_days,
    invoice_charge,
    invoice_collect,
    invoice_collection_prepare,
    invoices_collect_due,
    payment_attempt_complete,
)
from billing.services.handlers import (  # noqa: F401
    _paid_handlers,
    invoice_paid_handler,
    invoice_payment_failed_handler,
    invoice_voided_handler,
)
from billing.services.invoices import (  # noqa: F401
    InvoiceLineSpec,
    invoice_issue,
    invoice_mark_uncollectible,
    invoice_void,
)
from billing.services.payments import (  # noqa: F401
    payment_method_remove,
    payment_method_save,
    payment_record,
)
from billing.services.refunds import (  # noqa: F401
    _deliver_refund,
    credit_note_issue,
    refund_complete,
    refund_create,
)
