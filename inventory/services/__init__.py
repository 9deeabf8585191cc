"""State changes for retail, by topic (see docs/inventory.md):

- ``catalogue``: categories and products;
- ``stock``: the ledger, an order's claim on the shelf, deliveries, counts,
  adjustments, transfers, low-stock alerts;
- ``counters``: the conditional single-statement updates on the rows buyers race on
  (stock, a flash sale's units, a member's allowance);
- ``flash_sales``: creating, cancelling and buying (the one-statement purchase);
- ``orders``: building an order and its invoice; paying and collecting a held order;
- ``holds``: a held order's expiry, cancellation and payment (billing's paid hook);
- ``pos``: the front-desk till; ``day_passes``: the tickets a day pass grants;
- ``shop``: the member's cart and pickup orders; ``returns``: goods taken back.

Locks are taken in one order: a member's flash-sale allowance → product stock (by
pk) → flash sale → order. Nothing leaves the process while a lock is held: emails go
to the outbox. The public services are re-exported here:
``from inventory import services; services.pos_sale_create(...)``.
"""

from inventory.services.catalogue import category_create, product_archive, product_create
from inventory.services.checks import MAX_LINE_QUANTITY, MAX_STOCK_QUANTITY
from inventory.services.flash_sales import flash_sale_buy, flash_sale_cancel, flash_sale_create
from inventory.services.holds import (
    PaymentOutcome,
    order_cancel,
    order_expire,
    order_mark_paid,
    orders_expire_due,
)
from inventory.services.orders import (
    ORDER_SOURCE,
    ItemRequest,
    PricedLine,
    order_collect,
    order_pay_at_desk,
    order_pay_online,
)
from inventory.services.pos import pos_sale_create
from inventory.services.returns import order_line_return
from inventory.services.shop import (
    CART_LINE_LIMIT,
    SHOP_HOLD_MINUTES,
    cart_add,
    cart_set,
    shop_order_place,
)
from inventory.services.stock import stock_adjust, stock_count, stock_receive, stock_transfer

__all__ = [
    "CART_LINE_LIMIT",
    "MAX_LINE_QUANTITY",
    "MAX_STOCK_QUANTITY",
    "ORDER_SOURCE",
    "SHOP_HOLD_MINUTES",
    "ItemRequest",
    "PaymentOutcome",
    "PricedLine",
    "cart_add",
    "cart_set",
    "category_create",
    "flash_sale_buy",
    "flash_sale_cancel",
    "flash_sale_create",
    "order_cancel",
    "order_collect",
    "order_expire",
    "order_line_return",
    "order_mark_paid",
    "order_pay_at_desk",
    "order_pay_online",
    "orders_expire_due",
    "pos_sale_create",
    "product_archive",
    "product_create",
    "shop_order_place",
    "stock_adjust",
    "stock_count",
    "stock_receive",
    "stock_transfer",
]
